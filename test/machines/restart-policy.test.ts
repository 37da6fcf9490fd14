import { describe, expect, it } from 'vitest';
import { BACKOFF_RESET_MS, nextDelay, NO_RESTARTS, restartDue } from '../../src/machines/restart-policy.js';
import type { RestartPolicy } from '../../src/index.js';

const at = (ms: number) => new Date(1_000_000 + ms);
const exit = (status: number, ms: number) => ({ status, exitedAt: at(ms) });
const policy = (name: RestartPolicy['policy'], maxRetries?: number): RestartPolicy => ({
  policy: name,
  backoffMs: { initial: 100, max: 1_000 },
  ...(maxRetries === undefined ? {} : { maxRetries }),
});

describe('restart policy decisions', () => {
  it('on-failure restarts a non-zero status only; always and unless-stopped any; none without a policy', () => {
    expect(restartDue(policy('on-failure'), NO_RESTARTS, exit(1, 0))).toBe(true);
    expect(restartDue(policy('on-failure'), NO_RESTARTS, exit(0, 0))).toBe(false);
    for (const name of ['always', 'unless-stopped'] as const) expect(restartDue(policy(name), NO_RESTARTS, exit(0, 0))).toBe(true);
    expect(restartDue(undefined, NO_RESTARTS, exit(1, 0))).toBe(false);
  });

  it('maxRetries bounds the restarts of the whole life', () => {
    expect(restartDue(policy('always', 3), { attempts: 2, ended: false }, exit(1, 0))).toBe(true);
    expect(restartDue(policy('always', 3), { attempts: 3, ended: false }, exit(1, 0))).toBe(false);
  });

  it("a user's stop ends every policy; on the next open, always restarts anyway and unless-stopped does not", () => {
    const stopped = { attempts: 0, ended: true };
    for (const name of ['on-failure', 'always', 'unless-stopped'] as const) expect(restartDue(policy(name), stopped, exit(137, 0))).toBe(false);
    expect(restartDue(policy('always'), stopped, exit(137, 0), true)).toBe(true);
    expect(restartDue(policy('unless-stopped'), stopped, exit(137, 0), true)).toBe(false);
    expect(restartDue(policy('on-failure'), stopped, exit(137, 0), true)).toBe(false);
  });

  it('the backoff doubles up to max, and starts again from initial after a run of 10 s', () => {
    const p = policy('always');
    expect(nextDelay(p, NO_RESTARTS, exit(1, 50))).toBe(100);
    expect(nextDelay(p, { attempts: 1, lastDelayMs: 100, startedAt: at(0), ended: false }, exit(1, 50))).toBe(200);
    expect(nextDelay(p, { attempts: 4, lastDelayMs: 800, startedAt: at(0), ended: false }, exit(1, 50))).toBe(1_000);
    expect(nextDelay(p, { attempts: 5, lastDelayMs: 1_000, startedAt: at(0), ended: false }, exit(1, BACKOFF_RESET_MS - 1))).toBe(1_000);
    expect(nextDelay(p, { attempts: 5, lastDelayMs: 1_000, startedAt: at(0), ended: false }, exit(1, BACKOFF_RESET_MS))).toBe(100);
  });
});
