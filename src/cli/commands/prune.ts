import type { Command } from 'commander';
import { isBerthError } from '../../errors.js';
import { print, withBackend } from './shared.js';

export function pruneCommand(program: Command): void {
  program
    .command('prune')
    .description('delete every exited container')
    .action(async () => {
      const deleted = await withBackend(async (b) => {
        const gone: string[] = [];
        for (const { id } of (await b.list()).filter((c) => c.status === 'exited')) {
          // One that restarted or was deleted meanwhile is not this command's to touch.
          const done = await b.delete(id).then(
            () => true,
            (err: unknown) => (isBerthError(err, 'invalid-state') || isBerthError(err, 'not-found') ? false : Promise.reject(err)),
          );
          if (done) gone.push(id);
        }
        return gone;
      });
      print(deleted, () => deleted.join('\n'));
    });
}
