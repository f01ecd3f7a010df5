/**
 * SipLegReceiver: an expected leg's URI is dialled by another UA (here a second endpoint, as an emulator of a room
 * service would); its INVITE is answered and the channel handed over; strangers get 404.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipCallFailedError, SipLegReceiver, type SipEndpoint } from '../../../src/telephony/sip/index.ts';
import { startTestEndpoint } from './peers/endpoint.ts';

const endpoints: SipEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

describe('SipLegReceiver', () => {
  it('answers the INVITE for an expected leg and hands over its media; other users get 404', async () => {
    const ours = await startTestEndpoint();
    const dialler = await startTestEndpoint();
    endpoints.push(ours, dialler);
    const receiver = new SipLegReceiver(ours, { timeoutMs: 5000 });
    const leg = receiver.expect('call_1');
    expect(leg.uri).toMatch(/^sip:leg-[0-9a-f]{24}@127\.0\.0\.2:\d+$/);
    const placed = await dialler.placeCall({ to: leg.uri, headers: { 'X-Room': 'r1' } });
    const [{ call, channel }] = await Promise.all([leg.answered, placed.answered]);
    expect(call.headers).toEqual({ 'X-Room': 'r1' });
    expect(channel.format.encoding).toBe('mulaw');
    await placed.hangUp('done');

    const stranger = await dialler.placeCall({ to: ours.uri('leg-unknown') });
    const failure = await stranger.answered.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SipCallFailedError);
    expect((failure as SipCallFailedError).sipCode).toBe(404);
    // The same URI does not answer twice.
    const again = await dialler.placeCall({ to: leg.uri });
    expect(((await again.answered.catch((error: unknown) => error)) as SipCallFailedError).sipCode).toBe(404);
  });

  it('a leg that never arrives rejects after the timeout', async () => {
    const ours = await startTestEndpoint();
    endpoints.push(ours);
    const leg = new SipLegReceiver(ours, { timeoutMs: 200 }).expect('call_2');
    await expect(leg.answered).rejects.toThrow(/no INVITE/);
  });
});
