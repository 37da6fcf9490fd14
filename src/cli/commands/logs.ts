import type { Command } from 'commander';
import { showOutput } from './attach.js';
import { withBackend } from './shared.js';

export function logsCommand(program: Command): void {
  program
    .command('logs <id>')
    .description('captured stdout and stderr of a process')
    .option('-p, --process <processId>', 'init or an exec id', 'init')
    .option('-f, --follow', 'keep printing as the process writes, until it exits')
    .action(async (id: string, flags: { process: string; follow?: boolean }) => {
      if (!flags.follow) {
        process.stdout.write(await withBackend((b) => b.logs(id, flags.process)));
        return;
      }
      await withBackend(async (b) => {
        await b.logs(id, flags.process, { tailBytes: 1 }); // not-found, before following anything
        const tail = showOutput(id, flags.process);
        try {
          await b.wait(id, flags.process);
        } finally {
          await tail.stop();
        }
      });
    });
}
