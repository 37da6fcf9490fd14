import type { Command } from 'commander';
import { withBackend } from './shared.js';

export function inspectCommand(program: Command): void {
  program
    .command('inspect <id>')
    .description("a container's full record and the spec it was created with (env values redacted), as JSON")
    .action(async (id: string) => {
      const record = await withBackend(async (b) => ({ ...(await b.get(id)), spec: await b.spec(id) }));
      console.log(JSON.stringify(record, null, 2));
    });
}
