import type { Command } from 'commander';
import { withBackend } from './shared.js';

/** `pause` and `resume`: the same shape, one verb each way. */
export function pauseCommands(program: Command): void {
  for (const [name, description] of [
    ['pause', 'freeze every process of a container'],
    ['resume', 'thaw a paused container'],
  ] as const) {
    program
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string) => withBackend((b) => b[name](id)));
  }
}
