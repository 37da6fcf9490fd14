import type { Command } from 'commander';
import { print, withBackend } from './shared.js';

export function waitCommand(program: Command): void {
  program
    .command('wait <id>')
    .description('wait for a process (default: init) to exit and print its status')
    .option('-p, --process <processId>', 'init or an exec id', 'init')
    .action(async (id: string, flags: { process: string }) => {
      const exit = await withBackend((b) => b.wait(id, flags.process));
      print(exit, () => String(exit.status));
    });
}
