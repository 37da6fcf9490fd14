import { spawnSync } from 'node:child_process';

/** Whether Prometheus's promtool is installed (`apt-get install prometheus`). */
export const hasPromtool = (): boolean => spawnSync('promtool', ['--version']).status === 0;

/** `promtool check metrics` on a text exposition: exit 0 and no output when it is valid. */
export function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The value of one sample, by its series as printed ('berth_exits_total{class="0"}'). */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
