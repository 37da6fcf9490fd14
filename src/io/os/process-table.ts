import { readdirSync } from 'node:fs';
import { readIfPresent } from './os-process.js';

/** One process as `ps` shows it, read from /proc. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  uid: number;
  /** The scheduler's state letter: R, S, D, T, Z, ... */
  state: string;
  /** User plus system CPU time so far. */
  cpuSeconds: number;
  /** Resident memory (VmRSS). */
  rssBytes: number;
  /** Its command line, or `[name]` for a process without one (a kernel thread, a zombie). */
  command: string;
}

/** Linux's USER_HZ: /proc counts CPU time in these ticks on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** The row of one process, or undefined if it is gone (it may end while the table is read). */
function row(pid: number): ProcessRow | undefined {
  const stat = readIfPresent(`/proc/${pid}/stat`);
  const status = readIfPresent(`/proc/${pid}/status`);
  if (stat === undefined || status === undefined) return undefined;
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const field = (label: string) => new RegExp(`^${label}:\\s*(\\d+)`, 'm').exec(status)?.[1];
  const args = (readIfPresent(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
  return {
    pid,
    ppid: Number(fields[1]),
    uid: Number(field('Uid') ?? -1),
    state: fields[0] ?? '?',
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    rssBytes: Number(field('VmRSS') ?? 0) * 1024,
    command: args.length > 0 ? args.join(' ') : `[${name}]`,
  };
}

/** The rows of these processes that still exist, by pid. */
export function processTable(pids: Iterable<number>): ProcessRow[] {
  return [...new Set(pids)]
    .sort((a, b) => a - b)
    .map(row)
    .filter((r): r is ProcessRow => r !== undefined);
}

/** These processes and every process descended from them, as /proc shows them now. */
export function withDescendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readIfPresent(`/proc/${entry}/stat`);
    const ppid = stat === undefined ? NaN : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(entry));
  }
  const found = new Set<number>();
  const visit = (pid: number): void => {
    if (found.has(pid)) return;
    found.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  roots.forEach(visit);
  return [...found];
}
