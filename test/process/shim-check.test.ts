import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHIM_PATH } from '../../src/io/process/shim-client.js';
import { verifyShim } from '../../src/io/process/shim-check.js';
import { tempDir } from '../helpers.js';

function file(name: string, content: string | Buffer): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  chmodSync(path, 0o755);
  return path;
}

const rebuild = expect.stringContaining('rebuild it with `npm rebuild berth`');

describe('the shim is checked at open', () => {
  it('accepts the shim built from the source this berth ships', async () => {
    await expect(verifyShim(DEFAULT_SHIM_PATH)).resolves.toBeUndefined();
  });

  it('refuses a missing shim, saying how to rebuild it', async () => {
    const err = await verifyShim(join(tempDir(), 'berth-shim')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringMatching(/^berth-shim not found at /) });
    expect(err).toMatchObject({ message: rebuild });
  });

  it('refuses a shim that cannot run here (another machine’s binary)', async () => {
    const unrunnable = file('berth-shim', '');
    chmodSync(unrunnable, 0o600);
    expect(await verifyShim(unrunnable).catch((e: unknown) => e)).toMatchObject({ message: expect.stringMatching(/does not run \(.*EACCES/) });
    const err = await verifyShim(file('berth-shim', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 9, 9, 9, 9]))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringMatching(/is not the one built from this berth's source/) });
    expect(err).toMatchObject({ message: rebuild });
  });

  it('refuses a shim built from other source, or from before the check', async () => {
    for (const body of ['echo berth-shim 0123456789abcdef', 'echo usage >&2; exit 2']) {
      const err = await verifyShim(file('berth-shim', `#!/bin/sh\n${body}\n`)).catch((e: unknown) => e);
      const says = body.startsWith('echo berth') ? '"berth-shim 0123456789abcdef"' : '"usage"';
      expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringContaining(`not the one built from this berth's source (berth-shim `) });
      expect(err).toMatchObject({ message: expect.stringContaining(`; it says ${says})`) });
      expect(err).toMatchObject({ message: rebuild });
    }
  });
});
