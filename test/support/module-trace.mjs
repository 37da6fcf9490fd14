// `node --import ./module-trace.mjs ...`: appends every module specifier the process imports, as
// `<specifier> <resolved url>` lines, to the file named by BERTH_MODULE_TRACE (from the loader's thread).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(out, specifier + ' ' + resolved.url + '\\n');
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { parentURL: import.meta.url, data: { out: process.env.BERTH_MODULE_TRACE } });
