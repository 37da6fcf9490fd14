import type { Command } from 'commander';
import { table } from '../output.js';
import { print, withBackend } from './shared.js';

const duration = (seconds: number) => {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

export function topCommand(program: Command): void {
  program
    .command('top <id>')
    .description("the container's processes, as ps shows them")
    .action(async (id: string) => {
      const rows = await withBackend((b) => b.top(id));
      print(rows, () =>
        table(
          ['UID', 'PID', 'PPID', 'STAT', 'TIME', 'RSS', 'CMD'],
          rows.map((r) => [r.uid, r.pid, r.ppid, r.state, duration(r.cpuSeconds), `${Math.round(r.rssBytes / 1024)}k`, r.command]),
        ),
      );
    });
}
