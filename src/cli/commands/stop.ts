import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { print, withBackend, withSpinner } from './shared.js';

export function stopCommand(program: Command): void {
  program
    .command('stop <id>')
    .description('SIGTERM, then SIGKILL after --timeout seconds; waits for the exit')
    .option('-t, --timeout <seconds>', 'grace period', '10')
    .option('-s, --signal <signal>', 'the first signal', 'SIGTERM')
    .action(async (id: string, flags: { timeout: string; signal: string }) => {
      const seconds = Number(flags.timeout);
      if (!(seconds >= 0)) throw new BerthError('invalid-spec', `--timeout must be a number of seconds, not ${JSON.stringify(flags.timeout)}`);
      const exit = await withBackend((b) =>
        withSpinner(`stopping ${id} (SIGKILL in ${flags.timeout}s)`, b.stop(id, { signal: flags.signal, timeoutMs: Math.round(seconds * 1000) })),
      );
      print(exit, () => `${id} exited with status ${exit.status}${exit.signal ? ` (${exit.signal})` : ''}`);
    });
}
