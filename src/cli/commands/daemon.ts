import type { Command } from 'commander';
import { globals } from '../program.js';
import { rememberRuntime, runtimeFor } from '../state-runtime.js';
import { stopSignal } from './shared.js';

export function daemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('keep a supervisor open and serve commands on <state-dir>/berth.sock (mode 0600)')
    .option('--inspect', 'also serve the live viewer (loopback)')
    .option('--metrics-address <host:port>', 'serve Prometheus metrics at http://<host:port>/metrics (e.g. 127.0.0.1:9464)')
    .action(async (flags: { inspect?: boolean; metricsAddress?: string }) => {
      const { stateDir, logLevel } = globals();
      const runtime = runtimeFor(stateDir, globals().runtime);
      // The supervisor's side, loaded only by the command that runs it.
      const [{ runDaemon }, { parseMetricsAddress }, { logger }] = await Promise.all([import('../daemon.js'), import('../metrics-server.js'), import('../logger.js')]);
      const metricsAddress = flags.metricsAddress === undefined ? undefined : parseMetricsAddress(flags.metricsAddress);
      const log = await logger(logLevel === 'warn' ? 'info' : logLevel);
      const stop = await runDaemon({ stateDir, runtime, logger: log, inspect: flags.inspect }, log, metricsAddress);
      rememberRuntime(stateDir, runtime);
      if (globals().json) console.log(JSON.stringify({ ready: true, pid: process.pid }));
      await stopSignal();
      await stop();
    });
}
