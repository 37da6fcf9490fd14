import { describe, expect, it } from 'vitest';
import type { BerthEvent } from '../../src/index.js';
import { brief, openSupervisor } from '../helpers.js';

describe('a call that journals resolves only after every live subscriber was handed its row', () => {
  it('a subscriber that unsubscribes right after the await still has the row', async () => {
    const sv = await openSupervisor();
    const seen: BerthEvent[] = [];
    let subscription = sv.events().subscribe((e) => seen.push(e));
    await sv.create({ id: 'c1', process: { args: ['true'] } });
    subscription.unsubscribe();
    expect(brief(seen)).toEqual(['create']);

    subscription = sv.events({ after: 0 }).subscribe((e) => seen.push(e));
    await sv.delete('c1');
    subscription.unsubscribe();
    expect(brief(seen)).toEqual(['create', 'create', 'delete']);
  });

  it('holds for exits a wait resolves with, and for every subscriber, filtered or not', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c2', process: { args: ['true'] } });
    const all: BerthEvent[] = [];
    const exits: BerthEvent[] = [];
    const a = sv.events().subscribe((e) => all.push(e));
    const b = sv.events({ id: 'c2', types: ['exit'] }).subscribe((e) => exits.push(e));
    await sv.start('c2');
    await sv.wait('c2');
    a.unsubscribe();
    b.unsubscribe();
    expect(brief(all)).toEqual(['start-container:init', 'exit:init=0']);
    expect(brief(exits)).toEqual(['exit:init=0']);
  });
});
