import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { readPublished } from './publisher-message.js';
import { RelayAccess, requestUrl } from './relay-access.js';
import { ReplayBuffer } from './replay-buffer.js';

/** visualizations/ of this package: the live viewer page and the statechart SVGs. */
const ASSETS = fileURLToPath(new URL('../../../visualizations/', import.meta.url));
const FILES: Record<string, [string, string]> = {
  '/viewer': ['live.html', 'text/html; charset=utf-8'],
  '/supervisor.svg': ['supervisor.svg', 'image/svg+xml'],
  '/container.svg': ['container.svg', 'image/svg+xml'],
  '/process.svg': ['process.svg', 'image/svg+xml'],
};
/** The pages carry the token in their address: it goes to no other site, not even as a Referer. */
const HEADERS = { 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
const STATUS_TEXT = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' } as const;

/** The largest message a client may send; an inspection event is a few KiB. */
const MAX_PAYLOAD = 1024 * 1024;
/** Connections at once, viewers and publishers together: each may hold a replay buffer. */
const MAX_CLIENTS = 64;
/** A viewer this far behind (bytes queued for it) is dropped rather than buffered for without end. */
const MAX_QUEUED = 16 * 1024 * 1024;
/** berth's own actors: every container and process that is live, so the bounds are generous. */
const OWN_LIMITS = { actors: 20_000, bytes: 64 * 1024 * 1024 };
/** Another publisher's actors, kept while it stays connected. */
const PUBLISHER_LIMITS = { actors: 1_000, bytes: 8 * 1024 * 1024 };
const JOURNAL_TAIL = 200;

export interface RelayOptions {
  /** Loopback unless said otherwise: inspection shows commands, environments and exit codes. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The hosted Stately inspector the bridge page embeds (needs internet in the viewing browser). */
  inspectorUrl?: string;
}

interface Message {
  type: string;
  sessionId?: string;
  snapshot?: { status?: unknown };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page `createInspectorServer` serves: an iframe of the Stately inspector, fed from this relay. */
function bridgePage(inspectorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>berth · Stately inspector</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="${escapeHtml(inspectorUrl)}"></iframe><script>
const iframe = document.getElementById('inspector'); const buffer = []; let connected = false;
window.addEventListener('message', (e) => { if (e.data && e.data.type === '@statelyai.connected') {
  connected = true; buffer.forEach((m) => iframe.contentWindow.postMessage(m, '*')); buffer.length = 0; } });
const ws = new WebSocket('ws://' + location.host + '/' + location.search);
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (connected) iframe.contentWindow.postMessage(m, '*'); else buffer.push(m); };
</script></body></html>`;
}

/** Ends a refused handshake with an HTTP status, as a server that speaks no WebSocket would. */
function refuse(socket: Duplex, status: keyof typeof STATUS_TEXT): void {
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The inspection relay: HTTP and WebSocket on one loopback port, speaking the
 * Stately inspector protocol (what `createInspectorServer` relays), plus berth's
 * own offline viewer at /viewer. Every page and the WebSocket need the relay's
 * token (see RelayAccess). A late joiner gets a compact replay: the registration
 * and latest snapshot of every live actor, and the journal tail.
 *
 * Other Stately inspectors may publish to it too. What they send is checked
 * (readPublished), bounded (MAX_PAYLOAD, a ReplayBuffer per connection, dropped
 * when it closes) and kept in a namespace of its own; nothing they send can
 * fail the supervisor.
 */
export class InspectorRelay {
  private readonly own = new ReplayBuffer(OWN_LIMITS);
  private readonly publishers = new Map<WebSocket, { prefix: string; replay: ReplayBuffer }>();
  private readonly journalTail: string[] = [];
  private connections = 0;
  private publisherCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    private readonly access: RelayAccess,
    private readonly inspectorUrl: string,
  ) {}

  static async start(options: RelayOptions = {}): Promise<InspectorRelay> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    server.unref(); // inspection never keeps the process alive
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    const access = new RelayAccess(`http://${host}:${port}`);
    const relay = new InspectorRelay(server, wss, access, options.inspectorUrl ?? 'https://stately.ai/inspect');
    server.on('request', (req, res) => relay.serve(req, res));
    server.on('upgrade', (req, socket, head) => relay.upgrade(req, socket, head));
    return relay;
  }

  /** The address of one of the relay's pages, its token included. */
  pageUrl(path: string): string {
    return this.access.pageUrl(path);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const refusal = this.access.refusal(req);
    if (refusal) {
      res.writeHead(refusal, HEADERS).end(STATUS_TEXT[refusal]);
      return;
    }
    const path = requestUrl(req)!.pathname; // it parsed: it carries the token
    if (path === '/') {
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(bridgePage(this.inspectorUrl));
      return;
    }
    const file = FILES[path];
    if (!file) {
      res.writeHead(404, HEADERS).end('not found');
      return;
    }
    readFile(ASSETS + file[0]).then(
      (body) => res.writeHead(200, { ...HEADERS, 'Content-Type': file[1] }).end(body),
      () => res.writeHead(500, HEADERS).end(`${file[0]} is missing from visualizations/`),
    );
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.access.upgradeRefusal(req) ?? (this.connections >= MAX_CLIENTS ? 503 : undefined);
    if (refusal) {
      refuse(socket, refusal);
      return;
    }
    this.connections++;
    socket.once('close', () => this.connections--);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.welcome(ws));
  }

  private welcome(ws: WebSocket): void {
    const replays = [this.own, ...[...this.publishers.values()].map((p) => p.replay)];
    for (const replay of replays) for (const message of replay.messages()) ws.send(message);
    for (const row of this.journalTail) ws.send(row);
    // Each connection publishes into a namespace of its own ("p3/x:0"): XState's own ids have no "/".
    const publisher = { prefix: `p${++this.publisherCount}/`, replay: new ReplayBuffer(PUBLISHER_LIMITS) };
    this.publishers.set(ws, publisher);
    ws.on('close', () => this.publishers.delete(ws));
    ws.on('error', () => undefined); // a frame past maxPayload, a broken frame: ws closes that client, the relay stays
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return; // the protocol is JSON text
      const message = readPublished(String(data), publisher.prefix);
      if (message) this.relay(publisher.replay, message, JSON.stringify(message), ws);
    });
  }

  /** Sends berth's own inspection event or journal row to every viewer. */
  broadcast(message: Message & object): void {
    const text = JSON.stringify(message);
    if (message.type === '@berth.journal') {
      this.journalTail.push(text);
      if (this.journalTail.length > JOURNAL_TAIL) this.journalTail.shift();
      this.send(text);
    } else this.relay(this.own, message, text);
  }

  /** `text` is `message` as sent on the wire: serialised once. */
  private relay(replay: ReplayBuffer, message: Message, text: string, from?: WebSocket): void {
    const { type, sessionId } = message;
    if (sessionId && type === '@xstate.actor') replay.keep(sessionId, 'actor', text);
    else if (sessionId && type === '@xstate.snapshot') {
      // A stopped actor (a deleted container) is not replayed to late joiners.
      const status = message.snapshot?.status;
      if (status === 'stopped' || status === 'done') replay.forget(sessionId);
      else replay.keep(sessionId, 'snapshot', text);
    }
    this.send(text, from);
  }

  private send(text: string, from?: WebSocket): void {
    for (const client of this.wss.clients) {
      if (client === from || client.readyState !== WebSocket.OPEN) continue;
      if (client.bufferedAmount > MAX_QUEUED) client.terminate();
      else client.send(text);
    }
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
