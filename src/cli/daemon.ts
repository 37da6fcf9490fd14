import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { toErrorData } from '../errors.js';
import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import type { EventsQuery } from '../types.js';
import { invoke, RPC_METHODS, type RpcMethod } from './backend.js';
import { lineReader, SOCKET_NAME, type Reply, type Request } from './protocol.js';

/**
 * `berth daemon`: one supervisor kept open, serving the CLI over a unix socket in
 * the state dir. On SIGTERM or SIGINT it closes and leaves the containers
 * running, as containerd did.
 */
export async function runDaemon(options: SupervisorOptions, logger: Logger): Promise<() => Promise<void>> {
  const sv = await Supervisor.open(options);
  const stopServing = await serveSocket(sv, logger);
  logger.info({ viewer: sv.viewerUrl }, 'berth daemon ready');
  return async () => {
    await stopServing();
    await sv.close({ leaveRunning: true });
  };
}

/**
 * Serves an open supervisor to other berth commands over `<state-dir>/berth.sock`,
 * which only its owner may use (mode 0600), until the returned function is called.
 */
export async function serveSocket(sv: Supervisor, logger: Logger): Promise<() => Promise<void>> {
  const socketPath = join(sv.stateDir, SOCKET_NAME);
  rmSync(socketPath, { force: true }); // a dead daemon's socket: we hold the lock now
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    const streams = new Map<number, { unsubscribe(): void }>();
    const send = (reply: Reply) => socket.writable && socket.write(`${JSON.stringify(reply)}\n`);
    socket.on('data', lineReader((line) => serve(JSON.parse(line) as Request)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clients.delete(socket);
      for (const stream of streams.values()) stream.unsubscribe();
    });

    function serve(request: Request): void {
      try {
        dispatch(request);
      } catch (err) {
        send({ id: request.id, error: toErrorData(err) }); // a bad request is answered, never fatal
      }
    }

    function dispatch({ id, method, params }: Request): void {
      if (method === 'events') {
        const query = { ...(params[0] as EventsQuery) };
        if (query.since !== undefined) query.since = new Date(query.since); // JSON carried it as a string
        const subscription = sv.events(query).subscribe({
          next: (event) => send({ id, event }),
          complete: () => send({ id, end: true }),
          error: (err: unknown) => send({ id, error: toErrorData(err) }),
        });
        streams.set(id, subscription);
        return;
      }
      if (!(RPC_METHODS as readonly string[]).includes(method)) {
        send({ id, error: { code: 'invalid-spec', message: `unknown method ${method}` } });
        return;
      }
      // JSON turns an omitted argument into null; the API wants it omitted (undefined), so defaults apply.
      const args = params.map((param) => param ?? undefined);
      invoke(sv, method as RpcMethod, args).then(
        (result) => send({ id, result: result ?? null }),
        (err: unknown) => send({ id, error: toErrorData(err) }),
      );
    }
  });
  const umask = process.umask(0o177); // the socket is born 0600: no window where others could connect
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(socketPath, 0o600);
  logger.info({ socket: socketPath }, 'serving the state dir');

  return async () => {
    server.close();
    for (const client of clients) client.destroy();
    rmSync(socketPath, { force: true });
  };
}
