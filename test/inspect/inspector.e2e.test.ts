import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWebSocketInspector } from '@statelyai/inspect';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createActor, createMachine } from 'xstate';
import { openSupervisor, tempDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/** What this machine's closed network needs from Chromium (see README). */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the live viewer, in headless Chromium, with no internet', () => {
  let browser: Browser;
  beforeAll(async () => {
    // Playwright gives each launch a fresh, empty profile (user data dir) of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the actor tree reach running then exited, its statechart, and the exec exit before init exit', async () => {
    const control = tempDir('berth-viewer-');
    const until = (name: string) => ['sh', '-c', `while [ ! -e '${join(control, name)}' ]; do sleep 0.02; done`];
    const sv = await openSupervisor({ inspect: true });
    expect(sv.viewerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/viewer\?token=[\w-]{43}$/);
    const page = await browser.newPage();
    await page.goto(sv.viewerUrl!);
    await page.locator('#status', { hasText: 'live' }).waitFor();

    await sv.create({ id: 'web', process: { args: until('init.stop') } });
    await sv.start('web');
    await sv.exec('web', { execId: 'job', args: until('job.stop') });
    const container = page.locator('li[data-actor="container"][data-label="web"]');
    await expect.poll(() => container.getAttribute('data-state')).toContain('lifecycle: running');
    await expect.poll(() => page.locator('li[data-actor="process"][data-label="job"]').getAttribute('data-state')).toBe('running');
    // The selected container's diagram highlights its current state.
    await expect.poll(() => page.locator('#diagram g.active[id="state:lifecycle.running"]').count()).toBe(1);

    writeFileSync(join(control, 'init.stop'), ''); // init exits; the still-running exec is killed first
    await sv.wait('web');
    await expect.poll(() => container.getAttribute('data-state')).toContain('lifecycle: exited');
    await expect.poll(() => page.locator('#diagram g.active[id="state:lifecycle.exited"]').count()).toBe(1);
    await expect.poll(() => page.locator('#journal .row[data-type="exit"]').count()).toBe(2);
    const exits = await page.locator('#journal .row[data-type="exit"]').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset.process));
    expect(exits).toEqual(['job', 'init']);
    const seqs = await page.locator('#journal .row').evaluateAll((rows) => rows.map((r) => Number((r as unknown as { dataset: Record<string, string> }).dataset.seq)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('inspector.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();
  });

  it("renders another publisher's actor names as text, not markup, beside berth's own tree", async () => {
    const sv = await openSupervisor({ inspect: true });
    await sv.create({ id: 'web', process: { args: ['true'] } });
    const page = await browser.newPage();
    await page.goto(sv.viewerUrl!);
    await page.locator('#status', { hasText: 'live' }).waitFor();

    const name = '<img src=x onerror="window.__injected = 1">';
    const ws = sv.viewerUrl!.replace(/^http:\/\/([^/]+)\/viewer/, 'ws://$1/');
    const inspector = createWebSocketInspector({ url: ws });
    const hostile = createActor(createMachine({ id: name, initial: 'idle', states: { idle: {} } }), { inspect: inspector.inspect });
    hostile.start();
    const foreign = page.locator('li', { hasText: name });
    await foreign.first().waitFor();
    expect(await page.locator('#tree img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __injected?: number }).__injected)).toBeUndefined();
    // berth's own tree is still there, its root its own.
    expect(await page.locator('li[data-actor="supervisor"] li[data-actor="container"][data-label="web"]').count()).toBe(1);
    hostile.stop();
    inspector.stop();
    await page.close();
  });

  it('serves the bridge page for the hosted Stately inspector, and stops with close()', async () => {
    const sv = await openSupervisor({ inspect: { inspectorUrl: 'http://127.0.0.1:9/unreachable' } });
    const response = await fetch(sv.inspectUrl!);
    expect(await response.text()).toContain('<iframe id="inspector" src="http://127.0.0.1:9/unreachable">');
    // In a browser, the page's WebSocket gets in with the page's token and origin: the replay arrives.
    const page = await browser.newPage();
    const socket = page.waitForEvent('websocket');
    await page.goto(sv.inspectUrl!);
    await (await socket).waitForEvent('framereceived');
    await page.close();
    await sv.close();
    await expect(fetch(sv.inspectUrl!)).rejects.toThrow();
  });
});

describe('the inspection relay', () => {
  it("passes other inspectors' events on to viewers, and ignores a message that is not JSON", async () => {
    const sv = await openSupervisor({ inspect: true });
    const url = sv.inspectUrl!.replace(/^http/, 'ws');
    const [viewer, publisher] = [new WebSocket(url), new WebSocket(url)];
    await Promise.all([viewer, publisher].map((ws) => once(ws, 'open')));
    const received: string[] = [];
    viewer.on('message', (data) => received.push(String(data)));
    publisher.send('not json');
    publisher.send(JSON.stringify({ type: '@xstate.event', sessionId: 'elsewhere', event: { type: 'PING' } }));
    await expect.poll(() => received.some((text) => text.includes('PING'))).toBe(true);
    await sv.create({ id: 'after', process: { args: ['true'] } }); // the supervisor carries on
    viewer.close();
    publisher.close();
  });
});
