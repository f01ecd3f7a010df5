import { describe, expect, it } from 'vitest';
import type { CallStatus } from '../../src/store/index.ts';
import { CALL_STATUSES, CallStoreError, computeDurationSec, decideTransition, FINAL_CALL_STATUSES } from '../../src/store/index.ts';
import { ManualClock, memoryStore } from './helpers.ts';

const OPEN: CallStatus[] = ['queued', 'ringing', 'in-progress'];

describe('decideTransition', () => {
  it('allows only forward moves and names the reason for every refused one', () => {
    for (const from of CALL_STATUSES) {
      for (const to of CALL_STATUSES) {
        const decision = decideTransition(from, to);
        if (from === to) expect(decision).toEqual({ apply: false, because: 'duplicate' });
        else if (FINAL_CALL_STATUSES.includes(from)) expect(decision).toEqual({ apply: false, because: 'terminal' });
        else if (OPEN.includes(to) && OPEN.indexOf(to) < OPEN.indexOf(from))
          expect(decision).toEqual({ apply: false, because: 'regression' });
        else expect(decision, `${from} → ${to}`).toEqual({ apply: true });
      }
    }
    // Spot checks of the matrix above, in words.
    expect(decideTransition('queued', 'in-progress').apply).toBe(true); // ringing skipped
    expect(decideTransition('ringing', 'no-answer').apply).toBe(true);
    expect(decideTransition('in-progress', 'ringing').apply).toBe(false);
    expect(decideTransition('completed', 'failed').apply).toBe(false);
  });
});

describe('computeDurationSec', () => {
  it('rounds answer → end to whole seconds, is 0 when never answered, never negative', () => {
    expect(computeDurationSec(1_000, 62_400)).toBe(61);
    expect(computeDurationSec(1_000, 62_600)).toBe(62);
    expect(computeDurationSec(null, 62_600)).toBe(0);
    expect(computeDurationSec(5_000, 4_000)).toBe(0);
  });
});

describe('updateStatus', () => {
  it('walks a normal outbound call and fills each timestamp and the duration', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    clock.advance(800);
    expect(store.updateStatus(id, 'ringing')).toEqual({ applied: true, previous: 'queued', status: 'ringing' });
    clock.advance(6_000);
    store.updateStatus(id, 'in-progress');
    clock.advance(93_400);
    store.updateStatus(id, 'completed', { reason: 'callee hung up' });
    const call = store.getCall(id);
    expect(call).toMatchObject({
      status: 'completed',
      queuedAt: '2026-03-01T12:00:00.000Z',
      ringingAt: '2026-03-01T12:00:00.800Z',
      answeredAt: '2026-03-01T12:00:06.800Z',
      endedAt: '2026-03-01T12:01:40.200Z',
      durationSec: 93,
      endReason: 'callee hung up',
      error: null,
    });
    expect(call?.events.map((e) => e.data)).toEqual([
      { from: null, to: 'queued' },
      { from: 'queued', to: 'ringing' },
      { from: 'ringing', to: 'in-progress' },
      { from: 'in-progress', to: 'completed', reason: 'callee hung up' },
    ]);
    store.close();
  });

  it('uses the carrier-reported duration and carrier timestamps when given', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    store.updateStatus(id, 'in-progress', { at: new Date('2026-03-01T12:00:05.000Z') });
    clock.advance(60_000);
    store.updateStatus(id, 'completed', { at: Date.parse('2026-03-01T12:00:58.000Z'), durationSec: 54 });
    expect(store.getCall(id)).toMatchObject({
      answeredAt: '2026-03-01T12:00:05.000Z',
      endedAt: '2026-03-01T12:00:58.000Z',
      durationSec: 54,
    });
    store.close();
  });

  it('gives an unanswered call duration 0 and keeps the error with carrier code', () => {
    const store = memoryStore(new ManualClock());
    const { id } = store.createCall({ carrier: 'plivo', direction: 'outbound', to: '+1' });
    store.updateStatus(id, 'ringing');
    store.updateStatus(id, 'failed', {
      reason: 'invalid number',
      error: { message: 'Invalid destination', code: 'carrier_rejected', carrierErrorCode: '4010' },
    });
    expect(store.getCall(id)).toMatchObject({
      status: 'failed',
      answeredAt: null,
      durationSec: 0,
      endReason: 'invalid number',
      error: { message: 'Invalid destination', code: 'carrier_rejected', carrierErrorCode: '4010' },
    });
    store.close();
  });

  it('survives out-of-order and repeated carrier callbacks without moving backwards', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    // Callbacks as a carrier might deliver them: in-progress before ringing, completed twice,
    // then a stray late no-answer.
    clock.advance(7_000);
    expect(store.updateStatus(id, 'in-progress').applied).toBe(true);
    clock.advance(100);
    expect(store.updateStatus(id, 'ringing')).toEqual({
      applied: false,
      previous: 'in-progress',
      status: 'in-progress',
      ignoredBecause: 'regression',
    });
    expect(store.updateStatus(id, 'queued').ignoredBecause).toBe('regression');
    clock.advance(30_000);
    expect(store.updateStatus(id, 'completed').applied).toBe(true);
    clock.advance(200);
    expect(store.updateStatus(id, 'completed').ignoredBecause).toBe('duplicate');
    expect(store.updateStatus(id, 'no-answer', { reason: 'late' })).toEqual({
      applied: false,
      previous: 'completed',
      status: 'completed',
      ignoredBecause: 'terminal',
    });
    expect(store.updateStatus(id, 'in-progress').ignoredBecause).toBe('terminal');

    const call = store.getCall(id);
    expect(call).toMatchObject({ status: 'completed', ringingAt: null, durationSec: 30, endedAt: '2026-03-01T12:00:37.100Z' });
    const ignored = call?.events.filter((e) => e.type === 'status.ignored').map((e) => e.data);
    expect(ignored).toEqual([
      { from: 'in-progress', to: 'ringing', because: 'regression' },
      { from: 'in-progress', to: 'queued', because: 'regression' },
      { from: 'completed', to: 'completed', because: 'duplicate' },
      { from: 'completed', to: 'no-answer', because: 'terminal', reason: 'late' },
      { from: 'completed', to: 'in-progress', because: 'terminal' },
    ]);
    store.close();
  });

  it('adopts a carrier duration that arrives after the call already ended, without changing status', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', status: 'in-progress' });
    clock.advance(41_000);
    store.updateStatus(id, 'canceled', { reason: 'operator hung up' }); // our own view, 41 s
    const result = store.updateStatus(id, 'completed', { durationSec: 42 }); // Twilio's final callback
    expect(result.applied).toBe(false);
    expect(store.getCall(id)).toMatchObject({ status: 'canceled', durationSec: 42, endReason: 'operator hung up' });
    expect(store.getCall(id)?.events.at(-1)?.data).toMatchObject({ to: 'completed', because: 'terminal', durationAdopted: true });
    store.close();
  });

  it('rejects unknown statuses and calls, and bad options', () => {
    const store = memoryStore();
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    expect(() => store.updateStatus(id, 'answered' as CallStatus)).toThrow(/updateStatus: status: .*expected one of "queued"/);
    expect(() => store.updateStatus(id, 'completed', { durationSec: -1 })).toThrow(/durationSec/);
    expect(() => store.updateStatus(id, 'completed', { at: new Date('nope') })).toThrow(/at/);
    expect(() => store.updateStatus(id, 'failed', { error: { code: 'x' } as never })).toThrow(/error\.message/);
    try {
      store.updateStatus('call_missing', 'ringing');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CallStoreError);
      expect((error as CallStoreError).code).toBe('call_not_found');
      expect((error as CallStoreError).callId).toBe('call_missing');
    }
    expect(store.getCall(id)?.status).toBe('queued');
    store.close();
  });
});

describe('recoverInterruptedCalls', () => {
  it('fails every open call at its last activity, leaves finished calls alone, and is idempotent', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const queued = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' }).id;
    const ringing = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+2' }).id;
    store.updateStatus(ringing, 'ringing');
    const talking = store.createCall({ carrier: 'plivo', direction: 'inbound', to: '+3', status: 'in-progress' }).id;
    const done = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+4' }).id;
    store.updateStatus(done, 'completed');
    clock.advance(20_000);
    store.addTurn(talking, { role: 'user', text: 'are you there?', endedAt: clock.ms + 1_000 });

    clock.advance(3_600_000); // the server comes back an hour later
    const ids = store.recoverInterruptedCalls();
    expect(ids.sort()).toEqual([queued, ringing, talking].sort());

    const call = store.getCall(talking);
    expect(call).toMatchObject({
      status: 'failed',
      endReason: 'server stopped during the call',
      error: { message: 'server stopped during the call', code: 'server_stopped' },
      endedAt: '2026-03-01T12:00:21.000Z', // end of the last turn, not the restart time
      durationSec: 21,
    });
    expect(call?.turns).toHaveLength(1);
    expect(call?.events.at(-1)).toEqual({
      at: '2026-03-01T13:00:20.000Z',
      type: 'call.recovered',
      data: { reason: 'server stopped during the call', lastActivityAt: '2026-03-01T12:00:21.000Z' },
    });
    expect(store.getCall(done)?.events.some((e) => e.type === 'call.recovered')).toBe(false);
    expect(store.recoverInterruptedCalls('again')).toEqual([]);
    store.close();
  });
});
