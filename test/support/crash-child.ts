/**
 * A supervisor in a process of its own, for crash tests: it runs the steps named
 * on its command line against a state dir, prints `READY <json>` with the pids it
 * saw, then waits to be killed.
 *
 *   node --import tsx test/support/crash-child.ts <stateDir> <step>...
 *
 * Steps: create:<id>:<cmd>, start:<id>, exec:<id>:<execId>:<cmd>, signal:<id>:<proc>:<sig>, wait:<id>:<proc>, pause:<id>,
 * resume:<id>, delete:<id>[:force];
 * stop-shim (SIGSTOPs the process runtime's zygote, reported as pids.zygote);
 * `create&`, `start&`, `exec&` and `delete&` (forced) fire without waiting, and so does any step written `&<step>`,
 * so the crash can land while they are in flight.
 * BERTH_START_TIMEOUT_MS in the environment sets the supervisor's `startTimeoutMs`, and BERTH_LOGS=<maxBytes>:<keep> its `logs`;
 * BERTH_RESTART (JSON) is the restart policy of every container created.
 * BERTH_START_HOOK (JSON, an OCI hook) is every runc bundle's startContainer hook, which runs between the start and the process's exec.
 *
 * Progress, one line each, for a parent that picks its instant to kill: `OPENING` before the
 * state dir is opened (restored), `OPEN` after, `STEP <n> ok|refused <code>|error <message>`
 * as each step settles (`STEP <n> fired` for one that does not wait), then `READY`.
 * With BERTH_FAULT_TAG in its environment, every process a step starts carries
 * BERTH_FAULT_TAG=<tag>/<container>/<process>, so a test can find it (and its children) in /proc;
 * with BERTH_TEST_MARK, each carries that too (test/process/shim-processes.ts).
 */
import { pino } from 'pino';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBerthError, Supervisor, type RestartOptions } from '../../src/index.js';
import { zygoteOf } from '../process/shim-processes.js';
import { busyboxBundle } from './busybox-bundle.js';

const [stateDir, ...steps] = process.argv.slice(2);
const runtime = process.env.BERTH_RUNTIME === 'runc' ? 'runc' : 'process';
const faultTag = process.env.BERTH_FAULT_TAG;
const say = (line: string) => process.stdout.write(`${line}\n`);
say('OPENING');
const startTimeoutMs = Number(process.env.BERTH_START_TIMEOUT_MS) || undefined;
const [maxBytes, keep] = (process.env.BERTH_LOGS ?? '').split(':').map(Number);
const logs = maxBytes && keep ? { maxBytes, keep } : undefined;
const sv = await Supervisor.open({ stateDir: stateDir!, runtime, startTimeoutMs, logs, logger: pino({ level: 'silent' }) });
say('OPEN');
/** Given by the parent (crash.ts), which removes it: this process is killed. */
const bundles = process.env.BERTH_BUNDLES_DIR!;
const testMark = process.env.BERTH_TEST_MARK;
/** The environment that tags a process of a container, if this run tags them (and marks them, if this test does). */
const tagged = (id: string, processId: string): Record<string, string> => ({
  ...(faultTag ? { BERTH_FAULT_TAG: `${faultTag}/${id}/${processId}` } : {}),
  ...(testMark ? { BERTH_TEST_MARK: testMark } : {}),
});
/** The container `cmd` as this runtime takes it. */
const restart = process.env.BERTH_RESTART ? { restart: JSON.parse(process.env.BERTH_RESTART) as RestartOptions } : {};
const spec = (id: string, cmd: string) => ({ ...restart, ...runtimeSpec(id, cmd) });
const runtimeSpec = (id: string, cmd: string) =>
  runtime === 'runc'
    ? { bundle: withEnv(busyboxBundle(bundles, id, { args: ['sh', '-c', cmd] }), tagged(id, 'init')) }
    : { process: { args: ['sh', '-c', cmd], env: tagged(id, 'init') } };
/** An exec of `cmd`, tagged. */
const execSpec = (id: string, execId: string, cmd: string) => ({ execId, args: ['sh', '-c', cmd], env: tagged(id, execId) });
const pids: Record<string, number> = {};
const refused: string[] = [];

async function runStep(step: string): Promise<void> {
  const [op, id, a, b] = step.split(':') as [string, string, string?, string?];
  try {
    if (op === 'create') await sv.create({ id, ...spec(id, a!) });
    else if (op === 'create&') void sv.create({ id, ...spec(id, a!) }).catch(() => {});
    else if (op === 'delete&') void sv.delete(id, { force: true }).catch(() => {});
    else if (op === 'start') pids[`${id}/init`] = (await sv.start(id)).pid;
    else if (op === 'start&') void sv.start(id).catch(() => {});
    else if (op === 'exec') pids[`${id}/${a}`] = (await sv.exec(id, execSpec(id, a!, b!))).pid;
    else if (op === 'exec&') void sv.exec(id, execSpec(id, a!, b!)).catch(() => {});
    else if (op === 'signal') await sv.signal(id, a!, b!);
    else if (op === 'wait') await sv.wait(id, a!);
    else if (op === 'pause') await sv.pause(id);
    else if (op === 'resume') await sv.resume(id);
    else if (op === 'delete') await sv.delete(id, { force: a === 'force' });
    else if (op === 'stop-shim') process.kill((pids.zygote = zygoteOf(process.pid)), 'SIGSTOP');
    else throw new Error(`unknown step ${step}`);
  } catch (err) {
    // A random workload may ask for what the state refuses (an exec after init ended).
    if (!isBerthError(err)) throw err;
    refused.push(`${step}: ${err.code}`);
    throw err;
  }
}

/** Runs step `n`, reporting how it settled; `&<step>` is reported as fired and settles later. */
async function reported(step: string, n: number): Promise<void> {
  const outcome = runStep(step.replace(/^&/, '')).then(
    () => 'ok',
    (err: unknown) => (isBerthError(err) ? `refused ${err.code}` : `error ${(err as Error).message.replace(/\n/g, ' ')}`),
  );
  if (step.startsWith('&')) {
    say(`STEP ${n} fired`);
    void outcome.then((result) => result.startsWith('error') && say(`STEP ${n} ${result}`));
  } else say(`STEP ${n} ${await outcome}`);
}

for (const [n, step] of steps.entries()) await reported(step, n);
say(`READY ${JSON.stringify({ pids, refused, lastSeq: sv.lastSeq, pid: process.pid })}`);
setInterval(() => {}, 1_000);

/** A bundle whose init also gets `env` (runc takes a container's environment from its config), and BERTH_START_HOOK if given. */
function withEnv(bundle: string, env: Record<string, string>): string {
  const path = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.process.env = [...config.process.env, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)];
  if (process.env.BERTH_START_HOOK) config.hooks = { startContainer: [JSON.parse(process.env.BERTH_START_HOOK)] };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return bundle;
}
