import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../../src/cli/api/http-errors.js';
import { ROUTES } from '../../src/cli/api/routes.js';

const openapi = JSON.parse(readFileSync(new URL('../../src/cli/api/openapi.json', import.meta.url), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: { Error: { properties: { code: { enum: string[] } } } } };
};
const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options'];

describe('openapi.json', () => {
  it('describes exactly the routes the daemon serves', () => {
    expect(openapi.openapi).toBe('3.1.0');
    const documented = Object.entries(openapi.paths).flatMap(([path, item]) => Object.keys(item).filter((key) => METHODS.includes(key)).map((method) => `${method.toUpperCase()} ${path}`));
    const served = ROUTES.map((route) => `${route.method} ${route.path}`);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('lists every error code the daemon may answer with', () => {
    expect(openapi.components.schemas.Error.properties.code.enum.sort()).toEqual(Object.keys(STATUS_BY_CODE).sort());
  });
});
