import type { Command } from 'commander';
import { withBackend } from './shared.js';

export function inspectCommand(program: Command): void {
  program
    .command('inspect <id>')
    .description("a container's full record, as JSON")
    .action(async (id: string) => {
      const info = await withBackend((b) => b.get(id));
      console.log(JSON.stringify(info, null, 2));
    });
}
