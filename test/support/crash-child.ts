/**
 * A supervisor in a process of its own, for crash tests: it runs the steps named
 * on its command line against a state dir, prints `READY <json>` with the pids it
 * saw, then waits to be killed.
 *
 *   node --import tsx test/support/crash-child.ts <stateDir> <step>...
 *
 * Steps: create:<id>:<cmd>, start:<id>, exec:<id>:<execId>:<cmd>, signal:<id>:<proc>:<sig>, wait:<id>:<proc>, pause:<id>,
 * delete:<id> (forced), stop-shim (SIGSTOPs the process runtime's zygote, reported as pids.zygote);
 * `start&`, `exec&`, `signal&` and `delete&` fire without waiting, so the crash can land while they are in flight.
 * BERTH_START_TIMEOUT_MS in the environment sets the supervisor's `startTimeoutMs`.
 */
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, Supervisor } from '../../src/index.js';
import { zygoteOf } from '../process/shim-processes.js';
import { busyboxBundle } from './busybox-bundle.js';

const [stateDir, ...steps] = process.argv.slice(2);
const runtime = process.env.BERTH_RUNTIME === 'runc' ? 'runc' : 'process';
const startTimeoutMs = Number(process.env.BERTH_START_TIMEOUT_MS) || undefined;
const sv = await Supervisor.open({ stateDir: stateDir!, runtime, startTimeoutMs, logger: pino({ level: 'silent' }) });
const bundles = mkdtempSync(join(tmpdir(), 'berth-bundles-'));
/** The container or exec `cmd` as this runtime takes it. */
const spec = (id: string, cmd: string) =>
  runtime === 'runc' ? { bundle: busyboxBundle(bundles, id, { args: ['sh', '-c', cmd] }) } : { process: { args: ['sh', '-c', cmd] } };
const pids: Record<string, number> = {};
const refused: string[] = [];
for (const step of steps) {
  const [op, id, a, b] = step.split(':') as [string, string, string?, string?];
  try {
    if (op === 'create') await sv.create({ id, ...spec(id, a!) });
    else if (op === 'start') pids[`${id}/init`] = (await sv.start(id)).pid;
    else if (op === 'start&') void sv.start(id).catch(() => {});
    else if (op === 'exec') pids[`${id}/${a}`] = (await sv.exec(id, { execId: a!, args: ['sh', '-c', b!] })).pid;
    else if (op === 'exec&') void sv.exec(id, { execId: a!, args: ['sh', '-c', b!] }).catch(() => {});
    else if (op === 'signal') await sv.signal(id, a!, b!);
    else if (op === 'wait') await sv.wait(id, a!);
    else if (op === 'pause') await sv.pause(id);
    else if (op === 'signal&') void sv.signal(id, a!, b!).catch(() => {});
    else if (op === 'delete') await sv.delete(id, { force: true });
    else if (op === 'delete&') void sv.delete(id, { force: true }).catch(() => {});
    else if (op === 'stop-shim') process.kill((pids.zygote = zygoteOf(process.pid)), 'SIGSTOP');
    else throw new Error(`unknown step ${step}`);
  } catch (err) {
    // A random workload may ask for what the state refuses (an exec after init ended).
    if (!isBerthError(err)) throw err;
    refused.push(`${step}: ${err.code}`);
  }
}
process.stdout.write(`READY ${JSON.stringify({ pids, refused, lastSeq: sv.lastSeq, pid: process.pid })}\n`);
setInterval(() => {}, 1_000);
