import type { Command } from 'commander';
import { print, withBackend } from './shared.js';

export function startCommand(program: Command): void {
  program
    .command('start <id>')
    .description("start a created container's init")
    .action(async (id: string) => {
      const { pid } = await withBackend((b) => b.start(id));
      print({ id, pid }, () => `${id} started, pid ${pid}`);
    });
}
