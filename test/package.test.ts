import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Supervisor, type ContainerInfo } from 'berth';
import { tempDir } from './helpers.js';

describe("the package's entry point", () => {
  it("resolves `import { Supervisor } from 'berth'` to the built dist, with types", async () => {
    const sv = await Supervisor.open({ stateDir: tempDir() });
    const list: ContainerInfo[] = sv.list();
    expect(list).toEqual([]);
    await sv.close();
  });

  it('loads from plain Node, outside any test tooling', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('berth'); console.log(typeof m.Supervisor.open, import.meta.resolve('berth'))"],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toMatch(/^function file:\/\/.*\/dist\/index\.js$/);
  });
});
