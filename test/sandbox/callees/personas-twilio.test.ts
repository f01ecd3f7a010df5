import { afterEach, describe, expect, it } from 'vitest';
import { espeakCalleeVoice } from '../../../src/sandbox/callees/callee-voice.ts';
import { SpeechRegistry } from '../../../src/sandbox/speech-registry.ts';
import { connectTwiml, startTwilioRig, type TwilioRig } from '../../telephony/twilio/emulator/helpers.ts';
import { startFakeBot, type FakeBot } from './fake-bot.ts';

let rig: TwilioRig | undefined;
let bot: FakeBot | undefined;
afterEach(async () => {
  bot?.stop();
  await rig?.close();
  rig = bot = undefined;
});

async function callPersona(to: string, replies: number[], options: Parameters<typeof startTwilioRig>[0] = {}) {
  rig = await startTwilioRig(options);
  const created = await rig.client.calls.create({ to, from: '+15550009999', twiml: connectTwiml(rig.agent) });
  const conn = await rig.agent.nextConnection();
  const start = await conn.next((m) => m.event === 'start');
  bot = startFakeBot(conn, { carrier: 'twilio', streamId: start.streamSid as string, replies });
  const call = rig.emulator.calls.get(created.sid);
  if (!call) throw new Error('no call');
  return { call, conn, bot };
}

const until = async (condition: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('built-in personas on the Twilio emulator', () => {
  it('cooperative: says hello, hears the bot reply and answers once it has finished playing', async () => {
    const { call } = await callPersona('+15550100001', [1000, 800]);
    const callee = call.record.callee;
    if (!callee) throw new Error('no callee');
    await until(() => callee.said.length >= 2 && callee.said[1]?.startAt !== null, 8000);
    expect(callee.personaId).toBe('cooperative');
    expect(callee.said.map((s) => s.text)).toEqual(['Hello?', "Yes, I'll be there."]);
    const reply = callee.heard[0];
    expect(reply?.endAt).not.toBeNull();
    // It heard the whole 1 s reply as one stretch of speech…
    expect((reply?.endAt as number) - (reply?.startAt as number)).toBeGreaterThan(940);
    expect((reply?.endAt as number) - (reply?.startAt as number)).toBeLessThan(1060);
    // …and answered ~900 ms (its minSilenceMs) after the audio stopped playing, not talking over it.
    const gap = (callee.said[1]?.startAt as number) - (reply?.endAt as number);
    expect(gap).toBeGreaterThanOrEqual(870); // timers may fire up to 1 ms early
    expect(gap).toBeLessThan(1000);
    expect(callee.said[1]?.overlappedBot).toBe(false);
    expect(callee.steps[1]).toMatchObject({ step: { waitForBotToFinish: true }, outcome: 'done' });
  });

  it('interrupter: starts talking ~1.5 s into the bot reply, while the reply is still playing', async () => {
    const { call, bot } = await callPersona('+15550100002', [4000]);
    const callee = call.record.callee;
    if (!callee) throw new Error('no callee');
    await until(() => callee.said[1]?.startAt != null, 8000);
    const interruption = callee.said[1];
    expect(interruption?.text).toBe('Sorry, what time was that?');
    expect(interruption?.overlappedBot).toBe(true);
    const into = (interruption?.startAt as number) - (callee.heard[0]?.startAt as number);
    expect(into).toBeGreaterThanOrEqual(1500);
    expect(into).toBeLessThan(1600);
    // Barge-in as the agent would do it: clear, and the callee stops hearing the bot.
    bot.clear();
    await until(() => callee.heard[0]?.endAt != null, 1000);
    expect((callee.heard[0]?.endAt as number) - (callee.heard[0]?.startAt as number)).toBeLessThan(2000);
    expect(call.record.streams[0]?.marks[0]?.outcome).toBe('cleared');
  });

  it('speaks with real (eSpeak) speech that the speech registry recognises at the far end', async () => {
    const registry = new SpeechRegistry();
    const { conn } = await callPersona('+15550100001', [], { voice: espeakCalleeVoice(), speech: registry });
    await until(() => conn.messages.filter((m) => m.message.event === 'media').length > 45, 5000);
    const matcher = registry.createMatcher();
    const matched: string[] = [];
    matcher.onMatch = (match) => matched.push(match.line.text);
    for (const { message } of conn.messages) {
      if (message.event === 'media') matcher.push(new Uint8Array(Buffer.from((message.media as { payload: string }).payload, 'base64')));
    }
    expect(matched).toEqual(['Hello?']);
    expect(registry.size).toBe(1);
  });
});
