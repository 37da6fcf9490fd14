import type { Command } from 'commander';
import { seconds } from './flag-values.js';
import { print, withBackend, withSpinner } from './shared.js';

export function stopCommand(program: Command): void {
  program
    .command('stop <id>')
    .description('SIGTERM, then SIGKILL after --timeout seconds; waits for the exit')
    .option('-t, --timeout <seconds>', 'grace period', seconds, 10)
    .option('-s, --signal <signal>', 'the first signal', 'SIGTERM')
    .action(async (id: string, flags: { timeout: number; signal: string }) => {
      const exit = await withBackend((b) =>
        withSpinner(`stopping ${id} (SIGKILL in ${flags.timeout}s)`, b.stop(id, { signal: flags.signal, timeoutMs: Math.round(flags.timeout * 1000) })),
      );
      print(exit, () => `${id} exited with status ${exit.status}${exit.signal ? ` (${exit.signal})` : ''}`);
    });
}
