/**
 * The first run: one container on the process runtime, two execs, and the
 * journal printed live. Watch the order: both exec exits come before init's,
 * and the long-running exec is killed (137) when init exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor, type BerthEvent } from '../src/index.js';

const stateDir = mkdtempSync(join(tmpdir(), 'berth-demo-'));
const sv = await Supervisor.open({ stateDir });

const show = (e: BerthEvent): void => {
  const who = e.processId ? ` ${e.processId}` : '';
  const pid = e.pid !== undefined ? ` pid=${e.pid}` : '';
  const status = e.status !== undefined ? ` status=${e.status}${e.signal ? ` (${e.signal})` : ''}` : '';
  console.log(`#${String(e.seq).padStart(2)}  ${e.time.toISOString()}  ${e.type.padEnd(15)} ${e.id}${who}${pid}${status}`);
};
const subscription = sv.events({ after: sv.lastSeq }).subscribe(show);

await sv.create({ id: 'demo', process: { args: ['sh', '-c', 'echo init up; sleep 1'] }, labels: { app: 'demo' } });
await sv.start('demo');
await sv.exec('demo', { execId: 'greet', args: ['sh', '-c', 'echo hello from an exec; exit 3'] });
await sv.exec('demo', { execId: 'forever', args: ['sleep', '3600'] });

const greet = await sv.wait('demo', 'greet');
const init = await sv.wait('demo');
const forever = await sv.wait('demo', 'forever');
const initOutput = (await sv.logs('demo')).trim();
const greetOutput = (await sv.logs('demo', 'greet')).trim();
await sv.delete('demo');
await sv.close(); // the live stream delivers its last rows, then completes
subscription.unsubscribe();
rmSync(stateDir, { recursive: true, force: true });

console.log(`
greet exited ${greet.status}; forever was still running when init exited, so it was killed (${forever.status}, ${forever.signal})
and its exit was published before init's (${init.status}), even though it happened a moment later (see the times).
init said: ${initOutput}
greet said: ${greetOutput}`);
