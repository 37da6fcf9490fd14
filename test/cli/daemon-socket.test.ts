import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { berth, startDaemon, stopDaemon } from './berth-cli.js';

interface Reply {
  id: number | null;
  result?: unknown;
  error?: { code: string; message: string };
  event?: { seq: number };
  end?: true;
}

const request = (id: number, method: string, params: unknown[] = []) => `${JSON.stringify({ id, method, params })}\n`;
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `pieces` to the daemon, each in its own write `gapMs` apart (so they
 * arrive as separate reads), and collects reply lines until `count` have come or
 * the daemon closes the connection.
 */
async function converse(path: string, pieces: (string | Buffer)[], count: number, gapMs = 20): Promise<{ replies: Reply[]; closed: boolean }> {
  const socket = await connected(path);
  let received = Buffer.alloc(0);
  const replies: Reply[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let newline: number;
      while ((newline = received.indexOf(10)) >= 0) {
        replies.push(JSON.parse(received.subarray(0, newline).toString('utf8')) as Reply);
        received = received.subarray(newline + 1);
      }
      if (replies.length >= count) resolve();
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
  return { replies, closed };
}

/** A well-behaved client's `list`, answered correctly: the daemon survived whatever came before. */
async function expectServing(path: string, daemon: ChildProcess): Promise<void> {
  expect(daemon.exitCode).toBeNull();
  const { replies } = await converse(path, [request(1, 'list')], 1);
  expect(replies).toEqual([{ id: 1, result: [] }]);
}

const invalid = (id: number | null) => ({ id, error: { code: 'invalid-spec', message: expect.any(String) } });

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
  it('answers every malformed request with an error and stays up for the next client', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    const euro = Buffer.from(request(8, 'get', ['€']));
    const split = euro.indexOf(Buffer.from('€')) + 1; // inside the character's three bytes
    const abuses: [string, (string | Buffer)[], Reply[]][] = [
      ['not JSON', ['this is not json\n'], [invalid(null)]],
      ['null', ['null\n'], [invalid(null)]],
      ['an array', ['[1,2,3]\n'], [invalid(null)]],
      ['a number', ['42\n'], [invalid(null)]],
      ['no integer id', ['{"id":"x","method":"list","params":[]}\n'], [invalid(null)]],
      ['an unknown method', [request(2, 'nope')], [invalid(2)]],
      ['a method from the prototype', [request(3, '__proto__'), request(4, 'constructor')], [invalid(3), invalid(4)]],
      ['a number for an id', [request(5, 'start', [42])], [invalid(5)]],
      ['a string for args', [request(6, 'exec', ['c', { execId: 'e', args: 'sh' }])], [invalid(6)]],
      ['params that are not a list', ['{"id":7,"method":"list","params":"x"}\n'], [invalid(7)]],
      ['a number for a query', [request(9, 'events', [5])], [invalid(9)]],
      ['an unknown field', [request(10, 'delete', ['c', { force: true, recursive: true }])], [invalid(10)]],
      ['too many arguments', [request(11, 'list', [1])], [invalid(11)]],
      ['invalid UTF-8', [Buffer.concat([Buffer.from('{"id":12,"method":"get","params":["'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}\n')])], [invalid(null)]],
      // The Supervisor's own check, reached with the character whole: it names the id it refused.
      ['a character split across writes', [euro.subarray(0, split), euro.subarray(split)], [{ id: 8, error: { code: 'invalid-id', message: expect.stringContaining('"€"') } }]],
    ];
    for (const [what, pieces, expected] of abuses) {
      const { replies } = await converse(path, pieces, expected.length);
      expect(replies, what).toEqual(expected);
      await expectServing(path, daemon);
    }
  });

  it('survives random bytes', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const socket = await connected(path);
        socket.on('error', () => undefined);
        socket.resume();
        socket.end(Buffer.concat([bytes, Buffer.from('\n')]));
        await new Promise((done) => socket.once('close', done));
        await expectServing(path, daemon);
      }),
      { numRuns: 40 },
    );
  });

  it('answers a line over 1 MiB with an error and closes that connection; a long line under it is read whole', async () => {
    const { daemon, path } = await daemonAt(tempDir());
    const long = `{"id":1,"method":"get","params":["${'a'.repeat(900 * 1024)}"]}\n`;
    const pieces = long.match(/[^]{1,4096}/g)!;
    const { replies: whole } = await converse(path, pieces, 1, 1);
    expect(whole).toEqual([{ id: 1, error: { code: 'invalid-id', message: expect.stringContaining('longer than 64') } }]);
    const over = 'x'.repeat(4096);
    const { replies, closed } = await converse(path, Array.from({ length: 600 }, () => over), 2, 1);
    expect(closed).toBe(true);
    expect(replies).toEqual([invalid(null)]);
    expect(replies[0]!.error!.message).toContain('1048576 bytes');
    await expectServing(path, daemon);
  });

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
  it("a client that never reads its replies costs bounded memory, and others are served meanwhile", async () => {
    const dir = tempDir();
    const { daemon, path } = await daemonAt(dir);
    // 256 KiB of output: each `logs` reply is that big.
    expect((await berth(dir, 'run', 'big', '--', 'sh', '-c', "head -c 262144 /dev/zero | tr '\\0' x")).code).toBe(0);
    const before = rssBytes(daemon.pid!);
    const hog = await connected(path);
    hog.on('error', () => undefined);
    hog.pause(); // never reads
    // 1,200 replies of 256 KiB each: 300 MB if the daemon buffered them all.
    hog.write(Array.from({ length: 1200 }, (_, i) => request(i + 1, 'logs', ['big'])).join(''));
    let peak = before;
    for (let i = 0; i < 30; i++) {
      await pause(100);
      peak = Math.max(peak, rssBytes(daemon.pid!));
    }
    expect((await berth(dir, '--json', 'ps')).stdout).toContain('"big"');
    const { replies } = await converse(path, [request(1, 'get', ['big'])], 1);
    expect(replies[0]).toMatchObject({ id: 1, result: { id: 'big', status: 'exited' } });
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    hog.destroy();
  }, 120_000);

  it('an events stream that falls behind is taken up again where it stopped: every row, in order, once', async () => {
    const dir = tempDir();
    const { path } = await daemonAt(dir);
    const containers = 50;
    const creates = Array.from({ length: containers }, (_, i) => request(i + 1, 'create', [{ id: `c${i}`, process: { args: ['true'] } }]));
    expect((await converse(path, creates, containers)).replies.every((r) => r.result === null)).toBe(true);
    const starts = Array.from({ length: containers }, (_, i) => request(i + 1, 'start', [`c${i}`]));
    expect((await converse(path, starts, containers)).replies.every((r) => r.error === undefined)).toBe(true);
    const waits = Array.from({ length: containers }, (_, i) => request(i + 1, 'wait', [`c${i}`]));
    await converse(path, waits, containers);
    const rows = containers * 3; // create, start-container, exit

    // Sixteen replays on one connection, left unread until the daemon has had to stop feeding them.
    const streams = 16;
    const reader = await connected(path);
    reader.pause();
    reader.write(Array.from({ length: streams }, (_, i) => request(i + 1, 'events', [{ after: 0, storedOnly: true }])).join(''));
    await pause(1000);
    const { replies } = await new Promise<{ replies: Reply[] }>((resolve) => {
      let received = Buffer.alloc(0);
      const got: Reply[] = [];
      let ended = 0;
      reader.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        let newline: number;
        while ((newline = received.indexOf(10)) >= 0) {
          const reply = JSON.parse(received.subarray(0, newline).toString('utf8')) as Reply;
          received = received.subarray(newline + 1);
          got.push(reply);
          if (reply.end && ++ended === streams) resolve({ replies: got });
        }
      });
      reader.resume();
    });
    reader.destroy();
    for (let id = 1; id <= streams; id++) {
      const seqs = replies.filter((r) => r.id === id && r.event).map((r) => r.event!.seq);
      expect(seqs).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    }
    expect(replies.filter((r) => r.error)).toEqual([]);
  }, 120_000);
});
