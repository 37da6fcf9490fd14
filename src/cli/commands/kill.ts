import type { Command } from 'commander';
import { withBackend } from './shared.js';

export function killCommand(program: Command): void {
  program
    .command('kill <id>')
    .description('send a signal to a process (default: init)')
    .option('-s, --signal <signal>', 'name or number', 'SIGTERM')
    .option('-p, --process <processId>', 'init or an exec id', 'init')
    .action(async (id: string, flags: { signal: string; process: string }) => {
      const signal = /^\d+$/.test(flags.signal) ? Number(flags.signal) : flags.signal;
      await withBackend((b) => b.signal(id, flags.process, signal));
    });
}
