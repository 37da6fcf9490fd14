import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dotHash, stampOf, statechartDot } from '../../scripts/statechart-dot.js';
import { MACHINES } from '../../visualizations/machines.js';

describe('visualizations/', () => {
  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`${name}.svg is drawn from the current ${name} machine (else run \`npm run viz\`)`, () => {
      const svg = readFileSync(new URL(`../../visualizations/${name}.svg`, import.meta.url), 'utf8');
      expect(stampOf(svg)).toBe(dotHash(statechartDot(machine)));
      // Every state has an element the live viewer can highlight.
      for (const path of statePaths(machine.root as unknown as StateNodeLike)) expect(svg).toContain(`id="state:${path}"`);
    });
  }
});

interface StateNodeLike {
  path: string[];
  states: Record<string, StateNodeLike>;
}

function statePaths(node: StateNodeLike): string[] {
  return Object.values(node.states).flatMap((child) => [child.path.join('.'), ...statePaths(child)]);
}
