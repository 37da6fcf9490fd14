import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { berth, startDaemon, stopDaemon } from '../cli/berth-cli.js';
import { openSupervisor, tempDir } from '../helpers.js';

const TOGGLE_PUBLISHER = fileURLToPath(new URL('../support/toggle-publisher.ts', import.meta.url));

interface Relayed {
  type: string;
  sessionId?: string;
  definition?: string;
  event?: { type?: string };
}

/** The relay's WebSocket address from one of its page addresses (token included). */
const socketUrl = (pageUrl: string): string => {
  const url = new URL(pageUrl);
  return `ws://${url.host}/?token=${url.searchParams.get('token')}`;
};

/** A WebSocket client that keeps every message it receives, from the replay on, as text and parsed. */
async function listen(url: string): Promise<{ ws: WebSocket; texts: string[]; messages: () => Relayed[] }> {
  const ws = new WebSocket(url);
  const texts: string[] = [];
  const parsed: Relayed[] = [];
  ws.on('message', (data) => {
    texts.push(String(data));
    parsed.push(JSON.parse(String(data)) as Relayed);
  });
  await once(ws, 'open');
  return { ws, texts, messages: () => parsed };
}

const fakeActor = (i: number): string =>
  JSON.stringify({ type: '@xstate.actor', sessionId: `x:${i}`, name: `fake${i}`, definition: JSON.stringify({ id: 'fake', states: {} }), snapshot: { status: 'active', value: 'on' } });

/** A connection to the relay with nothing of HTTP said yet. */
async function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** What the relay answers to `request`, sent as raw bytes. */
async function rawRequest(url: string, request: string): Promise<string> {
  const socket = await rawSocket(url);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += String(chunk)));
  socket.write(request);
  await once(socket, 'close');
  return answer;
}

/** A WebSocket handshake by hand, then `frame` as raw bytes: what no well-behaved client sends. */
async function rawFrame(url: string, frame: Buffer): Promise<void> {
  const { host, pathname, search } = new URL(url);
  const socket = await rawSocket(url);
  socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await once(socket, 'data'); // 101 Switching Protocols
  socket.write(frame);
  await once(socket, 'close');
}

describe('what other publishers send the relay', () => {
  it('leaves the host alive and its replay bounded: null, non-JSON, binary, broken and oversized frames, unparsable addresses, forged rows, 20,000 fake actors', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir, '--inspect');
    try {
      const url = socketUrl((await berth(dir, 'viewer')).stdout.trim());
      const early = await listen(url);
      const publisher = await listen(url);
      for (const text of ['null', 'not json', '[]', '5', '"text"', '{"type":"@xstate.actor"}', '{"type":"@xstate.snapshot","sessionId":{"a":1}}', '{"type":"@xstate.event","sessionId":"x","event":null}']) publisher.ws.send(text);
      publisher.ws.send(JSON.stringify({ type: '@berth.journal', event: { seq: 1, type: 'exit', id: 'forged' } }));
      publisher.ws.send(Buffer.from('{"type":"@xstate.event","sessionId":"bin","event":{"type":"BINARY"}}'), { binary: true });
      for (let i = 0; i < 20_000; i++) publisher.ws.send(fakeActor(i));
      publisher.ws.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'LAST' } }));
      await expect.poll(() => early.messages().some((m) => m.event?.type === 'LAST'), { timeout: 20_000 }).toBe(true);

      // Fewer actors, but big ones: the replay is bounded in bytes too.
      const heavy = await listen(url);
      const padding = 'p'.repeat(900 * 1024);
      for (let i = 0; i < 16; i++) heavy.ws.send(JSON.stringify({ type: '@xstate.actor', sessionId: `x:${i}`, definition: JSON.stringify({ id: 'heavy', states: {}, padding }) }));
      heavy.ws.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'HEAVY' } }));
      await expect.poll(() => early.messages().some((m) => m.event?.type === 'HEAVY'), { timeout: 20_000 }).toBe(true);

      const oversized = await listen(url);
      oversized.ws.send('x'.repeat(2 * 1024 * 1024));
      expect((await once(oversized.ws, 'close'))[0]).toBe(1009); // message too big: that client goes
      await rawFrame(url, Buffer.from([0x83, 0x80, 0, 0, 0, 0])); // a reserved opcode
      await rawFrame(url, Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])); // a text frame that is not UTF-8
      for (const target of ['//[', 'http://[/']) {
        expect(await rawRequest(url, `GET ${target}?token=x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1.1 401/);
      }

      expect(daemon.exitCode).toBeNull();
      // What was relayed: only the well-formed events, the forged row and the binary frame not among them.
      const relayed = early.messages();
      expect(relayed.filter((m) => m.type === '@berth.journal')).toEqual([]);
      expect(relayed.some((m) => m.event?.type === 'BINARY')).toBe(false);
      const isFake = (m: Relayed) => m.type === '@xstate.actor' && m.definition?.includes('"fake"') === true;
      expect(relayed.filter(isFake)).toHaveLength(20_000);

      // A late joiner's replay holds a bounded part of them, not all 20,000.
      const late = await listen(url);
      // The replay is sent on joining, before anything live: once a live event arrives, it is all there.
      publisher.ws.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'AFTER_REPLAY' } }));
      await expect.poll(() => late.messages().some((m) => m.event?.type === 'AFTER_REPLAY'), { timeout: 20_000 }).toBe(true);
      const replayed = late.messages().filter(isFake);
      expect(replayed.length).toBeGreaterThan(0);
      expect(replayed.length).toBeLessThanOrEqual(1_000);
      const heavyBytes = late.texts.filter((t) => t.includes('heavy')).reduce((sum, t) => sum + t.length, 0);
      expect(heavyBytes).toBeGreaterThan(0);
      expect(heavyBytes).toBeLessThanOrEqual(8 * 1024 * 1024);

      // berth's own events still flow, to the viewer that saw the flood and to the late joiner.
      expect((await berth(dir, 'create', 'after', '--', 'true')).code).toBe(0);
      for (const viewer of [early, late]) {
        await expect.poll(() => viewer.messages().some((m) => m.type === '@berth.journal' && (m as { event?: { id?: string } }).event?.id === 'after'), { timeout: 10_000 }).toBe(true);
      }
      expect(daemon.exitCode).toBeNull();
      for (const client of [early, publisher, heavy, late]) client.ws.close();
    } finally {
      await stopDaemon(daemon);
    }
  }, 120_000);

  it("keeps another Stately publisher's actors apart from berth's: its root does not replace berth's", async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir, '--inspect');
    let publisher: ChildProcess | undefined;
    try {
      const url = socketUrl((await berth(dir, 'viewer')).stdout.trim());
      expect((await berth(dir, 'create', 'c1', '--', 'true')).code).toBe(0);
      const before = await listen(url);
      // Both number their actors from "x:0", each in its own process.
      publisher = spawn(process.execPath, ['--import', 'tsx', TOGGLE_PUBLISHER, url], { stdio: ['ignore', 'ignore', 'inherit'] });
      const machineOf = (m: Relayed) => (m.definition ? (JSON.parse(m.definition) as { id?: string }).id : undefined);
      const actors = (viewer: { messages: () => Relayed[] }) => viewer.messages().filter((m) => m.type === '@xstate.actor');
      await expect.poll(() => actors(before).map(machineOf), { timeout: 20_000 }).toContain('toggle');
      // The toggle's snapshot after TOGGLE reached the viewers too.
      await expect.poll(() => before.messages().some((m) => m.type === '@xstate.snapshot' && JSON.stringify(m).includes('"on"'))).toBe(true);

      const late = await listen(url);
      await expect.poll(() => actors(late).map(machineOf)).toEqual(expect.arrayContaining(['supervisor', 'container', 'toggle']));
      for (const viewer of [before, late]) {
        const berthIds = new Set(actors(viewer).filter((m) => machineOf(m) !== 'toggle').map((m) => m.sessionId));
        expect(berthIds.has('x:0')).toBe(true); // berth's root keeps its id
        expect(actors(viewer).filter((m) => m.sessionId === 'x:0').map(machineOf)).toEqual(['supervisor']);
        // No message from the toggle's program names one of berth's actors.
        const fromToggle = viewer.messages().filter((m) => m.type.startsWith('@xstate.') && (machineOf(m) === 'toggle' || JSON.stringify(m).includes('TOGGLE')));
        expect(fromToggle.length).toBeGreaterThan(0);
        for (const m of fromToggle) expect(berthIds.has(m.sessionId!)).toBe(false);
      }
      before.ws.close();
      late.ws.close();
    } finally {
      publisher?.kill();
      await stopDaemon(daemon);
    }
  }, 120_000);

  // Redacting env values is the supervisor's (its inspector's serializer); the relay adds nothing of its own.
  it('sends no env value in any message, live or replayed', async () => {
    const sv = await openSupervisor({ inspect: true });
    const url = socketUrl(sv.viewerUrl!);
    const live = await listen(url);
    await sv.create({ id: 'c1', process: { args: ['sh', '-c', 'sleep 5'], env: { X: 'secret-value' } } });
    await sv.start('c1');
    await sv.exec('c1', { execId: 'e1', args: ['true'], env: { Y: 'other-secret' } });
    await sv.wait('c1', 'e1');
    const late = await listen(url);
    await expect.poll(() => late.messages().some((m) => m.type === '@berth.journal')).toBe(true);
    await expect.poll(() => live.texts.some((t) => t.includes('"e1"') && t.includes('exit'))).toBe(true);
    for (const text of [...live.texts, ...late.texts]) {
      expect(text).not.toContain('secret-value');
      expect(text).not.toContain('other-secret');
    }
    live.ws.close();
    late.ws.close();
  });
});
