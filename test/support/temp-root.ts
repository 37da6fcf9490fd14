/**
 * vitest globalSetup: every test run gets a temp root of its own (TMPDIR, which
 * os.tmpdir() and the processes tests start read), so what it leaves is told
 * apart from what other runs on the machine write to /tmp. At the end the root
 * must hold nothing but what the run shares (the busybox rootfs, and tsx's cache
 * for the child processes tests run with `--import tsx`): anything else is a
 * test that did not clean up (tempDir() in test/helpers.ts removes its own), and
 * fails the run after the root is removed.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The busybox rootfs every bundle of the run shares (test/support/busybox-bundle.ts builds it once). */
const SHARED = 'rootfs';
const shared = (name: string) => name === SHARED || /^tsx-\d+$/.test(name);

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'berth-run-'));
  // As /tmp itself: tests that run a supervisor as an unprivileged user (nobody) need to make their dirs in it.
  chmodSync(root, 0o1777);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  process.env.BERTH_TEST_ROOTFS = join(root, SHARED);
  return () => {
    const left = readdirSync(root).filter((name) => !shared(name));
    rmSync(root, { recursive: true, force: true });
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (left.length === 0) return;
    // Said and failed here: an error thrown from a global teardown does not fail a vitest run.
    console.error(`\nFAIL tests left ${left.length} entries in their temp dir (now removed): ${left.slice(0, 30).join(' ')}`);
    process.exitCode = 1;
  };
}
