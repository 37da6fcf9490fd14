import type { Command } from 'commander';
import { validateId } from '../../validate.js';
import { globals } from '../program.js';
import { attach } from './attach.js';
import { envFlags, envOf, type EnvFlags } from './env-flags.js';
import { print, withBackend } from './shared.js';

export function execCommand(program: Command): void {
  envFlags(
    program
      .command('exec <id> <command...>')
      .description('run another process in a running container; wait for it and exit with its status unless --detach')
      .requiredOption('--exec-id <execId>', 'name of the exec')
      .option('-d, --detach', 'return once started'),
  )
    .option('--cwd <dir>', 'working directory')
    .action(async (id: string, command: string[], flags: EnvFlags & { execId: string; detach?: boolean; cwd?: string }) => {
      // Refused before anything is followed: `init` would show the container's own output first.
      validateId(flags.execId, 'exec');
      const status = await withBackend(async (b) => {
        const spec = { execId: flags.execId, args: command, ...envOf(flags), cwd: flags.cwd };
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
