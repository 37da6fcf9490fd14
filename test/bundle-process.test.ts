import { describe, expect, it } from 'vitest';
import { redactEnv } from '../src/redact.js';
import { openSupervisor, tempDir } from './helpers.js';

describe("create's changes to a bundle's process", () => {
  it('take args, env and an absolute cwd, nothing else, checked before anything is made', async () => {
    const sv = await openSupervisor();
    const bundle = tempDir('berth-bundle-');
    await expect(sv.create({ id: 'u', bundle, process: { args: ['sh'], user: { uid: 0, gid: 0 } } })).rejects.toMatchObject({
      code: 'invalid-spec',
      message: expect.stringContaining('may change only args, env and cwd'),
    });
    await expect(sv.create({ id: 'c', bundle, process: { cwd: 'srv' } })).rejects.toMatchObject({ code: 'invalid-spec', message: expect.stringContaining('must be absolute') });
    await expect(sv.create({ id: 'a', bundle, process: { args: [] } })).rejects.toMatchObject({ code: 'invalid-spec' });
    await expect(sv.create({ id: 'e', bundle, process: { env: { 'A=B': 'x' } } })).rejects.toMatchObject({ code: 'invalid-spec' });
    expect(sv.list()).toEqual([]);
  });

  it('have their env values redacted wherever a spec is let out, as a process spec has', () => {
    expect(redactEnv({ spec: { bundle: '/b', process: { env: { TOKEN: 's3cret' }, cwd: '/srv' } } })).toEqual({
      spec: { bundle: '/b', process: { env: { TOKEN: '[redacted]' }, cwd: '/srv' } },
    });
  });
});
