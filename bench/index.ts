/**
 * `npm run bench`: every figure berth claims, measured side by side with its
 * baseline in the same run. Prints a table; exits 0 even when a goal is missed
 * (the table says so), since timings depend on the machine.
 */
import { cpus } from 'node:os';
import { cliBench } from './cli.bench.js';
import { containersBench } from './containers.bench.js';
import { journalBench } from './journal.bench.js';
import { lifecycleBench } from './lifecycle.bench.js';
import { metricsBench } from './metrics.bench.js';
import { restoreBench } from './restore.bench.js';
import { scaleBench } from './scale.bench.js';
import { subscribersBench } from './subscribers.bench.js';
import type { Result } from './util.js';

const only = process.argv.slice(2);
const benches: [string, () => Promise<Result | Result[]>][] = [
  ['lifecycle', lifecycleBench],
  ['metrics', metricsBench],
  ['journal', journalBench],
  ['subscribers', subscribersBench],
  ['scale', scaleBench],
  ['restore', restoreBench],
  ['containers', containersBench],
  ['cli', cliBench],
];

console.log(`berth bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
const results: Result[] = [];
for (const [name, bench] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`running ${name}…\n`);
  results.push(...[await bench()].flat());
}
console.log('');
for (const r of results) {
  console.log(`${r.met ? 'met ' : 'MISS'}  ${r.name}\n      ${r.value}${r.comparison ? `   (${r.comparison})` : ''}   goal ${r.goal}`);
}
