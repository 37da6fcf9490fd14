import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Supervisor } from '../src/index.js';
import { serveSocket } from '../src/cli/daemon.js';
import { SOCKET_NAME } from '../src/cli/socket-name.js';
import { openSupervisor, storedEvents, tempDir } from './helpers.js';
import { overSocket } from './support/socket-http.js';

const secret = () => `s-${randomBytes(8).toString('hex')}`;

/** Every line the supervisor's pino logger writes, at debug level. */
function capturedLogger() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }) };
}

/** Every message the inspector relay sends a viewer, from now on. */
async function relayMessages(sv: Supervisor): Promise<{ messages: string[]; close: () => void }> {
  const messages: string[] = [];
  const ws = new WebSocket(sv.inspectUrl!.replace(/^http/, 'ws'));
  ws.on('message', (data) => messages.push(String(data)));
  await new Promise((done, fail) => ws.once('open', done).once('error', fail));
  return { messages, close: () => ws.close() };
}

/** Sends daemon requests over the state dir's socket, one after another; resolves with every answer's status and body. */
async function daemonReplies(stateDir: string, requests: [method: string, path: string, body?: unknown][]): Promise<string[]> {
  const replies: string[] = [];
  // One at a time: a create must be journaled before the start that follows it.
  for (const [method, path, body] of requests) {
    const { status, body: text } = await overSocket(join(stateDir, SOCKET_NAME), method, path, body);
    replies.push(`${status} ${text}`);
  }
  return replies;
}

/** A container whose init and exec are given secrets through the daemon's socket; what they printed is checked. */
async function runWithSecrets(sv: Supervisor, initSecret: string, execSecret: string): Promise<string[]> {
  const stop = await serveSocket(sv, pino({ level: 'silent' }));
  try {
    const replies = await daemonReplies(sv.stateDir, [
      ['POST', '/containers', { id: 'job', process: { args: ['sh', '-c', 'env; exec sleep 30'], env: { TOKEN: initSecret } } }],
      ['POST', '/containers/job/start'],
      ['POST', '/containers/job/exec', { execId: 'probe', args: ['env'], env: { EXEC_TOKEN: execSecret } }],
      ['POST', '/containers/job/wait?process=probe'],
      ['GET', '/containers/job'],
      ['GET', '/containers'],
      ['GET', '/events?id=job'],
    ]);
    expect(replies.filter((line) => !/^20[01] /.test(line))).toEqual([]);
    // The secrets did reach the processes that were given them.
    expect(await sv.logs('job', 'probe')).toContain(`EXEC_TOKEN=${execSecret}`);
    await expect.poll(() => sv.logs('job')).toContain(`TOKEN=${initSecret}`);
    return replies;
  } finally {
    await stop();
  }
}

describe('redaction: env values never leave the supervisor unless asked', () => {
  it('no journal row, get(), list(), daemon reply, log line or inspector message carries an env value; names stay', async () => {
    const [initSecret, execSecret] = [secret(), secret()];
    const { lines, logger } = capturedLogger();
    const sv = await openSupervisor({ logger, inspect: true });
    const relay = await relayMessages(sv);
    const replies = await runWithSecrets(sv, initSecret, execSecret);
    await sv.delete('job', { force: true });
    await new Promise((done) => setTimeout(done, 200)); // the inspector converts events on the next idle turn
    relay.close();
    const rows = (await storedEvents(sv)).map((row) => JSON.stringify(row));
    const seen = { rows, replies, get: [JSON.stringify(sv.list())], logs: lines, inspector: relay.messages };
    for (const [channel, texts] of Object.entries(seen)) {
      expect(texts.length, channel).toBeGreaterThan(0);
      expect(texts.filter((text) => text.includes(initSecret) || text.includes(execSecret)), channel).toEqual([]);
    }
    // The specs did pass through the log (a create's) and the inspector (every one), names shown and values hidden.
    expect(lines.some((text) => text.includes('"TOKEN":"[redacted]"'))).toBe(true);
    expect(relay.messages.some((text) => text.includes('"TOKEN":"[redacted]"'))).toBe(true);
    expect(relay.messages.some((text) => text.includes('"EXEC_TOKEN":"[redacted]"'))).toBe(true);
  });

  it('with redact: false the log and the inspector show the values', async () => {
    const [initSecret, execSecret] = [secret(), secret()];
    const { lines, logger } = capturedLogger();
    const sv = await openSupervisor({ logger, inspect: true, redact: false });
    const relay = await relayMessages(sv);
    await runWithSecrets(sv, initSecret, execSecret);
    await new Promise((done) => setTimeout(done, 200));
    relay.close();
    expect(lines.some((line) => line.includes(`"TOKEN":"${initSecret}"`))).toBe(true);
    expect(relay.messages.some((text) => text.includes(`"TOKEN":"${initSecret}"`))).toBe(true);
    expect(relay.messages.some((text) => text.includes(`"EXEC_TOKEN":"${execSecret}"`))).toBe(true);
  });

  it('redact must be true or false', async () => {
    await expect(Supervisor.open({ stateDir: tempDir(), redact: 'no' as unknown as boolean })).rejects.toMatchObject({
      code: 'invalid-spec',
      message: 'redact must be true or false, not "no"',
    });
  });
});
