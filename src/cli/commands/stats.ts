import type { Command } from 'commander';
import { table } from '../output.js';
import { print, withBackend } from './shared.js';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}MiB`;
/** cgroups write "no limit" as a huge number: shown as such. */
const limit = (bytes: number) => (bytes <= 0 || bytes >= 2 ** 60 ? 'unlimited' : mib(bytes));

export function statsCommand(program: Command): void {
  program
    .command('stats <id...>')
    .description('CPU, memory and pids usage of containers, from their cgroups')
    .action(async (ids: string[]) => {
      const stats = await withBackend((b) => Promise.all(ids.map(async (id) => ({ id, ...(await b.stats(id)) }))));
      print(stats, () =>
        table(
          ['ID', 'CPU', 'MEM USAGE', 'MEM LIMIT', 'PIDS'],
          stats.map((s) => [s.id, `${(s.cpu.totalNs / 1e9).toFixed(2)}s`, mib(s.memory.usage), limit(s.memory.limit), `${s.pids.current}${s.pids.limit > 0 ? `/${s.pids.limit}` : ''}`]),
        ),
      );
    });
}
