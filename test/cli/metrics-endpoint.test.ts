import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { hasPromtool, promtool, sample } from '../support/promtool.js';
import { berth, startDaemon, stopDaemon } from './berth-cli.js';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe.skipIf(!hasPromtool() && !process.env.CI)('berth daemon --metrics-address', () => {
  it('serves GET /metrics on loopback: promtool accepts it, and starts and exits are counted', async () => {
    const dir = tempDir();
    const port = await freePort();
    const daemon = await startDaemon(dir, '--metrics-address', `127.0.0.1:${port}`);
    try {
      expect((await berth(dir, 'run', '--rm', 'c1', '--', 'sh', '-c', 'exit 3')).code).toBe(3);
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
      const text = await response.text();
      expect(promtool(text)).toEqual({ status: 0, output: '' });
      expect(sample(text, 'berth_container_start_seconds_count')).toBe(1);
      expect(sample(text, 'berth_exits_total{class="1-127"}')).toBe(1);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await stopDaemon(daemon);
    }
  });

  it('refuses an address that is not an IP address and port, before opening anything', async () => {
    const dir = tempDir();
    for (const bad of ['nope', 'example.com:9464', '127.0.0.1:99999', '127.0.0.1:', '[::1]9464']) {
      const result = await berth(dir, 'daemon', '--metrics-address', bad);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/--metrics-address must be .*\(invalid-spec\)/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
