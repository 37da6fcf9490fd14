import type { Command } from 'commander';
import { print, withBackend, withSpinner } from './shared.js';

export function stopCommand(program: Command): void {
  program
    .command('stop <id>')
    .description('SIGTERM, then SIGKILL after --timeout seconds; waits for the exit')
    .option('-t, --timeout <seconds>', 'grace period', '10')
    .action(async (id: string, flags: { timeout: string }) => {
      const exit = await withBackend(async (b) => {
        await b.signal(id, 'init', 'SIGTERM');
        const exited = b.wait(id);
        const grace = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), Number(flags.timeout) * 1000).unref());
        const first = await withSpinner(`stopping ${id} (SIGKILL in ${flags.timeout}s)`, Promise.race([exited, grace]));
        if (first === 'timeout') await b.signal(id, 'init', 'SIGKILL').catch(() => undefined);
        return exited;
      });
      print(exit, () => `${id} exited with status ${exit.status}${exit.signal ? ` (${exit.signal})` : ''}`);
    });
}
