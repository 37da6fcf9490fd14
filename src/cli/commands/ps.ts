import type { Command } from 'commander';
import { containersTable } from '../output.js';
import { print, withBackend } from './shared.js';

export function psCommand(program: Command): void {
  program
    .command('ps')
    .alias('list')
    .description('list containers')
    .action(async () => {
      const containers = await withBackend((b) => b.list());
      print(containers, () => containersTable(containers));
    });
}
