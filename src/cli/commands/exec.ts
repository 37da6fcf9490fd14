import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { validateId } from '../../validate.js';
import { globals } from '../program.js';
import { attach, jsonLine } from './attach.js';
import { envFlags, envOf, type EnvFlags } from './env-flags.js';
import { print, withBackend } from './shared.js';

export function execCommand(program: Command): void {
  envFlags(
    program
      .command('exec <id> <command...>')
      .description('run another process in a running container; wait for it and exit with its status unless --detach')
      .option('--exec-id <execId>', 'name of the exec (default: a new one, printed)')
      .option('-d, --detach', 'return once started'),
  )
    .option('--cwd <dir>', 'working directory')
    .action(async (id: string, command: string[], flags: EnvFlags & { execId?: string; detach?: boolean; cwd?: string }) => {
      const execId = flags.execId ?? `exec-${randomBytes(4).toString('hex')}`;
      // Refused before anything is followed: `init` would show the container's own output first.
      validateId(execId, 'exec');
      const status = await withBackend(async (b) => {
        await b.get(id); // not-found before any log is followed
        // A generated id is told where it does not mix with the output: the start line (detached, --json) or stderr.
        if (!flags.execId && !flags.detach && !globals().json) process.stderr.write(`berth: exec id ${execId}\n`);
        const spec = { execId, args: command, ...envOf(flags), cwd: flags.cwd };
        const exit = await attach(b, id, execId, () => b.exec(id, spec), flags.detach, (pid) =>
          print({ id, execId, pid }, () => `${execId} started in ${id}, pid ${pid}`),
        );
        if (!exit) return 0;
        if (globals().json) jsonLine({ type: 'exit', id, processId: execId, ...exit });
        return exit.status;
      });
      process.exitCode = status;
    });
}
