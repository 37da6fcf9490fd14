import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { berth, BIN, stopDaemon } from '../cli/berth-cli.js';
import { openSupervisor, tempDir } from '../helpers.js';

/** The relay's address without its token, and the token. */
function split(pageUrl: string): { base: string; token: string } {
  const url = new URL(pageUrl);
  return { base: url.origin, token: url.searchParams.get('token') ?? '' };
}

/** How the relay answers a WebSocket handshake: 'open', or the HTTP status it refused with. */
async function handshake(url: string, origin?: string): Promise<'open' | number> {
  const ws = new WebSocket(url, origin === undefined ? {} : { origin });
  const answer = await Promise.race([
    once(ws, 'open').then(() => 'open' as const),
    once(ws, 'unexpected-response').then(([, res]) => (res as { statusCode: number }).statusCode),
  ]);
  ws.terminate();
  return answer;
}

describe('the inspection relay is locked with a token', () => {
  it('puts a fresh 256-bit token in viewerUrl and inspectUrl, one per supervisor', async () => {
    const [a, b] = await Promise.all([openSupervisor({ inspect: true }), openSupervisor({ inspect: true })]);
    expect(a.viewerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/viewer\?token=[\w-]{43}$/);
    expect(a.inspectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    expect(split(a.viewerUrl!).token).toBe(split(a.inspectUrl!).token);
    expect(split(a.viewerUrl!).token).not.toBe(split(b.viewerUrl!).token);
  });

  it('serves no page without the token (401) or with a wrong one (403)', async () => {
    const sv = await openSupervisor({ inspect: true });
    const { base, token } = split(sv.viewerUrl!);
    const wrong = token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    for (const path of ['/', '/viewer', '/container.svg']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(401);
      expect((await fetch(`${base}${path}?token=${wrong}`)).status, path).toBe(403);
      expect((await fetch(`${base}${path}?token=${token.slice(0, 8)}`)).status, path).toBe(403);
      const page = await fetch(`${base}${path}?token=${token}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await fetch(`${base}/nothing?token=${token}`)).status).toBe(404);
  });

  it('refuses a WebSocket without the token, with a wrong one, or from another site, and takes its own pages and non-browsers', async () => {
    const sv = await openSupervisor({ inspect: true });
    const { base, token } = split(sv.viewerUrl!);
    const ws = base.replace(/^http/, 'ws');
    const port = new URL(base).port;
    expect(await handshake(`${ws}/`)).toBe(401);
    expect(await handshake(`${ws}/?token=${token}x`)).toBe(403);
    expect(await handshake(`${ws}/?token=${token}`, 'http://evil.example')).toBe(403);
    expect(await handshake(`${ws}/?token=${token}`, `http://evil.example:${port}`)).toBe(403);
    expect(await handshake(`${ws}/?token=${token}`, `https://127.0.0.1:${port}`)).toBe(403);
    expect(await handshake(`${ws}/?token=${token}`, 'null')).toBe(403);
    expect(await handshake(`${ws}/?token=${token}`, `http://127.0.0.1:${port}`)).toBe('open');
    expect(await handshake(`${ws}/?token=${token}`, `http://localhost:${port}`)).toBe('open');
    expect(await handshake(`${ws}/?token=${token}`)).toBe('open');
  });

  it('takes at most 64 connections at once (503 past that), and takes more as they close', async () => {
    const sv = await openSupervisor({ inspect: true });
    const { base, token } = split(sv.viewerUrl!);
    const url = `${base.replace(/^http/, 'ws')}/?token=${token}`;
    const clients = Array.from({ length: 64 }, () => new WebSocket(url));
    await Promise.all(clients.map((ws) => once(ws, 'open')));
    expect(await handshake(url)).toBe(503);
    clients[0]!.close();
    await once(clients[0]!, 'close');
    await expect.poll(() => handshake(url)).toBe('open');
    for (const ws of clients) ws.terminate();
  });

  it("keeps the token out of the daemon's log and off command lines, and `berth viewer` hands it to the daemon's user", async () => {
    const dir = tempDir();
    const daemon = spawn(process.execPath, [BIN, '--state-dir', dir, '--log-level', 'info', 'daemon', '--inspect'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr.on('data', (chunk: Buffer) => (log += String(chunk)));
    try {
      await expect.poll(() => log, { timeout: 15_000 }).toContain('berth daemon ready');
      const viewer = await berth(dir, 'viewer');
      expect(viewer.code).toBe(0);
      const { token } = split(viewer.stdout.trim());
      expect(token).toMatch(/^[\w-]{43}$/);
      expect(log).toContain('/viewer?token=');
      expect(log).not.toContain(token.slice(0, 8));
      // The desktop is handed a private page that forwards to the address, not the address on a command line.
      const opener = join(dir, 'viewer.html');
      expect(statSync(opener).mode & 0o777).toBe(0o600);
      expect(readFileSync(opener, 'utf8')).toContain(`url=${viewer.stdout.trim()}"`);
    } finally {
      await stopDaemon(daemon);
    }
  });
});
