import type { Command } from 'commander';
import { validateId } from '../../validate.js';
import { globals } from '../program.js';
import { attach } from './attach.js';
import { collect, parsePairs, print, withBackend } from './shared.js';

export function execCommand(program: Command): void {
  program
    .command('exec <id> <command...>')
    .description('run another process in a running container; wait for it and exit with its status unless --detach')
    .requiredOption('--exec-id <execId>', 'name of the exec')
    .option('-d, --detach', 'return once started')
    .option('--env <KEY=VALUE>', 'environment (repeatable)', collect)
    .option('--cwd <dir>', 'working directory')
    .action(async (id: string, command: string[], flags: { execId: string; detach?: boolean; env?: string[]; cwd?: string }) => {
      // Refused before anything is followed: `init` would show the container's own output first.
      validateId(flags.execId, 'exec');
      const status = await withBackend(async (b) => {
        const spec = { execId: flags.execId, args: command, env: parsePairs(flags.env, '--env'), cwd: flags.cwd };
        const exit = await attach(b, id, flags.execId, () => b.exec(id, spec), flags.detach, (pid) =>
          print({ id, execId: flags.execId, pid }, () => `${flags.execId} started in ${id}, pid ${pid}`),
        );
        if (!exit) return 0;
        if (globals().json) print(exit, () => '');
        return exit.status;
      });
      process.exitCode = status;
    });
}
