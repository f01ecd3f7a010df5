/**
 * TTS benchmarks: offline eSpeak synthesis speed, and time to first audio through each provider client
 * against its local emulator (emulated provider delay 0, so the figure is our own overhead: synthesis of the
 * first sentence, TLS/WebSocket, base64, conversion).
 */
import { startCartesiaEmulator } from '../src/sandbox/providers/cartesia-emulator.ts';
import { startElevenLabsEmulator } from '../src/sandbox/providers/elevenlabs-emulator.ts';
import { CartesiaTtsService } from '../src/services/tts/cartesia.ts';
import { ElevenLabsTtsService } from '../src/services/tts/elevenlabs.ts';
import { getEspeakEngine } from '../src/services/tts/offline/espeak-engine.ts';
import { synthesizeMulaw8k, synthesizeSpeech } from '../src/services/tts/offline/espeak-voice.ts';
import { OfflineTtsService } from '../src/services/tts/offline.ts';
import type { TtsService } from '../src/services/tts/tts-service.ts';
import type { BenchRow, BenchSuite } from './types.ts';

const SENTENCES = [
  'Hello there, thanks for calling the clinic. How can I help you today?',
  'Your appointment is confirmed for Tuesday at three thirty in the afternoon.',
  'I am sorry, I did not catch that. Could you say it again please?',
  'Please hold while I transfer you to a specialist who can help with your billing question.',
  'Great, I have booked that for you. You will receive a text message shortly.',
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Real-time factor of synthesis: seconds of speech per second of wall time, over all sentences, median of rounds. */
async function realTimeFactor(wordTimings: boolean, rounds = 3): Promise<{ factor: number; msPerAudioSec: number }> {
  const factors: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let audioSec = 0;
    const t0 = performance.now();
    for (const text of SENTENCES) {
      const speech = await synthesizeSpeech(text, { wordTimings });
      audioSec += speech.pcm.length / speech.sampleRate;
    }
    factors.push(audioSec / ((performance.now() - t0) / 1000));
  }
  const factor = median(factors);
  return { factor, msPerAudioSec: 1000 / factor };
}

/** Median ms from the first pushText to the first audio event, one utterance at a time. */
async function timeToFirstAudio(service: TtsService, utterances = 8): Promise<number> {
  await service.connect({ encoding: 'mulaw', sampleRate: 8000 });
  const times: number[] = [];
  for (let i = 0; i < utterances; i++) {
    const text = SENTENCES[i % SENTENCES.length] as string;
    let first = 0;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const stream = service.createStream({ utteranceId: `bench-${i}`, format: { encoding: 'mulaw', sampleRate: 8000 } }, (event) => {
        if (event.type === 'audio' && first === 0) first = performance.now();
        if (event.type === 'done') resolve();
        if (event.type === 'error') reject(event.error);
      });
      stream.pushText(`${text} `);
      stream.finish();
    });
    if (i > 0) times.push(first - started); // the first one warms the JIT
  }
  return median(times);
}

export const benchTts: BenchSuite = async () => {
  const rows: BenchRow[] = [];
  const t0 = performance.now();
  await getEspeakEngine();
  rows.push({
    name: 'eSpeak WASM engine start (compile, instantiate, warm-up; once per process)',
    value: Math.round(performance.now() - t0),
    unit: 'ms',
  });

  const plain = await realTimeFactor(false);
  rows.push({ name: 'offline synthesis speed, speech only (22.05 kHz PCM)', value: Math.round(plain.factor), unit: '× real time' });
  const timed = await realTimeFactor(true);
  rows.push({ name: 'offline synthesis speed with word timings', value: Math.round(timed.factor), unit: '× real time' });
  rows.push({
    name: 'offline synthesis cost with word timings, per second of speech',
    value: Number(timed.msPerAudioSec.toFixed(1)),
    unit: 'ms',
  });

  const m0 = performance.now();
  for (const text of SENTENCES) await synthesizeMulaw8k(text);
  rows.push({
    name: 'synthesizeMulaw8k per sentence (timings + resample + μ-law)',
    value: Number(((performance.now() - m0) / SENTENCES.length).toFixed(1)),
    unit: 'ms',
  });

  rows.push({
    name: 'time to first audio, offline service (first sentence synthesised)',
    value: Number((await timeToFirstAudio(new OfflineTtsService())).toFixed(1)),
    unit: 'ms',
  });

  const cartesia = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
  const eleven = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
  const cartesiaTts = new CartesiaTtsService({
    apiKey: 'bench',
    voiceId: 'a0e99841-438c-4a64-b679-ae501e7d6091',
    baseUrl: cartesia.url,
    tls: { ca: cartesia.ca },
  });
  const elevenTts = new ElevenLabsTtsService({ apiKey: 'bench', voiceId: '21m00Tcm4TlvDq8ikWAM', baseUrl: eleven.url });
  try {
    rows.push({
      name: 'time to first audio, Cartesia SDK → emulator (TLS, emulated delay 0)',
      value: Number((await timeToFirstAudio(cartesiaTts)).toFixed(1)),
      unit: 'ms',
    });
    rows.push({
      name: 'time to first audio, ElevenLabs client → emulator (emulated delay 0)',
      value: Number((await timeToFirstAudio(elevenTts)).toFixed(1)),
      unit: 'ms',
    });
  } finally {
    await cartesiaTts.close();
    await elevenTts.close();
    await cartesia.close();
    await eleven.close();
  }
  return rows;
};
