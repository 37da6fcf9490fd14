import Table from 'cli-table3';
import type { BerthEvent, ContainerInfo } from '../types.js';

/** ctr-style borderless columns. */
function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((row) => row.map(String)));
  return t.toString();
}

export function containersTable(containers: ContainerInfo[]): string {
  return table(
    ['ID', 'STATUS', 'PID', 'PROCESSES', 'CREATED', 'LABELS'],
    containers.map((c) => [
      c.id,
      c.status,
      c.pid ?? '-',
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
