import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach } from 'vitest';
import { Supervisor, type BerthEvent, type SupervisorOptions } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh state dir, removed after the test. */
export function tempDir(prefix = 'berth-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A random secret set as `name` in this process's environment (a supervisor's own, as an API token would be), unset after the test. */
export function envSecret(name: string): string {
  const secret = `s-${randomBytes(8).toString('hex')}`;
  process.env[name] = secret;
  cleanups.push(() => {
    delete process.env[name];
  });
  return secret;
}

/** A supervisor on a fresh state dir, closed after the test. */
export async function openSupervisor(options: Partial<SupervisorOptions> = {}): Promise<Supervisor> {
  const sv = await Supervisor.open({
    stateDir: options.stateDir ?? tempDir(),
    logger: pino({ level: 'silent' }),
    ...options,
  });
  cleanups.push(async () => {
    // Deleted, not just closed: a runc container's cgroup and runc state live until it is deleted.
    // After close() (some tests close it themselves), delete is refused and this is a no-op.
    await Promise.all(sv.list().map((c) => sv.delete(c.id, { force: true }).catch(() => undefined)));
    await sv.close();
  });
  return sv;
}

/** Every stored journal row (after `after`, if given), oldest first. */
export function storedEvents(sv: Supervisor, query: { id?: string; after?: number } = {}): Promise<BerthEvent[]> {
  return firstValueFrom(sv.events({ after: 0, ...query, storedOnly: true }).pipe(toArray()));
}

/** The rows journaled after `seq`, in brief: what a crash test expects to have happened since. */
export async function briefSince(sv: Supervisor, seq: number): Promise<string[]> {
  return brief(await storedEvents(sv, { after: seq }));
}

/** A compact view of rows: 'start-container:init', 'exit:e1=137', ... */
export function brief(events: BerthEvent[]): string[] {
  return events.map((e) => {
    const who = e.processId ? `:${e.processId}` : '';
    const status = e.type === 'exit' ? `=${e.status}` : '';
    return `${e.type}${who}${status}`;
  });
}

/** The processes of a process group, as [pid, state] pairs; zombies included. */
export function groupMembers(pgid: number): [number, string][] {
  const members: [number, string][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) members.push([Number(entry), fields[0]!]);
  }
  return members;
}

/** Whether anything of a process group is left, a zombie included. */
export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Whether anything of a process group still runs (zombies, dead but not yet reaped, do not count). */
export function groupRunning(pgid: number): boolean {
  return groupMembers(pgid).some(([, state]) => state !== 'Z');
}

/** The scheduler state letter of a process, as in ps's STAT column. */
export function stateOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

/**
 * A whole property run (every case, each with real processes) gets a time budget
 * sized to its cases: a crash case (a crash child started through tsx, killed,
 * then a reopen) takes about 4 s on a quiet 2-core machine, so 10 s each leaves
 * room for a busy one. A budget is a bound on waiting, not a speed goal.
 */
export const propertyBudgetMs = (runs: number): number => Math.max(30_000, runs * 10_000);

/** Runs `cleanup` after the test, before the state dirs made earlier in it are removed. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export interface LiveProcess {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: with the pid, tells a reused pid apart. */
  startTime: number;
  /** Its command line, arguments split. */
  args: string[];
  /** Its environment as it was exec'd, NAME=value entries. */
  environ: string[];
}

/** Every process still running (zombies excluded) that this user may inspect. */
export function liveProcesses(): LiveProcess[] {
  const found: LiveProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      found.push({ pid: Number(entry), startTime: Number(fields[19]), args, environ });
    } catch {
      continue; // gone meanwhile
    }
  }
  return found;
}

/** The value of `name` in a live process's environment, if set. */
export const envOf = (proc: LiveProcess, name: string): string | undefined =>
  proc.environ.find((kv) => kv.startsWith(`${name}=`))?.slice(name.length + 1);
