import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { lastValueFrom, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../src/index.js';
import { readLog } from '../../src/io/os/process-log.js';
import { openSupervisor, tempDir } from '../helpers.js';

/** More than V8's longest string (about 512 MiB): read as one string, it cannot even be held. */
const MIB = 1024 * 1024;
const PRINTED = 600 * MIB;

describe('a process that prints a lot cannot sink the supervisor', () => {
  it('streams 600 MiB through output() in bounded chunks, every byte, with the event loop free', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'loud', process: { args: ['sh', '-c', `head -c ${PRINTED} /dev/zero | tr '\\0' x; echo END`] } });
    await sv.start('loud');
    expect((await sv.wait('loud')).status).toBe(0);

    const lag = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    let bytes = 0;
    let largest = 0;
    let last = '';
    lag.enable();
    const oneTurn = () => new Promise((settle) => setTimeout(settle, 50));
    try {
      await oneTurn(); // the monitor is running before the read starts
      await lastValueFrom(
        sv.output('loud').pipe(
          tap((text) => {
            bytes += text.length; // ASCII: one byte a character
            largest = Math.max(largest, text.length);
            last = text.slice(-4);
          }),
        ),
      );
      await oneTurn(); // and measures a read that blocked the loop to its end
    } finally {
      lag.disable();
      clearInterval(timer);
    }
    const maxLagMs = lag.max / 1e6;
    console.log(`output(): ${bytes} bytes in chunks of at most ${largest}; event loop: max lag ${maxLagMs.toFixed(1)} ms, timer fired ${ticks} times`);
    expect(bytes).toBe(PRINTED + 'END\n'.length);
    expect(last).toBe('END\n');
    expect(largest).toBeLessThanOrEqual(MIB);
    expect(ticks).toBeGreaterThan(0);
    expect(maxLagMs).toBeLessThan(1000);

    // logs() does not try to return it whole; its end is there for the asking.
    const err: unknown = await sv.logs('loud').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'too-large', message: expect.stringContaining('output()') });
    expect(await sv.logs('loud', 'init', { tailBytes: 10 })).toBe('xxxxxxEND\n');
    await sv.delete('loud');
  }, 180_000);

  it('tailBytes starts at the first whole character (plain) or line (conmon k8s-file)', async () => {
    const dir = tempDir();
    const plain = join(dir, 'plain.log');
    writeFileSync(plain, 'héllo wörld\n');
    // 'ö' is two bytes: the last 5 bytes start inside it.
    expect(await readLog({ path: plain, format: 'plain' }, 5)).toBe('rld\n');
    expect(await readLog({ path: plain, format: 'plain' }, 6)).toBe('örld\n');
    const k8s = join(dir, 'k8s.log');
    const lines = ['2024-01-01T00:00:00Z stdout F first', '2024-01-01T00:00:01Z stderr P sec', '2024-01-01T00:00:02Z stderr F ond'];
    writeFileSync(k8s, `${lines.join('\n')}\n`);
    expect(await readLog({ path: k8s, format: 'k8s' }, lines[2]!.length + 5)).toBe('ond\n');
    expect(await readLog({ path: k8s, format: 'k8s' }, 1000)).toBe('first\nsecond\n');
  });
});
