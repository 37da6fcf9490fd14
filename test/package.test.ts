import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Supervisor, type ContainerInfo } from 'berth';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_MODULES = realpathSync(join(ROOT, 'node_modules'));
const run = promisify(execFile);

/** A command in `cwd`, its output returned; a failure shows what it said. */
async function sh(cwd: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  } catch (err) {
    const { stdout, stderr, message } = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${message}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

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

/**
 * What a user does: `npm pack` on a clean checkout (its files as git knows them,
 * no dist/), then installs the tarball into an empty project under npm's
 * install-script policy, made strict so that an unapproved script fails the
 * install. Packages come from npm's cache (--prefer-offline). One thing is not
 * as a user has it: better-sqlite3's install script (prebuild-install) would
 * download its prebuilt binary from GitHub, which this machine cannot reach
 * (and compiling SQLite instead takes minutes); it is handed the binary of the
 * same version already built for this Node as a local prebuild, through
 * prebuild-install's own setting, and the script does the rest as usual.
 * 154 s measured on this 2-core machine, most of it tsc in `npm pack`; with the
 * machine at a load average of 35 it passed 5 minutes, hence a 10-minute ceiling.
 */
function betterSqlitePrebuild(): string {
  const dir = tempDir('berth-prebuilds-');
  const { version } = JSON.parse(readFileSync(join(NODE_MODULES, 'better-sqlite3/package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(dir, name), '-C', join(NODE_MODULES, 'better-sqlite3'), 'build/Release/better_sqlite3.node']);
  return dir;
}

describe('a fresh project', () => {
  it('packs dist and the shim source but no shim, installs with berth building its shim, imports in ESM and TypeScript, runs a job through the bin', { timeout: 600_000 }, async () => {
    const clone = join(tempDir('berth-clone-'), 'berth');
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const file of files.filter((f) => f !== 'node_modules')) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(join(ROOT, file), join(clone, file));
    }
    symlinkSync(NODE_MODULES, join(clone, 'node_modules'));
    const packed = tempDir('berth-packed-');
    const listing = JSON.parse(await sh(clone, 'npm', ['pack', '--json', '--silent', '--pack-destination', packed])) as [{ filename: string; files: { path: string }[] }];
    const paths = listing[0].files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'src/io/process/berth-shim.c', 'scripts/build-shim.mjs', 'LICENSE']));
    expect(paths).not.toContain('dist/berth-shim');
    const tarball = join(packed, listing[0].filename);

    const app = tempDir('berth-app-');
    // A registry install approves `"berth": true`; npm names a tarball's scripts by its file: identity.
    const allowScripts = { [`file:${tarball}`]: true, 'better-sqlite3': true };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', allowScripts }));
    await sh(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--strict-allow-scripts', tarball], {
      npm_config_better_sqlite3_local_prebuilds: betterSqlitePrebuild(),
    });
    const shim = join(app, 'node_modules/berth/dist/berth-shim');
    expect(await sh(app, shim, ['--version'])).toMatch(/^berth-shim [0-9a-f]{16}\n$/);

    const stateDir = tempDir();
    const esm = `import { Supervisor } from 'berth';
const sv = await Supervisor.open({ stateDir: ${JSON.stringify(stateDir)} });
await sv.create({ id: 'esm', process: { args: ['echo', 'from esm'] } });
await sv.start('esm');
const exit = await sv.wait('esm');
console.log(exit.status, await sv.logs('esm'));
await sv.delete('esm');
await sv.close();`;
    expect(await sh(app, process.execPath, ['--input-type=module', '-e', esm])).toBe('0 from esm\n\n');

    // TypeScript under module nodenext, berth's own declarations checked too (no skipLibCheck).
    symlinkSync(join(NODE_MODULES, '@types'), join(app, 'node_modules/@types'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] } }));
    writeFileSync(
      join(app, 'index.ts'),
      `import { Supervisor, BerthError, type ContainerInfo } from 'berth';
const sv: Supervisor = await Supervisor.open({ stateDir: 'state' });
const list: ContainerInfo[] = sv.list();
const err: BerthError | undefined = undefined;
console.log(list, err);\n`,
    );
    await sh(app, process.execPath, [join(NODE_MODULES, 'typescript/bin/tsc'), '-p', '.']);

    const out = await sh(app, 'npx', ['--no-install', 'berth', '--state-dir', join(stateDir, 'cli'), 'run', '--rm', 'x', '--', 'echo', 'hi']);
    expect(out).toContain('hi');

    // A shim that is not this berth's is refused at open, naming the fix; the fix works.
    writeFileSync(shim, '#!/bin/sh\necho berth-shim 0000000000000000\n');
    const refused = await sh(app, process.execPath, ['--input-type=module', '-e', esm]).catch((e: Error) => e.message);
    expect(refused).toMatch(/berth-shim at .* is not the one built from this berth's source .*`npm rebuild berth`/);
    await sh(app, 'npm', ['rebuild', 'berth']);
    expect(await sh(app, process.execPath, ['--input-type=module', '-e', esm])).toBe('0 from esm\n\n');
    expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
  });
});
