/**
 * `npm run viz`: draws each statechart from its machine definition with Graphviz
 * (Debian's `graphviz`) into visualizations/<machine>.svg, stamped with the hash
 * of its DOT source so a test can tell when a committed diagram is stale.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { MACHINES } from '../visualizations/machines.js';
import { dotHash, statechartDot } from './statechart-dot.js';

for (const [name, machine] of Object.entries(MACHINES)) {
  const dot = statechartDot(machine);
  const svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
  const stamped = svg.replace('<svg ', `<!-- berth-dot-sha256: ${dotHash(dot)} -->\n<svg `);
  writeFileSync(`visualizations/${name}.svg`, stamped);
  console.log(`visualizations/${name}.svg`);
}
