import type { Command } from 'commander';
import { BerthError, isBerthError } from '../../errors.js';
import { withBackend } from './shared.js';

export function deleteCommand(program: Command): void {
  program
    .command('delete <id>')
    .alias('rm')
    .description('delete a created or exited container (--force kills a live one first)')
    .option('-f, --force', 'kill it first if it is still running')
    .action(async (id: string, flags: { force?: boolean }) =>
      withBackend((b) =>
        b.delete(id, { force: flags.force }).catch((err: unknown) => {
          // The API's hint names its option; a CLI user needs the flag.
          if (!isBerthError(err, 'invalid-state')) throw err;
          throw new BerthError('invalid-state', `${err.message.split(';')[0]}: stop it first (berth stop ${id}), or delete it with --force (berth delete --force ${id})`);
        }),
      ),
    );
}
