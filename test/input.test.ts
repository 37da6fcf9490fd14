import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BerthError, Supervisor, type BerthErrorCode } from '../src/index.js';
import { openSupervisor, storedEvents, tempDir } from './helpers.js';

/** What a caller with a bug, or a hostile one, may pass where berth expects something else. */
const HUGE = 'x'.repeat(8 * 1024 * 1024);
const PROTO_KEYS = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 5}') as object;
const NOT_OBJECTS: unknown[] = [null, 42, NaN, 'text', ['a'], [], true, new Map(), new Date(0)];
const NOT_IDS: unknown[] = [null, undefined, 42, NaN, {}, [], '', 'a\0b', HUGE, '__proto__', '../x', 'a/b'];
const NOT_ARGS: unknown[] = [null, 'true', [], [''], ['true', 5], ['true', null], ['tr\0ue'], [HUGE], {}, PROTO_KEYS];
const NOT_ENVS: unknown[] = [
  'A=1',
  ['A=1'],
  { A: 5 },
  { A: null },
  { A: undefined },
  { 'A=B': 'x' },
  { '': 'x' },
  { A: 'a\0b' },
  { 'A\0': 'x' },
  { A: HUGE },
  { ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`BIG${i}`, 'y'.repeat(100_000)])) },
  PROTO_KEYS,
  null,
  42,
];
const NOT_CWDS: unknown[] = [null, 42, '', 'dir\0', HUGE, {}, []];
const NOT_LABELS: unknown[] = [...NOT_OBJECTS.filter((v) => v !== null), null, { a: 1 }, { '': 'x' }, { a: 'b\0' }, { a: HUGE }, PROTO_KEYS];
const NOT_NUMBERS: unknown[] = [NaN, -5, -1, Infinity, -Infinity, 1.5, 'abc', '10', null, {}, 2 ** 53];
const NOT_BOOLEANS: unknown[] = [1, 'yes', null, {}, []];
const NOT_USERS: unknown[] = [
  ...NOT_OBJECTS,
  {},
  { uid: 1 },
  { gid: 1 },
  { uid: -1, gid: 0 },
  { uid: 2 ** 32 - 1, gid: 0 },
  { uid: 0, gid: 1.5 },
  { uid: '0', gid: 0 },
  { uid: 0, gid: 0, additionalGids: 5 },
  { uid: 0, gid: 0, additionalGids: [-1] },
  { uid: 0, gid: 0, additionalGids: ['1'] },
  { uid: 0, gid: 0, additionalGids: new Array(65_537).fill(1) },
  { uid: 0, gid: 0, umask: 0o22 },
  PROTO_KEYS,
];
const rlimit = (overrides: object) => [{ type: 'RLIMIT_NOFILE', soft: 64, hard: 64, ...overrides }];
const NOT_RLIMITS: unknown[] = [
  ...NOT_OBJECTS.filter((v) => !Array.isArray(v)),
  [null],
  ['RLIMIT_NOFILE'],
  rlimit({ type: 'NOFILE' }),
  rlimit({ type: 'RLIMIT_nofile' }),
  rlimit({ type: '__proto__' }),
  rlimit({ soft: 65 }),
  ...NOT_NUMBERS.map((soft) => rlimit({ soft })),
  rlimit({ hard: 2 ** 60 }),
  rlimit({ hard: undefined }),
  rlimit({ extra: 1 }),
  [...rlimit({}), ...rlimit({})],
  new Array(17).fill(rlimit({})[0]),
];

interface Case {
  name: string;
  call: (sv: Supervisor) => unknown;
  code: BerthErrorCode;
  /** Calls that return a value or an Observable may throw at the call; every other call must reject. */
  sync?: boolean;
}

const cases = (name: string, values: unknown[], code: BerthErrorCode, call: (sv: Supervisor, value: never) => unknown, sync = false): Case[] =>
  values.map((value, i) => ({ name: `${name} #${i}`, code, sync, call: (sv) => call(sv, value as never) }));

const process = (overrides: object) => ({ id: 'n', process: { args: ['true'], ...overrides } });

/** Every public method, every argument, every kind of bad value. */
const TABLE: Case[] = [
  ...cases('create(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.create(v)),
  ...cases('create id', NOT_IDS, 'invalid-id', (sv, v) => sv.create({ id: v, process: { args: ['true'] } })),
  ...cases('create process', [...NOT_OBJECTS, undefined], 'invalid-spec', (sv, v) => sv.create({ id: 'n', process: v })),
  ...cases('create args', NOT_ARGS, 'invalid-spec', (sv, v) => sv.create(process({ args: v }))),
  ...cases('create env', NOT_ENVS, 'invalid-spec', (sv, v) => sv.create(process({ env: v }))),
  ...cases('create cwd', NOT_CWDS, 'invalid-spec', (sv, v) => sv.create(process({ cwd: v }))),
  ...cases('create user', NOT_USERS, 'invalid-spec', (sv, v) => sv.create(process({ user: v }))),
  ...cases('create rlimits', NOT_RLIMITS, 'invalid-spec', (sv, v) => sv.create(process({ rlimits: v }))),
  ...cases('create labels', NOT_LABELS, 'invalid-spec', (sv, v) => sv.create({ ...process({}), labels: v })),
  ...cases('create bundle', NOT_CWDS, 'invalid-spec', (sv, v) => sv.create({ id: 'n', bundle: v })),
  ...cases('start', NOT_IDS, 'invalid-id', (sv, v) => sv.start(v)),
  ...cases('exec id', NOT_IDS, 'invalid-id', (sv, v) => sv.exec(v, { execId: 'e', args: ['true'] })),
  ...cases('exec(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.exec('c', v)),
  ...cases('exec execId', [...NOT_IDS, 'init'], 'invalid-id', (sv, v) => sv.exec('c', { execId: v, args: ['true'] })),
  ...cases('exec args', NOT_ARGS, 'invalid-spec', (sv, v) => sv.exec('c', { execId: 'e', args: v })),
  ...cases('exec env', NOT_ENVS, 'invalid-spec', (sv, v) => sv.exec('c', { execId: 'e', args: ['true'], env: v })),
  ...cases('exec user', NOT_USERS, 'invalid-spec', (sv, v) => sv.exec('c', { execId: 'e', args: ['true'], user: v })),
  ...cases('exec rlimits', NOT_RLIMITS, 'invalid-spec', (sv, v) => sv.exec('c', { execId: 'e', args: ['true'], rlimits: v })),
  ...cases('exec cwd', NOT_CWDS, 'invalid-spec', (sv, v) => sv.exec('c', { execId: 'e', args: ['true'], cwd: v })),
  ...cases('signal id', NOT_IDS, 'invalid-id', (sv, v) => sv.signal(v, 'init', 'SIGTERM')),
  ...cases('signal processId', NOT_IDS, 'invalid-id', (sv, v) => sv.signal('c', v, 'SIGTERM')),
  ...cases('signal processId', ['constructor', 'toString', 'hasOwnProperty'], 'not-found', (sv, v) => sv.signal('c', v, 'SIGTERM')),
  ...cases('signal', [null, undefined, {}, [], NaN, 'SIG\0TERM', HUGE, -1, 1e9, '__proto__', 'constructor'], 'invalid-signal', (sv, v) =>
    sv.signal('c', 'init', v),
  ),
  ...cases('pause', NOT_IDS, 'invalid-id', (sv, v) => sv.pause(v)),
  ...cases('resume', NOT_IDS, 'invalid-id', (sv, v) => sv.resume(v)),
  ...cases('stats', NOT_IDS, 'invalid-id', (sv, v) => sv.stats(v)),
  ...cases('update id', NOT_IDS, 'invalid-id', (sv, v) => sv.update(v, {})),
  ...cases('update resources', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.update('c', v)),
  ...cases('checkpoint id', NOT_IDS, 'invalid-id', (sv, v) => sv.checkpoint(v, { name: 'x' })),
  ...cases('checkpoint(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.checkpoint('c', v)),
  ...cases('checkpoint name', NOT_IDS, 'invalid-id', (sv, v) => sv.checkpoint('c', { name: v })),
  ...cases('checkpoint imagePath', NOT_CWDS, 'invalid-spec', (sv, v) => sv.checkpoint('c', { name: 'x', imagePath: v })),
  ...cases('checkpoint flags', NOT_BOOLEANS, 'invalid-spec', (sv, v) => sv.checkpoint('c', { name: 'x', leaveRunning: v })),
  ...cases('delete id', NOT_IDS, 'invalid-id', (sv, v) => sv.delete(v)),
  ...cases('delete(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.delete('c', v)),
  ...cases('delete force', NOT_BOOLEANS, 'invalid-spec', (sv, v) => sv.delete('c', { force: v })),
  ...cases('wait id', NOT_IDS, 'invalid-id', (sv, v) => sv.wait(v)),
  ...cases('wait processId', NOT_IDS.filter((v) => v !== undefined), 'invalid-id', (sv, v) => sv.wait('c', v)),
  ...cases('wait processId', ['constructor', 'valueOf'], 'not-found', (sv, v) => sv.wait('c', v)),
  ...cases('logs id', NOT_IDS, 'invalid-id', (sv, v) => sv.logs(v)),
  ...cases('logs processId', NOT_IDS.filter((v) => v !== undefined), 'invalid-id', (sv, v) => sv.logs('c', v)),
  ...cases('logs(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.logs('c', 'init', v)),
  ...cases('logs tailBytes', [...NOT_NUMBERS, 0, 16 * 1024 * 1024 + 1], 'invalid-spec', (sv, v) => sv.logs('c', 'init', { tailBytes: v })),
  ...cases('output id', NOT_IDS, 'invalid-id', (sv, v) => sv.output(v), true),
  ...cases('output processId', NOT_IDS.filter((v) => v !== undefined), 'invalid-id', (sv, v) => sv.output('c', v), true),
  ...cases('get', NOT_IDS, 'invalid-id', (sv, v) => sv.get(v), true),
  ...cases('get', ['constructor', 'toString', 'hasOwnProperty'], 'not-found', (sv, v) => sv.get(v), true),
  ...cases('start', ['constructor', 'toString'], 'not-found', (sv, v) => sv.start(v)),
  ...cases('events(query)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.events(v), true),
  ...cases('events after', NOT_NUMBERS.filter((v) => v !== null), 'invalid-spec', (sv, v) => sv.events({ after: v }), true),
  ...cases('events since', [0, 'yesterday', new Date(NaN), {}], 'invalid-spec', (sv, v) => sv.events({ since: v }), true),
  ...cases('events types', ['exit', [5], ['__proto__'], {}], 'invalid-spec', (sv, v) => sv.events({ types: v }), true),
  ...cases('events storedOnly', NOT_BOOLEANS, 'invalid-spec', (sv, v) => sv.events({ after: 0, storedOnly: v }), true),
  ...cases('events id', NOT_IDS.filter((v) => v !== undefined), 'invalid-id', (sv, v) => sv.events({ id: v }), true),
  ...cases('close(options)', NOT_OBJECTS, 'invalid-spec', (sv, v) => sv.close(v)),
  ...cases('close leaveRunning', NOT_BOOLEANS, 'invalid-spec', (sv, v) => sv.close({ leaveRunning: v })),
];

/** Runs a call and returns the code of the BerthError it failed with; anything else fails the test. */
async function failure({ call, sync }: Case, sv: Supervisor): Promise<string> {
  let result: unknown;
  try {
    result = call(sv);
  } catch (err) {
    if (!sync) throw new Error(`threw synchronously instead of rejecting: ${String(err)}`);
    return codeOf(err);
  }
  if (!sync) expect(result).toBeInstanceOf(Promise);
  try {
    await result;
  } catch (err) {
    return codeOf(err);
  }
  throw new Error('the call succeeded');
}

/** The error's code; a message that repeats a huge value back is a fault of its own. */
function codeOf(err: unknown): string {
  expect(err).toBeInstanceOf(BerthError);
  const { code, message } = err as BerthError;
  return message.length > 500 ? `${code} with a ${message.length}-character message` : code;
}

describe('hostile input at every public method', () => {
  it('is refused with a BerthError of the right code, at the call, leaving nothing behind', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir });
    await sv.create({ id: 'c', process: { args: ['sleep', '60'] } });
    await sv.start('c');
    const rowsBefore = (await storedEvents(sv)).length;

    const wrong: string[] = [];
    for (const testCase of TABLE) {
      const code = await Promise.race([
        failure(testCase, sv).catch((err: Error) => `not a BerthError: ${err.message.slice(0, 120)}`),
        new Promise<string>((settle) => setTimeout(() => settle('never settled'), 10_000).unref()),
      ]);
      if (code !== testCase.code) wrong.push(`${testCase.name}: ${code}, wanted ${testCase.code}`);
    }
    expect(wrong).toEqual([]);

    expect(sv.list().map((c) => c.id)).toEqual(['c']);
    expect(sv.get('c')).toMatchObject({ status: 'running', processes: [{ id: 'init', status: 'running' }] });
    expect(readdirSync(join(stateDir, 'containers'))).toEqual(['c']);
    expect((await storedEvents(sv)).length).toBe(rowsBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);

  it('refuses bad open options before creating anything', async () => {
    const parent = tempDir();
    const stateDir = join(parent, 'state');
    const logger = pino({ level: 'silent' });
    const bad: [string, unknown][] = [
      ...NOT_OBJECTS.map((v) => ['options', v] as [string, unknown]),
      ...[undefined, '', 42, null, 'a\0b', HUGE, {}].map((v) => ['stateDir', { stateDir: v, logger }] as [string, unknown]),
      ...NOT_NUMBERS.map((v) => ['startTimeoutMs', { stateDir, logger, startTimeoutMs: v }] as [string, unknown]),
      ['startTimeoutMs', { stateDir, logger, startTimeoutMs: 0 }],
      ['startTimeoutMs', { stateDir, logger, startTimeoutMs: 2 ** 31 }],
      ...NOT_NUMBERS.map((v) => ['retainCount', { stateDir, logger, retainCount: v }] as [string, unknown]),
      ...[42, 'docker', '', null].map((v) => ['runtime', { stateDir, logger, runtime: v }] as [string, unknown]),
      ...[42, '', 'a\0b'].map((v) => ['runcPath', { stateDir, logger, runcPath: v }] as [string, unknown]),
      ...['--root', [5], ['a\0']].map((v) => ['runtimeArgs', { stateDir, logger, runtimeArgs: v }] as [string, unknown]),
      ...['rel/path', '/a/../b', 5].map((v) => ['cgroupParent', { stateDir, logger, runtime: 'runc', cgroupParent: v }] as [string, unknown]),
      ...[5, 'pino', {}, null].map((v) => ['logger', { stateDir, logger: v }] as [string, unknown]),
      ...[5, 'yes', null, [], { port: -1 }, { port: 70_000 }, { port: '80' }, { host: 5 }, { inspectorUrl: '' }, { inspectorUrl: 'javascript:alert(1)' }].map(
        (v) => ['inspect', { stateDir, logger, inspect: v }] as [string, unknown],
      ),
    ];
    const wrong: string[] = [];
    for (const [name, options] of bad) {
      const err: unknown = await Supervisor.open(options as never).then(
        async (sv) => {
          await sv.close();
          return 'opened';
        },
        (e: unknown) => e,
      );
      if (!(err instanceof BerthError && err.code === 'invalid-spec')) wrong.push(`${name}: ${String(err).slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  }, 60_000);

  it('reports an OS failure to open the state dir as runtime-error', async () => {
    const notADir = join(tempDir(), 'file');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(notADir, '');
    const err: unknown = await Supervisor.open({ stateDir: join(notADir, 'state'), logger: pino({ level: 'silent' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'runtime-error' });
  });

  it('passes env names and values through exactly, the odd but valid ones too', async () => {
    const sv = await openSupervisor();
    const env = JSON.parse('{"__proto__": "p", "constructor": "c", "EMPTY": "", "SPACE D": "a b"}') as Record<string, string>;
    await sv.create({ id: 'envs', process: { args: ['env'], env } });
    await sv.start('envs');
    await sv.wait('envs');
    const seen = (await sv.logs('envs')).split('\n').filter((line) => /^(__proto__|constructor|EMPTY|SPACE D)=/.test(line));
    expect(seen.sort()).toEqual(['EMPTY=', 'SPACE D=a b', '__proto__=p', 'constructor=c']);
  });

  it('runs an exec called constructor, which a lookup on a plain object would take for an existing one', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'toString', process: { args: ['sleep', '60'] } });
    await sv.start('toString');
    await sv.exec('toString', { execId: 'constructor', args: ['true'] });
    expect((await sv.wait('toString', 'constructor')).status).toBe(0);
    expect(sv.get('toString').processes.map((p) => p.id)).toEqual(['init', 'constructor']);
  });
});
