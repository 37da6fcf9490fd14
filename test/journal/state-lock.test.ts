import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { tempDir } from '../helpers.js';

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => killed(child)));
});

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGKILL');
  return exited;
}

/** A child process that tries the lock (once `go` exists, if given); its lines, in order, as they come. */
function lockChild(stateDir: string, go?: string): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, ...(go ? [go] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  if (done) throw new Error('lock child exited without a word');
  return value;
}

describe('the state-dir lock', () => {
  it('lets exactly one of many concurrent openers hold a state dir whose last holder was killed', async () => {
    const stateDir = tempDir();
    const first = lockChild(stateDir);
    await nextLine(first.lines);
    expect(await nextLine(first.lines)).toBe('HELD');
    await killed(first.child); // SIGKILL: no release, its name is left behind

    for (let round = 0; round < 2; round++) {
      const go = join(stateDir, `go-${round}`);
      const racers = Array.from({ length: 6 }, () => lockChild(stateDir, go));
      for (const racer of racers) expect(await nextLine(racer.lines)).toBe('READY');
      writeFileSync(go, '');
      const outcomes = await Promise.all(racers.map((racer) => nextLine(racer.lines)));
      const winners = racers.filter((_, i) => outcomes[i] === 'HELD');
      expect(winners).toHaveLength(1);
      const winnerPid = winners[0]!.child.pid;
      for (const outcome of outcomes.filter((o) => o !== 'HELD')) {
        expect(outcome).toMatch(new RegExp(`^LOCKED .*in use by another supervisor \\(pid ${winnerPid}: .*lock-child`));
      }
      await Promise.all(racers.map((racer) => killed(racer.child)));
    }
  }, 120_000); // a dozen Node processes starting at once on a busy machine

  it('is taken over from a holder killed with SIGKILL, and refuses Supervisor.open while held', async () => {
    const stateDir = tempDir();
    const holder = lockChild(stateDir);
    await nextLine(holder.lines);
    expect(await nextLine(holder.lines)).toBe('HELD');
    await expect(Supervisor.open({ stateDir })).rejects.toMatchObject({
      code: 'locked',
      message: expect.stringContaining(`pid ${holder.child.pid}`),
    });
    await killed(holder.child);
    const sv = await Supervisor.open({ stateDir });
    await sv.close();
  });
});
