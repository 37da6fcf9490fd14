/**
 * Appends rows to a journal in a process of its own and dies with SIGKILL once
 * they are committed, as a crashed supervisor would:
 *
 *   node --import tsx test/journal/journal-child.ts <journal path> <rows>
 */
import { Journal } from '../../src/io/journal/journal.js';

const [path, rows] = process.argv.slice(2) as [string, string];
const journal = new Journal(path, 0);
for (let i = 0; i < Number(rows); i++) journal.append({ type: 'start-process', id: 'c', processId: `e${i}` });
journal.whenCommitted(() => process.kill(process.pid, 'SIGKILL'));
