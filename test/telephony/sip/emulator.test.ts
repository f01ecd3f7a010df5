/**
 * The sandbox SIP callee: our endpoint dials `sip:<persona>@sandbox` through the emulator (as outbound proxy)
 * and talks to a simulated person over real SIP/RTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toneCalleeVoice } from '../../../src/sandbox/callees/index.ts';
import { startSipCalleeEmulator, type SipCalleeEmulator } from '../../../src/telephony/sip/emulator/index.ts';
import type { SipEndpoint } from '../../../src/telephony/sip/index.ts';
import { concatMulaw, loudSegments, toneMulaw } from './peers/audio.ts';
import { startTestEndpoint } from './peers/endpoint.ts';

let endpoint: SipEndpoint | undefined;
let emulator: SipCalleeEmulator | undefined;
afterEach(async () => {
  await endpoint?.close();
  await emulator?.close();
  endpoint = undefined;
  emulator = undefined;
});

async function setup() {
  emulator = await startSipCalleeEmulator({ timeScale: 0.1, voice: toneCalleeVoice() });
  endpoint = await startTestEndpoint({ outboundProxy: emulator.proxyUri });
  return { emulator, endpoint };
}

describe('sandbox SIP callee emulator', () => {
  it('sip:cooperative@sandbox answers, says hello, hears the bot, and answers it', async () => {
    const { emulator, endpoint } = await setup();
    const call = await endpoint.placeCall({ to: 'sip:cooperative@sandbox', headers: { 'X-Run': 'r1' } });
    const channel = await call.answered;
    const heard: Uint8Array[] = [];
    channel.setHandler({ audio: (a) => heard.push(a.mulaw ?? new Uint8Array(0)), mark: () => {}, dtmf: () => {}, closed: () => {} });
    // Wait for "Hello?", then reply like a bot and let the persona answer.
    await new Promise((r) => setTimeout(r, 1500));
    channel.sendAudio(toneMulaw(800));
    await new Promise((r) => setTimeout(r, 3000));
    await call.hangUp('done');
    const record = emulator.calls.get(call.carrierCallId);
    expect(record?.persona?.id).toBe('cooperative');
    expect(record?.headers).toEqual({ 'X-Run': 'r1' });
    expect(record?.sipStatus).toBe(200);
    expect(record?.callee?.heard.length).toBeGreaterThanOrEqual(1); // the callee heard our tone
    expect(record?.callee?.said.map((s) => s.text).slice(0, 2)).toEqual(['Hello?', "Yes, I'll be there."]);
    expect(loudSegments(concatMulaw(heard), 8000).length).toBeGreaterThanOrEqual(2); // we heard both lines
  });

  it('keypad persona presses 1 as RFC 4733 DTMF that reaches our channel', async () => {
    const { endpoint } = await setup();
    const call = await endpoint.placeCall({ to: 'sip:keypad@sandbox' });
    const channel = await call.answered;
    const digits: string[] = [];
    channel.setHandler({ audio: () => {}, mark: () => {}, dtmf: (d) => digits.push(d), closed: () => {} });
    await new Promise((r) => setTimeout(r, 1000));
    channel.sendAudio(toneMulaw(600)); // the bot's "question"; the persona answers with its keypad
    await new Promise((r) => setTimeout(r, 2500));
    await call.hangUp('done');
    expect(digits).toEqual(['1']);
  });

  it('busy and no-answer personas end the call as busy (486) and no-answer (ring timeout, 487)', async () => {
    const { endpoint } = await setup();
    const busy = await endpoint.placeCall({ to: 'sip:busy@sandbox' });
    const noAnswer = await endpoint.placeCall({ to: 'sip:+15550100004@sandbox', ringTimeoutMs: 600 });
    const [busyEnd, noAnswerEnd] = await Promise.all([
      new Promise((r) => busy.once('ended', r)),
      new Promise((r) => noAnswer.once('ended', r)),
    ]);
    expect(busyEnd).toMatchObject({ status: 'busy', sipCode: 486 });
    expect(noAnswerEnd).toMatchObject({ status: 'no-answer', sipCode: 487 });
  });
});
