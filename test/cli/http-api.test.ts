import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDir } from '../helpers.js';
import { startDaemon } from './berth-cli.js';

const openapi = JSON.parse(readFileSync(new URL('../../src/cli/api/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};

interface Curl {
  status: number;
  body: string;
}

/** The operation of openapi.json that a request path falls under: `/containers/web/start?x` → `/containers/{id}/start`. */
function documentedPath(path: string): string | undefined {
  const parts = path.split('?')[0]!.split('/');
  return Object.keys(openapi.paths).find((pattern) => {
    const want = pattern.split('/');
    return want.length === parts.length && want.every((segment, i) => segment.startsWith('{') || segment === parts[i]);
  });
}

/** `curl --unix-socket`, as a user would script it; every answer's status must be one openapi.json lists for its operation. */
function curl(socket: string, method: string, path: string, options: { body?: unknown; headers?: string[] } = {}): Promise<Curl> {
  const args = ['-sS', '--unix-socket', socket, '-X', method, '-w', '\n%{http_code}', `http://berth${path}`];
  if (options.body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(options.body));
  for (const header of options.headers ?? []) args.push('-H', header);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.lastIndexOf('\n');
      const answer = { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
      const operation = openapi.paths[documentedPath(path) ?? '']?.[method.toLowerCase()];
      expect(operation?.responses[String(answer.status)], `${method} ${path} answered ${answer.status}, which openapi.json does not list`).toBeDefined();
      resolve(answer);
    });
  });
}

const json = (answer: Curl): unknown => JSON.parse(answer.body);

interface Sse {
  id?: string;
  event: string;
  data: unknown;
}

function parseSse(text: string): Sse[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: Sse = { event: 'message', data: undefined };
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(': ');
        if (field === 'id') event.id = rest.join(': ');
        if (field === 'event') event.event = rest.join(': ');
        if (field === 'data') event.data = JSON.parse(rest.join(': '));
      }
      return event;
    });
}

/** A `curl -N` that keeps reading a stream; `text()` is what it has printed so far. */
function follow(socket: string, path: string, headers: string[] = []): { text: () => string; stop: () => void } {
  const child = spawn('curl', ['-sSN', '--unix-socket', socket, ...headers.flatMap((h) => ['-H', h]), `http://berth${path}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8'); // a character split across reads stays whole
  child.stdout.on('data', (chunk: string) => (out += chunk));
  const stop = () => void child.kill();
  onCleanup(stop);
  return { text: () => out, stop };
}

describe('the daemon HTTP API, with curl --unix-socket', () => {
  it('create, start, exec, wait, logs, pause, resume, kill, delete, and errors as { code, message } with their statuses', async () => {
    const dir = tempDir();
    await startDaemon(dir);
    const sock = join(dir, 'berth.sock');
    expect(json(await curl(sock, 'GET', '/openapi.json'))).toEqual(openapi);
    expect(json(await curl(sock, 'GET', '/containers'))).toEqual([]);

    const spec = { id: 'web', labels: { team: 'ci' }, process: { args: ['sh', '-c', 'echo up; trap "exit 0" TERM; while :; do sleep 0.05; done'] } };
    const created = await curl(sock, 'POST', '/containers', { body: spec });
    expect(created.status).toBe(201);
    expect(json(created)).toMatchObject({ id: 'web', status: 'created', labels: { team: 'ci' }, processes: [{ id: 'init', status: 'created' }] });
    expect(await curl(sock, 'POST', '/containers', { body: spec })).toEqual({ status: 409, body: '{"code":"already-exists","message":"container web already exists"}' });

    const started = await curl(sock, 'POST', '/containers/web/start');
    expect(started.status).toBe(200);
    expect(json(started)).toEqual({ pid: expect.any(Number) });
    expect(json(await curl(sock, 'POST', '/containers/web/start'))).toMatchObject({ code: 'invalid-state' });

    const exec = await curl(sock, 'POST', '/containers/web/exec', { body: { execId: 'greet', args: ['sh', '-c', 'echo hi; exit 5'] } });
    expect(exec.status).toBe(201);
    expect(json(await curl(sock, 'POST', '/containers/web/wait?process=greet'))).toMatchObject({ status: 5, exitedAt: expect.any(String) });
    expect(await curl(sock, 'GET', '/containers/web/logs?process=greet')).toEqual({ status: 200, body: 'hi\n' });
    expect(await curl(sock, 'GET', '/containers/web/logs?tailBytes=3')).toEqual({ status: 200, body: 'up\n' });

    expect((await curl(sock, 'POST', '/containers/web/pause')).status).toBe(204);
    expect(json(await curl(sock, 'GET', '/containers/web'))).toMatchObject({ status: 'paused' });
    expect((await curl(sock, 'POST', '/containers/web/resume')).status).toBe(204);

    // Errors, each with its status and code.
    const errors: [string, string, unknown, number, string][] = [
      ['GET', '/containers/nope', undefined, 404, 'not-found'],
      ['GET', '/containers/web/logs?process=nope', undefined, 404, 'not-found'],
      ['POST', '/containers/web/kill', { signal: 'SIGNOPE' }, 400, 'invalid-signal'],
      ['POST', '/containers/web/kill', { signal: 'TERM', reason: 'x' }, 400, 'invalid-spec'],
      ['POST', '/containers', { id: '../etc', process: { args: ['true'] } }, 400, 'invalid-id'],
      ['POST', '/containers', { id: 'x', process: { args: [] } }, 400, 'invalid-spec'],
      ['DELETE', '/containers/web', undefined, 409, 'invalid-state'],
      ['POST', '/containers/web/exec', { execId: 'init', args: ['true'] }, 400, 'invalid-id'],
      ['GET', '/events?id=nope!', undefined, 400, 'invalid-id'],
      ['GET', '/containers/web/logs?follow=true&tailBytes=1', undefined, 400, 'invalid-spec'],
    ];
    for (const [method, path, body, status, code] of errors) {
      const answer = await curl(sock, method, path, { body });
      expect({ method, path, status: answer.status, body: json(answer) }).toEqual({ method, path, status, body: { code, message: expect.any(String) } });
    }

    expect((await curl(sock, 'POST', '/containers/web/kill', { body: { signal: 'SIGTERM' } })).status).toBe(204);
    expect(json(await curl(sock, 'POST', '/containers/web/wait'))).toMatchObject({ status: 0 });
    expect((await curl(sock, 'DELETE', '/containers/web')).status).toBe(204);
    expect(json(await curl(sock, 'GET', '/containers'))).toEqual([]);

    // stop and delete?force=true on a live one.
    await curl(sock, 'POST', '/containers', { body: { id: 'sleepy', process: { args: ['sleep', '300'] } } });
    await curl(sock, 'POST', '/containers/sleepy/start');
    expect(json(await curl(sock, 'POST', '/containers/sleepy/stop', { body: { signal: 'SIGKILL', timeoutMs: 1000 } }))).toMatchObject({ status: 137, signal: 'SIGKILL' });
    await curl(sock, 'POST', '/containers', { body: { id: 'live', process: { args: ['sleep', '300'] } } });
    await curl(sock, 'POST', '/containers/live/start');
    expect((await curl(sock, 'DELETE', '/containers/live?force=true')).status).toBe(204);
  }, 120_000);

  it('events as Server-Sent Events: replayed, resumed with Last-Event-ID, followed live', async () => {
    const dir = tempDir();
    await startDaemon(dir);
    const sock = join(dir, 'berth.sock');
    await curl(sock, 'POST', '/containers', { body: { id: 'c1', process: { args: ['sh', '-c', 'exit 2'] } } });
    await curl(sock, 'POST', '/containers/c1/start');
    await curl(sock, 'POST', '/containers/c1/wait');

    const all = await curl(sock, 'GET', '/events');
    expect(all.status).toBe(200);
    const rows = parseSse(all.body);
    expect(rows.map((e) => [e.id, e.event, (e.data as { type?: string }).type])).toEqual([
      ['1', 'message', 'create'],
      ['2', 'message', 'start-container'],
      ['3', 'message', 'exit'],
      [undefined, 'end', undefined],
    ]);
    expect(rows[2]!.data).toMatchObject({ seq: 3, id: 'c1', processId: 'init', status: 2 });

    // A client that comes back with the last id it saw gets the rows after it, and only those.
    const resumed = parseSse((await curl(sock, 'GET', '/events', { headers: ['Last-Event-ID: 1'] })).body);
    expect(resumed.map((e) => e.id)).toEqual(['2', '3', undefined]);
    expect(parseSse((await curl(sock, 'GET', '/events?type=exit&id=c1')).body).map((e) => e.id)).toEqual(['3', undefined]);

    // Followed: the stored rows after the cursor, then live ones as they are journaled.
    const live = follow(sock, '/events?follow=true', ['Last-Event-ID: 2']);
    await expect.poll(() => parseSse(live.text()).map((e) => e.id), { timeout: 30_000 }).toEqual(['3']);
    expect((await curl(sock, 'DELETE', '/containers/c1')).status).toBe(204);
    await expect.poll(() => parseSse(live.text()).map((e) => e.id), { timeout: 30_000 }).toEqual(['3', '4']);
    expect(parseSse(live.text())[1]!.data).toMatchObject({ type: 'delete', id: 'c1' });
    live.stop();
  }, 120_000);

  it('logs as Server-Sent Events: each piece with its log offset, resumed with Last-Event-ID without a gap or a repeat', async () => {
    const dir = tempDir();
    await startDaemon(dir);
    const sock = join(dir, 'berth.sock');
    const go = join(tempDir('berth-control-'), 'go');
    // Output that comes in two parts, the second only once told to: the € after 'half ' straddles them (its first byte, then the other two).
    const script = `printf 'one €\\nhalf \\342'; while [ ! -e '${go}' ]; do sleep 0.02; done; printf '\\202\\254 two\\n'; printf 'ü%.0s' $(seq 1 3000)`;
    await curl(sock, 'POST', '/containers', { body: { id: 'talker', process: { args: ['sh', '-c', script] } } });
    await curl(sock, 'POST', '/containers/talker/start');

    const first = follow(sock, '/containers/talker/logs?follow=true');
    await expect.poll(() => parseSse(first.text()).map((e) => e.data).join(''), { timeout: 30_000 }).toBe('one €\nhalf ');
    first.stop();
    const seen = parseSse(first.text());
    const lastId = seen.at(-1)!.id!;
    expect(Number(lastId)).toBe(Buffer.byteLength('one €\nhalf ')); // the € begun is not sent yet, so not counted

    writeFileSync(go, '');
    const rest = follow(sock, '/containers/talker/logs?follow=true', [`Last-Event-ID: ${lastId}`]);
    await expect.poll(() => parseSse(rest.text()).at(-1)?.event, { timeout: 30_000 }).toBe('end');
    const later = parseSse(rest.text());
    const text = later.filter((e) => e.event === 'message').map((e) => e.data).join('');
    expect(text).toBe(`€ two\n${'ü'.repeat(3000)}`);
    // Every id is the offset just past the text up to it.
    let offset = Number(lastId);
    for (const event of later.filter((e) => e.event === 'message')) {
      offset += Buffer.byteLength(event.data as string);
      expect(Number(event.id)).toBe(offset);
    }
    expect(await curl(sock, 'GET', '/containers/talker/logs')).toEqual({ status: 200, body: `one €\nhalf € two\n${'ü'.repeat(3000)}` });
  }, 120_000);
});
