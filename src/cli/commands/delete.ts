import type { Command } from 'commander';
import { withBackend } from './shared.js';

export function deleteCommand(program: Command): void {
  program
    .command('delete <id>')
    .alias('rm')
    .description('delete a created or exited container (--force kills a live one first)')
    .option('-f, --force', 'kill it first if it is still running')
    .action(async (id: string, flags: { force?: boolean }) => withBackend((b) => b.delete(id, { force: flags.force })));
}
