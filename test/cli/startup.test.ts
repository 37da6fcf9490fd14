import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { BIN, startDaemon } from './berth-cli.js';

const TRACE = fileURLToPath(new URL('../support/module-trace.mjs', import.meta.url));
/** What only the supervisor's side needs: a command served by a daemon must not load it. */
const SUPERVISOR_SIDE = ['xstate', 'better-sqlite3', 'rxjs', '@statelyai/inspect', 'ws', 'ora', 'pino', 'pino-pretty', 'prom-client', 'execa', '/supervisor.js'];

/** The modules a berth command imports (as `<specifier> <url>` lines), run to its end. */
function importsOf(stateDir: string, ...args: string[]): Promise<string[]> {
  const out = join(tempDir('berth-trace-'), 'modules');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', TRACE, BIN, '--state-dir', stateDir, ...args], { env: { ...process.env, BERTH_MODULE_TRACE: out } }, (err) => {
      if (err) return reject(err);
      resolve(readFileSync(out, 'utf8').trim().split('\n'));
    });
  });
}

const loaded = (imports: string[], name: string): boolean =>
  imports.some((line) => {
    const [specifier, url] = line.split(' ');
    return name.startsWith('/') ? url!.endsWith(name) : specifier === name || specifier!.startsWith(`${name}/`) && !specifier!.startsWith('rxjs/internal/');
  });

describe('a command served by a daemon loads only the client side', () => {
  it('berth ps and berth run --rm load none of the supervisor, SQLite, xstate, rxjs operators, the inspector, ora or pino', async () => {
    const dir = tempDir();
    await startDaemon(dir);
    for (const args of [['ps'], ['run', '--rm', 'x', '--', 'true']]) {
      const imports = await importsOf(dir, ...args);
      expect(loaded(imports, 'commander'), 'the trace sees imports').toBe(true);
      expect(SUPERVISOR_SIDE.filter((name) => loaded(imports, name)), args.join(' ')).toEqual([]);
    }
  }, 120_000);

  it('without a daemon, the command opens the state dir itself and loads the supervisor, but not the inspector unless asked', async () => {
    const imports = await importsOf(tempDir(), 'ps');
    expect(loaded(imports, '/supervisor.js')).toBe(true);
    expect(['@statelyai/inspect', 'ws'].filter((name) => loaded(imports, name))).toEqual([]);
  }, 60_000);
});
