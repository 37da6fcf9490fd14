import type { Command } from 'commander';
import { firstValueFrom } from 'rxjs';
import { runDaemon } from '../daemon.js';
import { globals, logger } from '../program.js';
import { stopSignal } from './shared.js';

export function daemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('keep a supervisor open and serve commands on <state-dir>/berth.sock (mode 0600)')
    .option('--inspect', 'also serve the live viewer (loopback)')
    .action(async (flags: { inspect?: boolean }) => {
      const { stateDir, runtime, logLevel } = globals();
      const log = logger(logLevel === 'warn' ? 'info' : logLevel);
      const stop = await runDaemon({ stateDir, runtime, logger: log, inspect: flags.inspect }, log);
      if (globals().json) console.log(JSON.stringify({ ready: true, pid: process.pid }));
      await firstValueFrom(stopSignal());
      await stop();
    });
}
