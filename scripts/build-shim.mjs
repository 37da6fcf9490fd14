// Compiles the process runtime's shim (src/io/process/berth-shim.c) to dist/berth-shim.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
const cc = process.env.CC ?? 'cc';
execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', 'dist/berth-shim', 'src/io/process/berth-shim.c'], {
  stdio: 'inherit',
});
