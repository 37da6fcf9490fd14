// Compiles the shim (src/io/process/berth-shim.c) to dist/berth-shim, stamped with the digest of its
// source, which berth checks at open (src/io/process/shim-check.ts). Run by `npm run build`, and by npm
// when berth is installed: the shim is built on the machine that runs it, never shipped prebuilt.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = 'src/io/process/berth-shim.c';
const digest = createHash('sha256').update(readFileSync(new URL(`../${source}`, import.meta.url))).digest('hex').slice(0, 16);
const cc = process.env.CC ?? 'cc';

mkdirSync(new URL('../dist', import.meta.url), { recursive: true });
try {
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', `-DBERTH_SHIM_SOURCE="${digest}"`, '-o', 'dist/berth-shim', source], {
    cwd: root,
    stdio: 'inherit',
  });
} catch (err) {
  const missing = err.code === 'ENOENT';
  console.error(
    missing
      ? `berth: cannot build its shim: no C compiler (\`${cc}\`). Install one (Debian/Ubuntu: apt-get install gcc; Alpine: apk add build-base; Fedora: dnf install gcc), or name it in CC, then run \`npm rebuild berth\`.`
      : `berth: compiling its shim with \`${cc}\` failed (above). Fix that, then run \`npm rebuild berth\`.`,
  );
  process.exit(1);
}
