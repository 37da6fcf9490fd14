import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupAlive, openSupervisor } from './helpers.js';
import { hasPromtool, promtool, sample } from './support/promtool.js';

const metricsSuite = describe.skipIf(!hasPromtool() && !process.env.CI);

metricsSuite('metrics', () => {
  it('promtool accepts the exposition, and its values move as containers run', async () => {
    const sv = await openSupervisor({ metrics: { processMetrics: true } });
    const before = await sv.metrics();
    expect(promtool(before)).toEqual({ status: 0, output: '' });
    expect(sample(before, 'berth_container_start_seconds_count')).toBe(0);
    expect(sample(before, 'berth_exits_total{class="0"}')).toBe(0);
    expect(sample(before, 'berth_restore_duration_seconds')).toBeGreaterThan(0);

    await sv.run({ id: 'ok', process: { args: ['true'] } });
    await sv.run({ id: 'code', process: { args: ['sh', '-c', 'exit 3'] } });
    await sv.run({ id: 'high', process: { args: ['sh', '-c', 'exit 200'] } });
    await sv.run({ id: 'slow', process: { args: ['sleep', '10'] }, timeoutMs: 200, remove: true });
    await sv.create({ id: 'live', process: { args: ['sleep', '30'] } });
    await sv.start('live');
    await sv.runExec('live', { execId: 'e', args: ['true'] });
    const subscription = sv.events().subscribe();
    // A monitor killed under its process: that exit can never be learned (255, shim-lost).
    await sv.create({ id: 'lost', process: { args: ['sleep', '30'] } });
    const { pid } = await sv.start('lost');
    const monitor = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(monitor, 'SIGKILL');
    expect(await sv.wait('lost')).toMatchObject({ status: 255, reason: 'shim-lost' });
    for (let i = 0; i < 100 && groupAlive(pid); i++) await new Promise((done) => setTimeout(done, 20));
    expect(groupAlive(pid)).toBe(false); // berth kills what the lost monitor left

    const after = await sv.metrics();
    subscription.unsubscribe();
    expect(promtool(after)).toEqual({ status: 0, output: '' });
    expect(sample(after, 'berth_container_create_seconds_count')).toBe(6);
    expect(sample(after, 'berth_container_start_seconds_count')).toBe(6);
    expect(sample(after, 'berth_process_exec_seconds_count')).toBe(1);
    expect(sample(after, 'berth_container_delete_seconds_count')).toBe(1);
    expect(sample(after, 'berth_exits_total{class="0"}')).toBe(2); // ok, and the exec
    expect(sample(after, 'berth_exits_total{class="1-127"}')).toBe(1);
    expect(sample(after, 'berth_exits_total{class="128-255"}')).toBe(1);
    expect(sample(after, 'berth_exits_total{class="signal"}')).toBe(1); // the timeout
    expect(sample(after, 'berth_exits_total{class="255-unknown"}')).toBe(1);
    expect(sample(after, 'berth_shim_lost_total')).toBe(1);
    expect(sample(after, 'berth_exit_journal_seconds_count')).toBe(6);
    expect(sample(after, 'berth_containers{status="exited"}')).toBe(4);
    expect(sample(after, 'berth_containers{status="running"}')).toBe(1);
    expect(sample(after, 'berth_processes_running')).toBe(1);
    expect(sample(after, 'berth_event_subscribers')).toBe(1);
    expect(sample(after, 'berth_journal_rows')).toBe(sv.lastSeq);
    expect(sample(after, 'berth_journal_commit_seconds_count')).toBeGreaterThan(0);
    expect(sample(after, 'process_open_fds')).toBeGreaterThan(0);
    expect(sample(await sv.metrics(), 'berth_event_subscribers')).toBe(0);
  });

  it('two supervisors in one process keep their own metrics; process metrics only when asked; off is off', async () => {
    const a = await openSupervisor({ metrics: true });
    const b = await openSupervisor({ metrics: { processMetrics: true } });
    await a.run({ id: 'x', process: { args: ['true'] } });
    expect(sample(await a.metrics(), 'berth_container_start_seconds_count')).toBe(1);
    expect(sample(await b.metrics(), 'berth_container_start_seconds_count')).toBe(0);
    expect(await a.metrics()).not.toContain('process_open_fds');
    expect(promtool(await b.metrics()).status).toBe(0);
    await expect((await openSupervisor()).metrics()).rejects.toMatchObject({ code: 'unsupported' });
    await expect((await openSupervisor({ metrics: false })).metrics()).rejects.toMatchObject({ code: 'unsupported' });
    await expect(openSupervisor({ metrics: { processMetrics: 1 } as never })).rejects.toMatchObject({ code: 'invalid-spec' });
  });
});
