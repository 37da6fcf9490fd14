import { InvalidArgumentError, type Command } from 'commander';
import type { ContainerInfo } from '../../types.js';
import { commandOf, containersTable } from '../output.js';
import { print, withBackend } from './shared.js';

type Filter = (c: ContainerInfo) => boolean;

/** `label=KEY`, `label=KEY=VALUE` or `status=STATUS`; a container must pass every one given. */
function filter(text: string, previous: Filter[] = []): Filter[] {
  const [key, ...rest] = text.split('=');
  const value = rest.join('=');
  if (key === 'status' && value) return [...previous, (c) => c.status === value];
  if (key === 'label' && value) {
    const at = value.indexOf('=');
    const [name, wanted] = at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
    return [...previous, (c) => Object.hasOwn(c.labels, name) && (wanted === undefined || c.labels[name] === wanted)];
  }
  throw new InvalidArgumentError('it must be label=KEY, label=KEY=VALUE or status=STATUS');
}

export function psCommand(program: Command): void {
  program
    .command('ps')
    .alias('list')
    .description('list containers')
    .option('-q, --quiet', 'ids only')
    .option('--filter <filter>', 'label=KEY[=VALUE] or status=STATUS (repeatable: all must match)', filter)
    .option('--no-trunc', 'show whole commands')
    .action(async (flags: { quiet?: boolean; filter?: Filter[]; trunc: boolean }) => {
      const shown = await withBackend(async (b) => {
        const containers = (await b.list()).filter((c) => (flags.filter ?? []).every((f) => f(c)));
        if (flags.quiet) return { containers, commands: [] };
        return { containers, commands: await Promise.all(containers.map(async (c) => commandOf(await b.spec(c.id)))) };
      });
      if (flags.quiet) return print(shown.containers.map((c) => c.id), () => shown.containers.map((c) => c.id).join('\n'));
      print(shown.containers, () => containersTable(shown.containers, shown.commands, flags.trunc));
    });
}
