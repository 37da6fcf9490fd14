/**
 * A supervisor where the process runtime can make no cgroup (run as an
 * unprivileged user): prints, as one JSON line, what it did with resources.
 *
 *   node --import tsx test/process/unlimited-child.ts <stateDir>
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Supervisor } from '../../src/index.js';

const stateDir = process.argv[2]!;
const logs: string[] = [];
const sv = await Supervisor.open({ stateDir, logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }) });
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: { code?: string }) => err.code ?? String(err));

const create = await codeOf(sv.create({ id: 'limited', process: { args: ['true'] }, resources: { memory: { limit: 16 << 20 } } }));
const leftover = existsSync(join(stateDir, 'containers', 'limited'));
await sv.create({ id: 'plain', process: { args: ['sh', '-c', 'setsid sleep 300 & exec sleep 300'] } });
await sv.start('plain');
const update = await codeOf(sv.update('plain', { pids: { limit: 8 } }));
const stats = await codeOf(sv.stats('plain'));
await sv.pause('plain');
await sv.resume('plain');
const list = sv.list().map((c) => c.id);
await sv.close();
const warnings = logs.filter((line) => line.includes('no cgroups')).length;
console.log(JSON.stringify({ create, leftover, update, stats, list, warnings }));
