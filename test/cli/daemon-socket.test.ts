import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { overSocket } from '../support/socket-http.js';
import { berth, startDaemon, stopDaemon } from './berth-cli.js';

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `pieces` to the daemon as raw bytes, each in its own write `gapMs`
 * apart, and collects what comes back until the daemon closes the connection
 * (or `untilText` has come).
 */
async function raw(path: string, pieces: (string | Buffer)[], untilText?: string, gapMs = 20): Promise<{ text: string; closed: boolean }> {
  const socket = await connected(path);
  let text = '';
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (untilText !== undefined && text.includes(untilText)) resolve();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve();
    });
  });
  for (const piece of pieces) {
    if (socket.destroyed) break;
    socket.write(piece);
    await pause(gapMs);
  }
  await done;
  socket.destroy();
  return { text, closed };
}

/** A well-behaved client's list, answered correctly: the daemon survived whatever came before. */
async function expectServing(path: string, daemon: ChildProcess): Promise<void> {
  expect(daemon.exitCode).toBeNull();
  expect(await overSocket(path, 'GET', '/containers')).toMatchObject({ status: 200, body: '[]' });
}

let daemons: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(daemons.map(stopDaemon));
  daemons = [];
});

async function daemonAt(dir: string): Promise<{ daemon: ChildProcess; path: string }> {
  const daemon = await startDaemon(dir);
  daemons.push(daemon);
  return { daemon, path: join(dir, 'berth.sock') };
}

describe('berth daemon under hostile clients', () => {
  it('answers every malformed request with its error and stays up for the next client', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    const cases: [string, method: string, url: string, body: string | Buffer | undefined, status: number, code: string][] = [
      ['not JSON', 'POST', '/containers', 'this is not json', 400, 'invalid-spec'],
      ['null', 'POST', '/containers', 'null', 400, 'invalid-spec'],
      ['an array', 'POST', '/containers', '[1,2,3]', 400, 'invalid-spec'],
      ['a number', 'POST', '/containers', '42', 400, 'invalid-spec'],
      ['an unknown path', 'GET', '/nope', undefined, 404, 'not-found'],
      ['a name from the prototype', 'GET', '/containers/__proto__', undefined, 400, 'invalid-id'],
      ['a path from the prototype', 'GET', '/constructor', undefined, 404, 'not-found'],
      ['a method not served there', 'PUT', '/containers', '{}', 405, 'unsupported'],
      ['a number for an id', 'POST', '/containers', '{"id":42,"process":{"args":["true"]}}', 400, 'invalid-spec'],
      ['a string for args', 'POST', '/containers/c/exec', '{"execId":"e","args":"sh"}', 400, 'invalid-spec'],
      ['a body where none is taken', 'POST', '/containers/c/start', '{"now":true}', 400, 'invalid-spec'],
      ['an unknown field', 'POST', '/containers', '{"id":"c","process":{"args":["true"]},"privileged":true}', 400, 'invalid-spec'],
      ['an unknown query parameter', 'DELETE', '/containers/c?recursive=true', undefined, 400, 'invalid-spec'],
      ['a bad cursor', 'GET', '/events?after=-1', undefined, 400, 'invalid-spec'],
      ['a bad event type', 'GET', '/events?type=boom', undefined, 400, 'invalid-spec'],
      ['a bad Last-Event-ID', 'GET', '/events', undefined, 400, 'invalid-spec'],
      ['bad percent-encoding', 'GET', '/containers/%E0%A4%A', undefined, 400, 'invalid-id'],
      ['an unknown container', 'POST', '/containers/ghost/start', undefined, 404, 'not-found'],
      ['invalid UTF-8', 'POST', '/containers', Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400, 'invalid-spec'],
    ];
    for (const [what, method, url, body, status, code] of cases) {
      const headers: Record<string, string> = what === 'a bad Last-Event-ID' ? { 'last-event-id': 'seven' } : {};
      const answer = await overSocket(path, method, url, body, headers);
      expect({ what, status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ what, status, code });
      expect(answer.headers['content-type']).toBe('application/json');
      await expectServing(path, daemon);
    }
    // The Supervisor's own check, reached with the id decoded whole: it names the id it refused.
    const euro = await overSocket(path, 'GET', `/containers/${encodeURIComponent('€')}`);
    expect(euro).toMatchObject({ status: 400, body: expect.stringContaining('id \\"€\\" may only contain') });
  }, 120_000);

  it('answers what is not HTTP with 400 and closes that connection', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    for (const garbage of ['this is not http\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /containers HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', '\x00\x01\x02\r\n\r\n']) {
      const { text, closed } = await raw(path, [garbage]);
      expect(closed, JSON.stringify(garbage)).toBe(true);
      expect(text, JSON.stringify(garbage)).toMatch(/^HTTP\/1\.1 400 /);
      await expectServing(path, daemon);
    }
  });

  it('survives random bytes', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), async (bytes, asRequestBody) => {
        const socket = await connected(path);
        socket.on('error', () => undefined);
        socket.resume();
        const head = asRequestBody ? Buffer.from(`POST /containers HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\n\r\n`) : Buffer.alloc(0);
        socket.end(Buffer.concat([head, bytes, Buffer.from('\r\n\r\n')]));
        await new Promise((done) => socket.once('close', done));
        await expectServing(path, daemon);
      }),
      { numRuns: 60 },
    );
  });

  it('reads a body under 1 MiB whole, sent in pieces; answers a larger one with 413 and closes its connection without reading it', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    const long = JSON.stringify({ id: 'a'.repeat(900 * 1024), process: { args: ['true'] } });
    const request = `POST /containers HTTP/1.1\r\nHost: x\r\nContent-Length: ${long.length}\r\n\r\n${long}`;
    const { text } = await raw(path, request.match(/[^]{1,4096}/g)!, '}', 1);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"invalid-id"');
    expect(text).toContain('longer than 64');
    // Declared too large: refused before a byte of it is read.
    const declared = await raw(path, [`POST /containers HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 ** 40}\r\n\r\n`]);
    expect(declared.closed).toBe(true);
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 [^]*"code":"too-large"/);
    // Chunked, with no length given: cut off once it passes the limit.
    const chunk = `1000\r\n${'x'.repeat(4096)}\r\n`;
    const chunked = await raw(path, ['POST /containers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array.from({ length: 600 }, () => chunk)], undefined, 1);
    expect(chunked.closed).toBe(true);
    expect(chunked.text).toMatch(/^HTTP\/1\.1 413 [^]*1048576 bytes/);
    await expectServing(path, daemon);
  });

  it('cuts off clients that send their headers too slowly (slowloris), and serves others meanwhile', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    const slow = await Promise.all(Array.from({ length: 50 }, () => connected(path)));
    const closedAt: number[] = [];
    const began = Date.now();
    for (const socket of slow) {
      socket.on('error', () => undefined);
      socket.on('close', () => closedAt.push(Date.now() - began));
      socket.write('GET /containers HTTP/1.1\r\n');
    }
    // A header line every second, never the blank line that ends them.
    const drip = setInterval(() => {
      for (const socket of slow) if (!socket.destroyed) socket.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 1000);
    try {
      for (let i = 0; i < 3; i++) {
        await expectServing(path, daemon);
        await pause(500);
      }
      await expect.poll(() => closedAt.length, { timeout: 60_000, interval: 500 }).toBe(slow.length);
    } finally {
      clearInterval(drip);
      for (const socket of slow) socket.destroy();
    }
    await expectServing(path, daemon);
  }, 90_000);

  it('berth logs through the daemon carries 20,000 lines of € intact', async () => {
    const dir = tempDir();
    await daemonAt(dir);
    // Three alignments of the same text, so that wherever the reply is cut into reads, some cut falls inside a €.
    for (const lead of ['', 'a', 'ab']) {
      const script = `printf '${lead}'; i=0; while [ $i -lt 20000 ]; do echo €; i=$((i+1)); done`;
      expect((await berth(dir, 'run', `euro${lead.length}`, '--', 'sh', '-c', script)).code).toBe(0); // returns once it has exited
      const logs = await berth(dir, 'logs', `euro${lead.length}`);
      expect(logs.code).toBe(0);
      expect(logs.stdout.slice(lead.length) === '€\n'.repeat(20_000), `lead ${JSON.stringify(lead)}`).toBe(true);
    }
  }, 120_000);
});

const rssBytes = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('berth daemon and clients that do not read', () => {
  it('a client that never reads its answers costs bounded memory, and others are served meanwhile', async () => {
    const dir = tempDir();
    const { daemon, path } = await daemonAt(dir);
    // 256 KiB of output: each logs answer is that big.
    expect((await berth(dir, 'run', 'big', '--', 'sh', '-c', "head -c 262144 /dev/zero | tr '\\0' x")).code).toBe(0);
    const before = rssBytes(daemon.pid!);
    const hog = await connected(path);
    hog.on('error', () => undefined);
    hog.pause(); // never reads
    // 1,200 pipelined requests for 256 KiB each: 300 MB if the daemon answered them all into memory.
    hog.write('GET /containers/big/logs HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1200));
    let peak = before;
    for (let i = 0; i < 30; i++) {
      await pause(100);
      peak = Math.max(peak, rssBytes(daemon.pid!));
    }
    expect((await berth(dir, '--json', 'ps')).stdout).toContain('"big"');
    expect(await overSocket(path, 'GET', '/containers/big')).toMatchObject({ status: 200, body: expect.stringContaining('"status":"exited"') });
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    hog.destroy();
  }, 120_000);
});
