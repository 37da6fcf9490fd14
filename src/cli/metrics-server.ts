import { createServer } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { BerthError } from '../errors.js';
import type { Supervisor } from '../supervisor.js';

export interface MetricsAddress {
  host: string;
  port: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * `--metrics-address`: `host:port` with an IP address or localhost (`[::1]:9464` for IPv6), or
 * a bare port on 127.0.0.1. Port 0 picks a free one (the daemon logs which).
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2] ?? '127.0.0.1';
  const port = Number(match?.[3]);
  if (!match || port > 65_535 || (isIP(host) === 0 && host !== 'localhost')) {
    throw new BerthError('invalid-spec', `--metrics-address must be an IP address (or localhost) and port, like 127.0.0.1:9464 or [::1]:9464, not ${JSON.stringify(text.slice(0, 60))}`);
  }
  return { host, port };
}

/**
 * Serves `GET /metrics` (the text exposition of `sv.metrics()`) over HTTP until
 * the returned function is called. Anything else is 404 or 405.
 */
export async function serveMetrics(sv: Supervisor, address: MetricsAddress, logger: Logger): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return void response.writeHead(404).end('not found: try /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return void response.writeHead(405, { allow: 'GET, HEAD' }).end();
    sv.metrics().then(
      (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(request.method === 'GET' ? text : undefined),
      (err: unknown) => {
        logger.error({ err }, 'collecting metrics failed');
        response.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new BerthError('runtime-error', `cannot serve metrics on ${address.host}:${address.port}: ${err.message}`)));
    server.listen(address.port, address.host, () => resolve());
  });
  server.on('error', (err) => logger.error({ err }, 'metrics server error'));
  const { port } = server.address() as { port: number };
  if (!LOOPBACK.test(address.host)) logger.warn({ host: address.host }, 'metrics are served beyond loopback: anyone who reaches that address can read them');
  logger.info({ url: `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}/metrics` }, 'serving metrics');
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
