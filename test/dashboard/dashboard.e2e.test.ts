/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a sandboxed server with
 * an API key: log in, watch a call placed through the API appear in the list and change status live, place a
 * call from the form (the interrupting persona), watch its transcript grow while it is in progress (server-sent
 * events, no reload), see the interruption marked, open a reply's latency waterfall, and play the call's recording
 * from a turn. Screenshots go to test-output/dashboard/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import { postJson, startTestServer } from '../server/helpers.ts';

const API_KEY = 'dashboard-browser-test-key-0123456789';
const SCREENSHOTS = resolve('test-output/dashboard');
const auth = { authorization: `Bearer ${API_KEY}` };

let server: RunningSwitchboard;
let context: BrowserContext;
let page: Page;
let userDataDir: string;

beforeAll(async () => {
  // Build from the current sources (npm install's `prepare` does the same), before the server reads the assets.
  await build({ root: resolve('dashboard'), logLevel: 'warn' });
  mkdirSync(SCREENSHOTS, { recursive: true });
  userDataDir = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
  [server, context] = await Promise.all([
    startTestServer({ SWITCHBOARD_API_KEY: API_KEY }),
    chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport: { width: 1280, height: 900 },
    }),
  ]);
  page = context.pages()[0] ?? (await context.newPage());
}, 60_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function getCall(id: string): Promise<CallRecord> {
  return (await (await fetch(`${server.url}/calls/${id}`, { headers: auth })).json()) as CallRecord;
}

/** What the test reads of the page's `<audio>` element. */
interface MediaState {
  duration: number;
  currentTime: number;
  paused: boolean;
}

const statusOfRow = (id: string) => page.locator(`[data-testid="call-row"][data-call-id="${id}"] [data-testid="status"]`);

it('logs in, follows calls live, places one from the form, and shows its transcript and latency', { timeout: 90_000 }, async () => {
  // Log in: the session is an HttpOnly cookie the page's scripts cannot read.
  await page.goto(`${server.url}/dashboard`);
  await page.getByLabel('API key (SWITCHBOARD_API_KEY)').fill(API_KEY);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('place-call').waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === 'switchboard_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  expect(cookie?.value).not.toContain(API_KEY);
  expect(await page.evaluate('document.cookie')).not.toContain('switchboard_session');
  await expect.poll(() => page.getByTestId('stream-state').textContent()).toBe('live');
  // A marker a reload would wipe: everything below must arrive over the event streams.
  await page.evaluate('window.marker = 1');

  // A call placed through the API shows up in the list and moves on without a reload.
  const viaApi = await postJson(`${server.url}/calls`, { to: '+15550100001', carrier: 'plivo' }, auth);
  expect(viaApi.status).toBe(201);
  const apiCallId = viaApi.json.id as string;
  await expect.poll(() => statusOfRow(apiCallId).textContent(), { timeout: 15_000 }).toBe('in-progress');

  // Place a call from the form to the sandbox's interrupting persona, with custom data that looks like markup.
  await page.getByTestId('sandbox-interrupter').click();
  expect(await page.locator('input[name="to"]').inputValue()).toBe('+15550100002');
  await page.locator('select[name="carrier"]').selectOption('twilio');
  await page.locator('textarea[name="metadata"]').fill('{"patient": "Ada", "note": "<img src=x id=injected>"}');
  await page.locator('input[name="record"]').check();
  await page.getByTestId('place-call').getByRole('button', { name: 'Call' }).click();
  await page.getByTestId('call-page').waitFor();
  const callId = (await page.getByTestId('call-page').getAttribute('data-call-id')) as string;
  expect(page.url()).toBe(`${server.url}/dashboard/calls/${callId}`);

  // The transcript grows while the call is in progress.
  const turns = page.getByTestId('turn');
  await expect.poll(() => turns.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  const firstSeen = await turns.count();
  await expect.poll(() => turns.count(), { timeout: 20_000 }).toBeGreaterThan(firstSeen);
  expect(await page.getByTestId('call-page').getByTestId('status').first().textContent()).toBe('in-progress');
  expect((await getCall(callId)).status).toBe('in-progress');
  await page.screenshot({ path: join(SCREENSHOTS, 'call-live.png'), fullPage: true });

  // Back to the list while both calls are live.
  await page.getByRole('link', { name: '← Calls' }).click();
  await page.getByTestId('call-list').waitFor();
  await expect.poll(() => statusOfRow(callId).textContent()).toBe('in-progress');
  await page.screenshot({ path: join(SCREENSHOTS, 'call-list-live.png'), fullPage: true });
  await expect.poll(() => statusOfRow(callId).textContent(), { timeout: 45_000 }).toBe('completed');
  await expect.poll(() => statusOfRow(apiCallId).textContent(), { timeout: 15_000 }).toBe('completed');
  expect(await page.evaluate('window.marker')).toBe(1);

  // The finished call: the interruption and what the caller heard, as the record has them.
  await page.locator(`[data-testid="call-row"][data-call-id="${callId}"] a`).click();
  await page.getByTestId('call-page').waitFor();
  const record = await getCall(callId);
  const interrupted = record.turns.find((t) => t.interrupted);
  expect(interrupted?.heard).toBeTruthy();
  const cut = page.locator('.turn.interrupted');
  await cut.waitFor();
  expect(await cut.locator('.heard').textContent()).toBe(interrupted?.heard);
  expect(await cut.locator('del.unheard').textContent()).toBe(interrupted?.text.slice(interrupted.heard?.length));
  await expect.poll(() => turns.count()).toBe(record.turns.length);
  expect(await page.getByTestId('events').textContent()).toContain('barge-in.clear-sent');
  // Custom data is shown as text, never as markup.
  expect(await page.getByTestId('metadata').textContent()).toContain('<img src=x id=injected>');
  expect(await page.locator('#injected').count()).toBe(0);

  // A reply's latency waterfall: the five stages, drawn from the turn's own timings.
  const timed = record.turns.filter((t) => t.role === 'assistant' && t.latency);
  const chosen = timed[timed.length - 1] as CallRecord['turns'][number];
  await page.getByTestId(`latency-turn-${chosen.index}`).click();
  const waterfall = page.getByTestId('waterfall');
  await waterfall.waitFor();
  expect(await waterfall.locator('[data-stage]').count()).toBe(5);
  expect(await waterfall.locator('[data-stage="firstAudioOutMs"] rect').count()).toBe(1);
  const latency = chosen.latency as { firstAudioOutMs: number };
  expect(await waterfall.locator('[data-stage="firstAudioOutMs"] .stage-value').textContent()).toContain(
    `${Math.round(latency.firstAudioOutMs)} ms`,
  );
  await page.locator('section.latency').screenshot({ path: join(SCREENSHOTS, 'waterfall.png') });
  await page.screenshot({ path: join(SCREENSHOTS, 'call-completed.png'), fullPage: true });

  // The recording (the form asked for one): the player loads the WAV through the session cookie, with range
  // requests, at the call's length; a turn's ▶ jumps to where the record says that turn starts and plays from there.
  await expect.poll(async () => (await getCall(callId)).recordingPath, { timeout: 15_000 }).toBeTruthy();
  const recorded = await getCall(callId);
  await page.reload();
  const player = page.getByTestId('recording');
  await player.waitFor();
  await expect
    .poll(() => player.evaluate((el) => (el as unknown as MediaState).duration), { timeout: 15_000 })
    .toBeGreaterThan((Date.parse(recorded.endedAt as string) - Date.parse(recorded.answeredAt as string)) / 1000 - 0.5);
  const reply = recorded.turns.find(
    (t) => t.role === 'assistant' && t.recordingOffsetMs !== undefined && (t.recordingEndMs as number) - t.recordingOffsetMs > 1500,
  ) as CallRecord['turns'][number];
  const offsetSec = (reply.recordingOffsetMs as number) / 1000;
  await page.getByTestId(`play-turn-${reply.index}`).click();
  await expect
    .poll(
      () =>
        player.evaluate(
          (el, from) => !(el as unknown as MediaState).paused && (el as unknown as MediaState).currentTime > from + 0.2,
          offsetSec,
        ),
      { timeout: 10_000 },
    )
    .toBe(true);
  const position = await player.evaluate((el) => (el as unknown as MediaState).currentTime);
  expect(position).toBeGreaterThanOrEqual(offsetSec);
  expect(position).toBeLessThan(offsetSec + 5);
  await page.locator('section.recording').screenshot({ path: join(SCREENSHOTS, 'recording.png') });
});
