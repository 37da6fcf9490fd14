import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import type { BerthEvent, ContainerInfo, ContainerSpec } from '../types.js';

/** ctr-style borderless columns. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((row) => row.map(String)));
  return t.toString();
}

/** What a container runs: its args, a bundle's from its config.json (as it says now), unless create gave its own. */
export function commandOf(spec: ContainerSpec): string[] {
  if ('args' in spec) return spec.args;
  if (spec.process?.args) return spec.process.args;
  try {
    const config = JSON.parse(readFileSync(join(spec.bundle, 'config.json'), 'utf8')) as { process?: { args?: unknown } };
    return Array.isArray(config.process?.args) ? config.process.args.map(String) : [];
  } catch {
    return []; // the bundle is gone or changed: berth runs its own copy
  }
}

const COMMAND_WIDTH = 30;

export function containersTable(containers: ContainerInfo[], commands: string[][], truncate: boolean): string {
  const shorten = (text: string) => (truncate && text.length > COMMAND_WIDTH ? `${text.slice(0, COMMAND_WIDTH - 1)}…` : text);
  return table(
    ['ID', 'STATUS', 'PID', 'COMMAND', 'PROCESSES', 'CREATED', 'LABELS'],
    containers.map((c, i) => [
      c.id,
      c.status,
      c.pid ?? '-',
      shorten(commands[i]!.join(' ') || '-'),
      c.processes.map((p) => `${p.id}:${p.status}${p.exitStatus !== undefined ? `(${p.exitStatus})` : ''}`).join(' '),
      new Date(c.createdAt).toISOString(),
      Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
    ]),
  );
}

export function eventLine(e: BerthEvent): string {
  const parts = [String(e.seq).padStart(6), new Date(e.time).toISOString(), e.type.padEnd(15), e.id];
  if (e.processId) parts.push(e.processId);
  if (e.pid !== undefined) parts.push(`pid=${e.pid}`);
  if (e.status !== undefined) parts.push(`status=${e.status}${e.signal ? ` (${e.signal})` : ''}`);
  if (e.reason) parts.push(`reason=${e.reason}`);
  return parts.join('  ');
}
