import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

/** visualizations/ of this package: the live viewer page and the statechart SVGs. */
const ASSETS = fileURLToPath(new URL('../../../visualizations/', import.meta.url));
const FILES: Record<string, [string, string]> = {
  '/viewer': ['live.html', 'text/html; charset=utf-8'],
  '/supervisor.svg': ['supervisor.svg', 'image/svg+xml'],
  '/container.svg': ['container.svg', 'image/svg+xml'],
  '/process.svg': ['process.svg', 'image/svg+xml'],
};

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
}

/** The page `createInspectorServer` serves: an iframe of the Stately inspector, fed from this relay. */
function bridgePage(inspectorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>berth · Stately inspector</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe><script>
const iframe = document.getElementById('inspector'); const buffer = []; let connected = false;
window.addEventListener('message', (e) => { if (e.data && e.data.type === '@statelyai.connected') {
  connected = true; buffer.forEach((m) => iframe.contentWindow.postMessage(m, '*')); buffer.length = 0; } });
const ws = new WebSocket('ws://' + location.host);
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (connected) iframe.contentWindow.postMessage(m, '*'); else buffer.push(m); };
</script></body></html>`;
}

/**
 * The inspection relay: HTTP and WebSocket on one loopback port, speaking the
 * Stately inspector protocol (what `createInspectorServer` relays), plus berth's
 * own offline viewer at /viewer. A late joiner gets a compact replay: the
 * registration and latest snapshot of every live actor, and the journal tail.
 */
export class InspectorRelay {
  private readonly actors = new Map<string, string>();
  private readonly snapshots = new Map<string, string>();
  private readonly journalTail: string[] = [];

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(options: RelayOptions = {}): Promise<InspectorRelay> {
    const inspectorUrl = options.inspectorUrl ?? 'https://stately.ai/inspect';
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(bridgePage(inspectorUrl));
        return;
      }
      const file = FILES[path];
      if (!file) {
        res.writeHead(404).end('not found');
        return;
      }
      readFile(ASSETS + file[0]).then(
        (body) => res.writeHead(200, { 'Content-Type': file[1] }).end(body),
        () => res.writeHead(500).end(`${file[0]} is missing from visualizations/`),
      );
    });
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    server.unref(); // inspection never keeps the process alive
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    const relay = new InspectorRelay(server, wss, `http://${host}:${port}`);
    wss.on('connection', (ws) => relay.welcome(ws));
    return relay;
  }

  private welcome(ws: WebSocket): void {
    for (const message of [...this.actors.values(), ...this.snapshots.values(), ...this.journalTail]) ws.send(message);
    // Other inspectors may publish too, as with createInspectorServer: pass their events on.
    ws.on('message', (data) => {
      const text = String(data);
      let message: Message;
      try {
        message = JSON.parse(text) as Message;
      } catch {
        return; // not the inspector protocol: nothing to relay, and no reason to fail the supervisor
      }
      this.relay(message, text, ws);
    });
  }

  /** Sends an inspection event or journal row to every viewer. */
  broadcast(message: Message & object): void {
    this.relay(message, JSON.stringify(message));
  }

  /** `text` is `message` as sent on the wire: serialised once, by whoever made it. */
  private relay(message: Message, text: string, from?: WebSocket): void {
    if (message.type === '@xstate.actor' && message.sessionId) this.actors.set(message.sessionId, text);
    else if (message.type === '@xstate.snapshot' && message.sessionId) {
      // A stopped actor (a deleted container) is not replayed to late joiners.
      const status = (message as { snapshot?: { status?: string } }).snapshot?.status;
      if (status === 'stopped' || status === 'done') {
        this.actors.delete(message.sessionId);
        this.snapshots.delete(message.sessionId);
      } else this.snapshots.set(message.sessionId, text);
    }
    else if (message.type === '@berth.journal') {
      this.journalTail.push(text);
      if (this.journalTail.length > 200) this.journalTail.shift();
    }
    for (const client of this.wss.clients) if (client !== from && client.readyState === WebSocket.OPEN) client.send(text);
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
