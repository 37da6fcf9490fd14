import { statSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { serveSocket } from '../../src/cli/daemon.js';
import { openSupervisor } from '../helpers.js';
import { overSocket } from '../support/socket-http.js';

// The daemon's server, captured as it is created, to hand it an accept failure: an EMFILE on
// accept cannot be provoked reliably here (libuv's reserve descriptor absorbs most of them).
const servers: http.Server[] = [];
vi.mock('node:http', async (original) => {
  const actual = await original<typeof import('node:http')>();
  const createServer = ((...args: Parameters<typeof actual.createServer>) => {
    const server = actual.createServer(...args);
    servers.push(server);
    return server;
  }) as typeof actual.createServer;
  return { ...actual, createServer };
});

function quietLogger(): Logger & { error: ReturnType<typeof vi.fn> } {
  return { info: () => undefined, error: vi.fn() } as unknown as Logger & { error: ReturnType<typeof vi.fn> };
}

describe('the daemon socket', () => {
  it('is born reachable by its owner only, without changing the umask of the whole process meanwhile', async () => {
    const sv = await openSupervisor();
    const umask = process.umask();
    const serving = serveSocket(sv, quietLogger());
    expect(process.umask()).toBe(umask);
    const stop = await serving;
    expect(process.umask()).toBe(umask);
    expect(statSync(join(sv.stateDir, 'berth.sock')).mode & 0o777).toBe(0o600);
    await stop();
  });

  it('logs an accept failure (EMFILE) and keeps serving', async () => {
    const sv = await openSupervisor();
    const logger = quietLogger();
    const stop = await serveSocket(sv, logger);
    try {
      const accept = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
      // A flood fails accept again and again: each failure is logged, none ends the daemon.
      for (let i = 0; i < 3; i++) servers.at(-1)!.emit('error', accept);
      expect(logger.error).toHaveBeenCalledTimes(3);
      expect(logger.error).toHaveBeenCalledWith({ err: accept }, 'accepting a connection failed');
      expect(await overSocket(join(sv.stateDir, 'berth.sock'), 'GET', '/containers')).toMatchObject({ status: 200, body: '[]' });
    } finally {
      await stop();
    }
  });
});
