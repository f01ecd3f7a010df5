/**
 * Issue 10, defects 2, 5 and 9 (unit parts): the media claim taken at authorisation, the media-start watchdog on
 * a `ManualClock`, session set-up failures and shutdown of calls that are not live.
 */
import { describe, expect, it } from 'vitest';
import { CallManager } from '../../../src/server/call-manager.ts';
import { answerCall } from '../../../src/server/calls/call-answering.ts';
import { LiveCalls } from '../../../src/server/calls/live-calls.ts';
import { authorizeMediaSocket } from '../../../src/server/calls/media-socket.ts';
import { MediaStartWatchdog } from '../../../src/server/calls/media-start-watchdog.ts';
import { MediaTokens } from '../../../src/server/calls/media-tokens.ts';
import { LocalMediaChannel } from '../../../src/transports/local/local-media-channel.ts';
import { ManualClock } from '../../../src/util/clock.ts';
import { callDeps } from './fixtures.ts';

const publicUrls = { http: 'https://agent.example.com', ws: 'wss://agent.example.com' };

function manager(clock: ManualClock, timeoutMs = 15_000) {
  const { deps, carrier } = callDeps();
  const calls = new CallManager({ ...deps, publicUrls, media: { clock, mediaStartTimeoutMs: timeoutMs, shutdownHangUpTimeoutMs: 1000 } });
  return { calls, deps, carrier };
}

const tokenOf = (streamUrl: string) => streamUrl.replace('wss://agent.example.com/ws/', '');

describe('media claim', () => {
  it('the first authorisation claims the call; every later one is refused until the claim is released', () => {
    const { deps } = callDeps();
    const tokens = new MediaTokens();
    const live = new LiveCalls(deps);
    const { callId, streamUrl } = answerCall(deps, tokens, publicUrls, { carrier: 'twilio', carrierCallId: 'CA1', from: 'a', to: 'b' });
    const token = tokenOf(streamUrl);
    expect(authorizeMediaSocket(deps, tokens, live, token)).toEqual({ ok: true, callId });
    expect(authorizeMediaSocket(deps, tokens, live, token)).toEqual({
      ok: false,
      reason: 'a media stream is already connected for this call',
    });
    live.release(callId);
    expect(authorizeMediaSocket(deps, tokens, live, token)).toMatchObject({ ok: true });
  });
});

describe('media-start watchdog', () => {
  it('fires once per armed call after the timeout; disarm and re-arm work', () => {
    const clock = new ManualClock();
    const expired: string[] = [];
    const watchdog = new MediaStartWatchdog((id) => expired.push(id), 15_000, clock);
    watchdog.arm('a');
    watchdog.arm('b');
    clock.advance(10_000);
    watchdog.arm('b'); // the markup fetched again: the wait restarts
    watchdog.disarm('c');
    clock.advance(5_000);
    expect(expired).toEqual(['a']);
    clock.advance(10_000);
    expect(expired).toEqual(['a', 'b']);
    expect(watchdog.waiting).toBe(0);
  });

  it('an answered call whose media never starts ends failed with the reason and its carrier leg is hung up', async () => {
    const clock = new ManualClock();
    const { calls, deps, carrier } = manager(clock);
    const { callId } = calls.answer({ carrier: 'twilio', carrierCallId: 'CA2', from: 'a', to: 'b' });
    clock.advance(14_999);
    expect(deps.store.getCallSummary(callId)?.status).toBe('in-progress');
    clock.advance(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(deps.store.getCallSummary(callId)).toMatchObject({
      status: 'failed',
      endReason: 'media never started: no accepted media stream within 15 s of answering',
      error: { code: 'media_failed' },
    });
    expect(carrier.hangUps).toEqual([expect.objectContaining({ callId, carrierCallId: 'CA2' })]);
  });

  it('media that starts in time disarms it', async () => {
    const clock = new ManualClock();
    const { calls, deps } = manager(clock);
    const { callId } = calls.answer({ carrier: 'twilio', carrierCallId: 'CA3', from: 'a', to: 'b' });
    const channel = new LocalMediaChannel();
    const running = calls.runMedia(callId, channel);
    clock.advance(60_000);
    expect(deps.store.getCallSummary(callId)?.status).toBe('in-progress');
    await calls.shutdown();
    // After shutdown the cancelled session has finalised its record (shutdown also waits for it, bounded).
    expect(deps.store.getCallSummary(callId)).toMatchObject({ status: 'completed', endReason: 'server shutting down' });
    await running;
  });
});

describe('session set-up', () => {
  it('a session that cannot be set up fails the call with the reason instead of leaving it in progress', async () => {
    const { deps, carrier } = callDeps();
    const live = new LiveCalls(deps);
    const { callId } = answerCall(deps, new MediaTokens(), publicUrls, { carrier: 'twilio', carrierCallId: 'CA4', from: 'a', to: 'b' });
    deps.services = {
      unavailable: [],
      forAgent: () => {
        throw new Error('provider exploded');
      },
    };
    const channel = new LocalMediaChannel();
    await live.run(callId, channel);
    expect(deps.store.getCallSummary(callId)).toMatchObject({ status: 'failed', endReason: 'session set-up failed: provider exploded' });
    expect(carrier.hangUps).toHaveLength(1);
    expect(live.has(callId)).toBe(false);
  });
});

describe('shutdown', () => {
  it('queued and ringing calls end canceled, answered calls without media end failed; all are hung up', async () => {
    const clock = new ManualClock();
    const { calls, deps, carrier } = manager(clock);
    const ringing = deps.store.createCall({
      carrier: 'twilio',
      direction: 'outbound',
      to: '+1',
      from: '+2',
      status: 'ringing',
      carrierCallId: 'CA5',
    });
    const queued = deps.store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', from: '+2', carrierCallId: 'CA6' });
    const answered = calls.answer({ carrier: 'twilio', carrierCallId: 'CA7', from: 'a', to: 'b' });
    await calls.shutdown();
    expect(deps.store.getCallSummary(ringing.id)).toMatchObject({ status: 'canceled', endReason: 'server shutting down' });
    expect(deps.store.getCallSummary(queued.id)).toMatchObject({ status: 'canceled', endReason: 'server shutting down' });
    expect(deps.store.getCallSummary(answered.callId)).toMatchObject({ status: 'failed', endReason: 'server shutting down' });
    expect(carrier.hangUps.map((h) => h.carrierCallId).sort()).toEqual(['CA5', 'CA6', 'CA7']);
    expect(carrier.hangUps.find((h) => h.carrierCallId === 'CA5')?.answered).toBe(false);
  });

  it('hang-ups that never answer do not hold shutdown past its limit', async () => {
    const clock = new ManualClock();
    const { calls, deps, carrier } = manager(clock);
    carrier.hangUpResult = () => new Promise(() => {}); // a carrier that never answers
    const ringing = deps.store.createCall({
      carrier: 'twilio',
      direction: 'outbound',
      to: '+1',
      from: '+2',
      status: 'ringing',
      carrierCallId: 'CA8',
    });
    const started = performance.now();
    await calls.shutdown();
    expect(performance.now() - started).toBeLessThan(5_000); // the limit is 1 s here; the wait is bounded, not exact
    expect(deps.store.getCallSummary(ringing.id)?.status).toBe('canceled');
  });
});
