import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';

/** The parts of an XState v5 state node that a drawing needs. */
interface Node {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  states: Record<string, Node>;
  initial?: { target: Node[] };
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  invoke: { src: unknown }[];
}

interface Transition {
  eventType: string;
  target?: Node[];
  guard?: unknown;
}

const idOf = (node: Node) => (node.path.length === 0 ? 'root' : node.path.join('.'));
const quote = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  const combined = (guard as { guards?: unknown[] }).guards;
  if (typeof guard === 'function' && Array.isArray(combined)) return combined.map(guardName).join(guard.name === 'or' ? ' || ' : ' && ');
  if (typeof guard === 'function') return guard.name || 'guard';
  const { type, params } = guard as { type?: string; params?: unknown };
  if (type === 'xstate.and' || type === 'xstate.or') {
    const parts = (guard as { guards?: unknown[] }).guards?.map(guardName) ?? [];
    return parts.join(type === 'xstate.and' ? ' && ' : ' || ');
  }
  return params === undefined ? type : `${type}(${JSON.stringify(params)})`;
}

function eventLabel(t: Transition): string {
  const event =
    t.eventType === ''
      ? 'always'
      : t.eventType.replace(/^xstate\.(done|error)\.actor\..*$/, '$1').replace(/^xstate\.after\.([^.]+)\..*$/, 'after $1'); // a delayed transition, by its delay's name
  const guard = guardName(t.guard);
  return guard ? `${event} [${guard}]` : event;
}

/** What a state reacts to without leaving it (targetless transitions), as a label line: `on A, B`. */
function reactions(node: Node): string {
  const names = [...node.transitions.values()]
    .flat()
    .concat(node.always ?? [])
    .filter((t) => !t.target?.length)
    .map((t) => (t.eventType === '' ? eventLabel(t) : t.eventType));
  return names.length > 0 ? `\non ${[...new Set(names)].join(', ')}` : '';
}

/** The atomic state an edge to or from a compound state is drawn against (its initial leaf). */
function anchor(node: Node): Node {
  if (node.type === 'atomic' || node.type === 'final' || node.type === 'history') return node;
  const next = node.initial?.target[0] ?? Object.values(node.states)[0]!;
  return anchor(next);
}

/**
 * A Graphviz DOT drawing of a statechart: compound and parallel states become
 * clusters (parallel regions dashed), atomic states rounded boxes with the SVG id
 * `state:<path>`, so a viewer can highlight the active ones; each lists what it
 * reacts to without leaving (`on ...`), the root in the graph's label. Transitions between
 * the same two states share one edge, one label line each; eventless ones
 * (`always`) are dashed, so what happens stands out from what is merely checked.
 * Deterministic, so a test can tell a stale diagram.
 */
export function statechartDot(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const lines = [
    `digraph ${quote(machine.id)} {`,
    '  compound=true; rankdir=LR; fontname="Helvetica"; fontsize=11; nodesep=0.3; ranksep=0.45;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
  ];
  const rootReactions = reactions(root);
  if (rootReactions) lines.push(`  labelloc=t; label=${quote(machine.id + rootReactions)};`);
  const edges: string[] = [];
  /** Transition edges by their DOT endpoints and clipping, each with its label lines. */
  const transitionEdges = new Map<string, string[]>();
  const walk = (node: Node, indent: string, parallelRegion: boolean): void => {
    for (const child of Object.values(node.states)) {
      const id = idOf(child);
      if (child.type === 'atomic' || child.type === 'final' || child.type === 'history') {
        const final = child.type === 'final' ? ', peripheries=2' : '';
        const invoked = child.invoke.length > 0 ? `\ninvoke ${child.invoke.map((i) => String(i.src)).join(', ')}` : '';
        lines.push(`${indent}${quote(id)} [label=${quote(child.key + invoked + reactions(child))}, id=${quote(`state:${id}`)}${final}];`);
      } else {
        const style = parallelRegion ? 'dashed,rounded' : 'rounded';
        lines.push(`${indent}subgraph ${quote(`cluster_${id}`)} {`);
        const title = child.type === 'parallel' ? `${child.key} (parallel)` : child.key;
        lines.push(`${indent}  label=${quote(title + reactions(child))}; style=${quote(style)}; id=${quote(`state:${id}`)};`);
        walk(child, `${indent}  `, child.type === 'parallel');
        lines.push(`${indent}}`);
      }
      if (node.initial?.target.some((t) => idOf(t) === id) && !parallelRegion) {
        const start = `${id}.__initial`;
        lines.push(`${indent}${quote(start)} [shape=point, width=0.12, label="", style=filled, fillcolor=black];`);
        edges.push(`  ${quote(start)} -> ${quote(idOf(anchor(child)))}${child.type === 'atomic' || child.type === 'final' ? '' : ` [lhead=${quote(`cluster_${id}`)}]`};`);
      }
      const transitions = [...child.transitions.values()].flat().concat(child.always ?? []);
      for (const t of transitions) {
        for (const target of t.target ?? []) {
          const clips = t.eventType === '' ? ['style=dashed'] : [];
          if (!['atomic', 'final'].includes(child.type)) clips.push(`ltail=${quote(`cluster_${id}`)}`);
          if (!['atomic', 'final'].includes(target.type)) clips.push(`lhead=${quote(`cluster_${idOf(target)}`)}`);
          const key = [`${quote(idOf(anchor(child)))} -> ${quote(idOf(anchor(target)))}`, ...clips].join('\0');
          transitionEdges.set(key, [...(transitionEdges.get(key) ?? []), eventLabel(t)]);
        }
      }
    }
  };
  walk(root, '  ', root.type === 'parallel');
  for (const [key, labels] of transitionEdges) {
    const [ends, ...clips] = key.split('\0');
    edges.push(`  ${ends} [${[`label=${quote(labels.join('\n'))}`, ...clips].join(', ')}];`);
  }
  lines.push(...edges, '}', '');
  return lines.join('\n');
}

/** Stamps an SVG with the hash of the DOT it was drawn from, so staleness is checkable without Graphviz. */
export const dotHash = (dot: string) => createHash('sha256').update(dot).digest('hex');
export const stampOf = (svg: string) => /<!-- berth-dot-sha256: ([0-9a-f]{64}) -->/.exec(svg)?.[1];
