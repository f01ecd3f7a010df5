/**
 * The voice agent end to end through the local in-process transport: a simulated callee speaks real audio
 * (eSpeak), the Deepgram emulator recognises it, the Gemini emulator answers by policy, the Cartesia
 * emulator speaks, and the local carrier plays it to the callee and acknowledges marks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssistantTurn } from '../../src/agent/assistant-turn-recorder.ts';
import { heardPrefix } from '../../src/agent/assistant-turn-recorder.ts';
import type { CallServices } from '../../src/agent/call-session.ts';
import { CallSession } from '../../src/agent/call-session.ts';
import { appointmentReminderAgent } from '../../src/agent/default-agent.ts';
import type { TurnLatency } from '../../src/agent/turn-metrics.ts';
import type { UserTurn } from '../../src/agent/user-turn-processor.ts';
import type { FrameHop } from '../../src/pipeline/index.ts';
import { builtinPersonas } from '../../src/sandbox/callees/builtin-personas.ts';
import { parsePersona } from '../../src/sandbox/callees/persona.ts';
import { SimulatedCallee } from '../../src/sandbox/callees/simulated-callee.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from '../../src/sandbox/providers/cartesia-emulator.ts';
import { startDeepgramEmulator } from '../../src/sandbox/providers/deepgram-emulator.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../src/sandbox/providers/gemini-emulator.ts';

import { createGoogleLlm } from '../../src/services/llm/google.ts';
import { DeepgramSttService } from '../../src/services/stt/deepgram.ts';
import { SttProcessor } from '../../src/services/stt/stt-processor.ts';
import { CARTESIA_DEFAULT_VOICE, CartesiaTtsService } from '../../src/services/tts/cartesia.ts';
import { TtsProcessor } from '../../src/services/tts/tts-processor.ts';
import { LocalMediaChannel } from '../../src/transports/local/local-media-channel.ts';

let deepgram: Awaited<ReturnType<typeof startDeepgramEmulator>>;
let gemini: GeminiEmulator;
let cartesia: CartesiaEmulator;
let services: CallServices;

beforeAll(async () => {
  deepgram = await startDeepgramEmulator({ apiKey: 'dg-test' });
  gemini = await startGeminiEmulator({ apiKey: 'g-test', timing: { ttftMs: 0, tokensPerSecond: 0 } });
  cartesia = await startCartesiaEmulator({ apiKey: 'c-test', ttfbMs: 0 });
  services = {
    createStt: () => new SttProcessor({ service: new DeepgramSttService({ apiKey: 'dg-test', baseUrl: deepgram.url }) }),
    llm: createGoogleLlm({ apiKey: 'g-test', baseURL: gemini.baseURL }),
    createTts: () =>
      new TtsProcessor({
        service: new CartesiaTtsService({
          apiKey: 'c-test',
          voiceId: CARTESIA_DEFAULT_VOICE,
          baseUrl: cartesia.url,
          tls: { ca: cartesia.ca as string },
        }),
      }),
  };
});

afterAll(async () => {
  await Promise.allSettled([deepgram?.close(), gemini?.close(), cartesia?.close()]);
});

interface Recorded {
  users: UserTurn[];
  assistants: Array<AssistantTurn & { latency?: TurnLatency }>;
  events: Array<{ type: string; data: Record<string, unknown>; atMs: number }>;
  words: Map<string, Array<{ text: string; endSec: number }>>;
}

async function converse(persona: ReturnType<typeof parsePersona>, firstName: string) {
  const channel = new LocalMediaChannel();
  const callee = new SimulatedCallee({ persona });
  const recorded: Recorded = { users: [], assistants: [], events: [], words: new Map() };
  const wordTap = {
    onHop(hop: FrameHop) {
      const f = hop.frame;
      if (f.type === 'tts.text' && hop.source === 'TtsProcessor' && f.endSec !== undefined) {
        const list = recorded.words.get(f.utteranceId) ?? [];
        list.push({ text: f.text, endSec: f.endSec });
        recorded.words.set(f.utteranceId, list);
      }
    },
  };
  const session = new CallSession({
    callId: `e2e-${persona.id}`,
    agent: appointmentReminderAgent,
    metadata: { user: { firstName } },
    direction: 'outbound',
    channel,
    services,
    observers: [wordTap],
    events: {
      onUserTurn: (t) => recorded.users.push(t),
      onAssistantTurn: (t) => recorded.assistants.push(t),
      onEvent: (type, data) => recorded.events.push({ type, data, atMs: performance.timeOrigin + performance.now() }),
    },
  });
  const done = session.run();
  channel.open(callee);
  callee.connect({ sendDtmf: (d) => channel.press(d), hangUp: () => channel.hangUp() }, performance.timeOrigin + performance.now());
  const outcome = await done;
  channel.close('test over');
  return { outcome, channel, callee, session, recorded };
}

describe.concurrent('conversation through the local transport', () => {
  it('answers, is barged in on mid-sentence, keeps only the heard words, and ends with end_call', { timeout: 90_000 }, async () => {
    const { outcome, channel, session, recorded } = await converse(parsePersona(builtinPersonas['+15550100002']), 'Ada');

    // The conversation ran its course and the bot ended it with end_call after saying goodbye.
    expect(outcome).toEqual({ kind: 'ended', reason: 'completed' });
    expect(recorded.users.map((u) => u.text)).toEqual([
      'Hello?',
      'Sorry, what time was that?',
      'Yes, that works.',
      "No, that's everything. Bye!",
    ]);
    const [first, ...rest] = recorded.assistants;
    expect(first!.text).toContain('Hi Ada, this is Sam');
    const goodbye = rest.at(-1)!;
    expect(goodbye.text).toMatch(/Goodbye!$/);
    expect(goodbye.interrupted).toBe(false);
    expect(goodbye.heard).toBe(goodbye.text);

    // Barge-in: the first reply was cut off; what is kept is a strict prefix of what was meant.
    expect(first!.interrupted).toBe(true);
    expect(first!.heard.length).toBeGreaterThan(0);
    expect(first!.text.startsWith(first!.heard)).toBe(true);
    expect(first!.heard.length).toBeLessThan(first!.text.length);

    // Issue 11: the bot paused (stopped sending and cleared the carrier) within one 20 ms frame of the caller's
    // speech being detected, before their words confirmed the interruption, and sent nothing more until the
    // caller's turn was over.
    const bargeIn = recorded.events.find((e) => e.type === 'barge-in')!;
    expect(bargeIn).toBeDefined();
    expect(bargeIn.data.reason).toBe('words');
    expect(channel.clears).toHaveLength(1);
    const clearAt = channel.clears[0]!;
    const detectedAt = bargeIn.atMs - (bargeIn.data.decisionMs as number) + (bargeIn.data.detectedMs as number);
    expect(Math.abs(clearAt - detectedAt)).toBeLessThan(20);
    const secondUserTurnCommitted = performance.timeOrigin + recorded.users[1]!.endedAtMs;
    const sentAfterPause = channel.arrivals.filter((t) => t > clearAt + 20 && t < secondUserTurnCommitted);
    expect(sentAfterPause).toEqual([]);

    // Playback truth: the context keeps exactly the words whose audio had played when the carrier cleared.
    const playedBeforeClear = channel.played.filter((p) => p.atMs < clearAt).reduce((n, p) => n + p.bytes.length, 0);
    const expectedHeard = heardPrefix(first!.text, recorded.words.get(first!.utteranceId)!, playedBeforeClear / 8000);
    expect(first!.heard).toBe(expectedHeard);
    const firstAssistantMessage = session.context.messages.find((m) => m.role === 'assistant') as {
      content: Array<{ type: string; text?: string }>;
    };
    expect(firstAssistantMessage.content).toEqual([{ type: 'text', text: expectedHeard }]);

    // Every answered turn carries its timing chain (the confirmation's second utterance, after its tool, answers no turn).
    expect(rest.filter((t) => t.latency)).toHaveLength(3);
    for (const turn of rest.filter((t) => t.latency)) {
      expect(turn.latency?.voiceToVoiceMs).toBeGreaterThan(0);
      expect(turn.latency?.llmFirstTokenMs).toBeGreaterThan(0);
      expect(turn.latency?.ttsFirstAudioMs).toBeGreaterThanOrEqual(turn.latency!.llmFirstTokenMs!);
    }
  });

  it('keeps talking through a backchannel shorter than the barge-in minimum', { timeout: 90_000 }, async () => {
    const persona = parsePersona({
      id: 'backchanneler',
      steps: [
        { say: 'Hello?' },
        { waitForBotSpeechMs: 1500 },
        { say: 'Yeah.' },
        { waitForBotToFinish: true },
        { say: "Yes, I'll be there." },
        { waitForBotToFinish: true },
        { say: "No, that's all. Thanks!" },
      ],
    });
    const { outcome, channel, callee, recorded } = await converse(persona, 'Grace');
    expect(outcome.kind).toBe('ended');
    const first = recorded.assistants[0]!;
    expect(first.text).toContain('Hi Grace');
    expect(first.interrupted).toBe(false);
    expect(first.heard).toBe(first.text);
    expect(recorded.events.some((e) => e.type === 'backchannel')).toBe(true);
    expect(recorded.events.some((e) => e.type === 'barge-in')).toBe(false);
    expect(recorded.users.map((u) => u.text)).not.toContain('Yeah.');
    // Issue 11: the bot paused at the "Yeah." (one clear) and resumed from the last word the caller heard
    // within a second of it, without the reply being cut.
    expect(channel.clears.length).toBeLessThanOrEqual(1);
    const yeah = callee.record.said.find((line) => line.text === 'Yeah.')!;
    for (const clearAt of channel.clears) {
      const resumedAt = channel.arrivals.find((t) => t > clearAt)!;
      expect(resumedAt - (yeah.endAt as number)).toBeLessThan(1000);
    }
  });
});
