import type { Command } from 'commander';
import { globals } from '../program.js';
import { attach, jsonLine } from './attach.js';
import { createFlags, createOptions, type CreateFlags } from './create.js';
import { print, withBackend, withSpinner } from './shared.js';

export function runCommand(program: Command): void {
  createFlags(program.command('run <id> [command...]').description('create and start a container; wait for it and exit with its status unless --detach'))
    .option('-d, --detach', 'return once started')
    .option('--rm', 'delete the container once it has exited')
    .action(async (id: string, command: string[], flags: CreateFlags & { detach?: boolean; rm?: boolean }) => {
      const status = await withBackend(async (b) => {
        await withSpinner(flags.bundle ? `creating ${id} from ${flags.bundle}` : `creating ${id}`, b.create(createOptions(id, command, flags)));
        const exit = await attach(b, id, 'init', () => b.start(id), flags.detach, (pid) => print({ id, pid }, () => `${id} started, pid ${pid}`));
        if (!exit) return 0;
        if (flags.rm) await b.delete(id);
        if (globals().json) jsonLine({ type: 'exit', id, processId: 'init', ...exit });
        return exit.status;
      });
      process.exitCode = status;
    });
}
