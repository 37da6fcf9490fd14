import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHIM_PATH } from '../../src/io/process/shim-client.js';

/** A request as berth-shim reads it: NUL-terminated fields (see the head of berth-shim.c). */
function request(kind: string, req: number, args: string[], user: string, rlimits: string): string {
  return [kind, String(req), '/', 'p', '-', '/', String(args.length), ...args, '0', user, rlimits].map((f) => `${f}\0`).join('');
}

const BAD_USERS = ['abc', '-1 0', '0', '0 x', '4294967295 0', '0 4294967295', '18446744073709551616 0', '0 0  1', ' 0 0', `0 0 ${'1 '.repeat(65_537)}`];
const BAD_RLIMITS = [
  'RLIMIT_NOFILE 10',
  'RLIMIT_NOFILE 20 10',
  'RLIMIT_BOGUS 1 1',
  'RLIMIT_NOFILEX 1 1',
  'RLIMIT_NOFILE 1 1 RLIMIT_NOFILE 1 1',
  'RLIMIT_NOFILE -1 1',
  'RLIMIT_NOFILE 1 unlimitedx',
  'RLIMIT_NOFILE 18446744073709551615 18446744073709551615',
  'RLIMIT_NOFILE 1 99999999999999999999999',
  'rlimit_nofile 1 1',
];

describe.skipIf(!existsSync(DEFAULT_SHIM_PATH))('berth-shim: the user and rlimits fields of a request', () => {
  it('refuses hostile values with EINVAL before forking, and reads the next request as usual', async () => {
    const zygote = spawn(DEFAULT_SHIM_PATH, ['zygote'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines: string[] = [];
    createInterface({ input: zygote.stdout }).on('line', (line) => lines.push(line));
    const bad = [...BAD_USERS.map((user) => [user, '']), ...BAD_RLIMITS.map((rlimits) => ['', rlimits])];
    bad.forEach(([user, rlimits], i) => zygote.stdin.write(request('S', i, ['true'], user!, rlimits!)));
    const good = bad.length;
    zygote.stdin.write(request('C', good, ['sh', '-c', 'echo \'{"ok": 1}\' >&3'], '', 'RLIMIT_NOFILE 64 unlimited'));
    await expect.poll(() => lines.some((line) => line.startsWith(`C ${good} `))).toBe(true);
    zygote.stdin.end();
    await once(zygote, 'exit');
    const refused = lines.filter((line) => line.startsWith('F '));
    expect(refused.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual(bad.map((_, i) => `F ${i} 22`));
    expect(lines).toContain(`C ${good} {"ok": 1}`);
  }, 30_000);
});
