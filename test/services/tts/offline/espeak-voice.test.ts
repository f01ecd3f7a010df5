import { describe, expect, it } from 'vitest';
import { mulawDecode } from '../../../../src/audio/g711.ts';
import {
  EspeakError,
  listEspeakVoices,
  synthesizeAs,
  synthesizeMulaw8k,
  synthesizeSpeech,
} from '../../../../src/services/tts/offline/espeak-voice.ts';
import { splitWords } from '../../../../src/services/tts/offline/word-timing.ts';
import { medianPitchHz, rms, voicedFraction } from '../audio-checks.ts';

const SENTENCE = 'Hello there, thanks for calling. How can I help you today?';

describe('offline eSpeak voice', () => {
  it('speaks a sentence as speech-like 22 kHz PCM', async () => {
    const speech = await synthesizeSpeech(SENTENCE);
    expect(speech.sampleRate).toBe(22050);
    const seconds = speech.pcm.length / speech.sampleRate;
    expect(seconds).toBeGreaterThan(2.5); // 11 words at 175 wpm ≈ 3.8 s
    expect(seconds).toBeLessThan(6);
    expect(rms(speech.pcm)).toBeGreaterThan(1000);
    const voiced = voicedFraction(speech.pcm, speech.sampleRate);
    expect(voiced).toBeGreaterThan(0.4); // speech with pauses, not a tone
    expect(voiced).toBeLessThan(0.98);
  });

  it('times every word, in order, inside the audio, on speech', async () => {
    const speech = await synthesizeSpeech(SENTENCE);
    const duration = speech.pcm.length / speech.sampleRate;
    expect(speech.words.map((w) => w.word)).toEqual(SENTENCE.split(' '));
    let previousEnd = 0;
    for (const word of speech.words) {
      expect(word.startSec).toBeGreaterThanOrEqual(previousEnd - 1e-9);
      expect(word.endSec).toBeGreaterThan(word.startSec);
      expect(word.endSec).toBeLessThanOrEqual(duration);
      // Each word's span is mostly loud: timings sit on speech, not on pauses.
      const span = speech.pcm.subarray(Math.round(word.startSec * speech.sampleRate), Math.round(word.endSec * speech.sampleRate));
      expect(voicedFraction(span, speech.sampleRate, 300)).toBeGreaterThan(0.5);
      previousEnd = word.endSec;
    }
    // The comma and the full stop are pauses between words.
    const [, there, thanks] = speech.words;
    expect((thanks?.startSec ?? 0) - (there?.endSec ?? 0)).toBeGreaterThan(0.1);
    const calling = speech.words[4];
    const how = speech.words[5];
    expect((how?.startSec ?? 0) - (calling?.endSec ?? 0)).toBeGreaterThan(0.15);
  });

  it('longer words take longer', async () => {
    const speech = await synthesizeSpeech('I appreciate extraordinary cooperation.');
    const [i, appreciate, extraordinary] = speech.words.map((w) => w.endSec - w.startSec);
    expect(appreciate).toBeGreaterThan(i ?? Infinity);
    expect(extraordinary).toBeGreaterThan(i ?? Infinity);
  });

  it('is deterministic and keeps no state between runs', async () => {
    const a1 = await synthesizeSpeech('First sentence.', { wordTimings: false });
    const b = await synthesizeSpeech('A completely different and much longer second sentence.', {
      voice: 'en-gb',
      wordsPerMinute: 250,
      wordTimings: false,
    });
    const a2 = await synthesizeSpeech('First sentence.', { wordTimings: false });
    expect(b.pcm.length).not.toBe(a1.pcm.length);
    expect(Buffer.from(a2.pcm.buffer).equals(Buffer.from(a1.pcm.buffer))).toBe(true);
  });

  it('selects voices: a female variant speaks higher than the default male voice', async () => {
    const male = await synthesizeSpeech(SENTENCE, { voice: 'en-us', wordTimings: false });
    const female = await synthesizeSpeech(SENTENCE, { voice: 'en-us+f3', wordTimings: false });
    const british = await synthesizeSpeech(SENTENCE, { voice: 'en-gb', wordTimings: false });
    expect(medianPitchHz(female.pcm, 22050)).toBeGreaterThan(medianPitchHz(male.pcm, 22050) * 1.3);
    expect(Buffer.from(british.pcm.buffer).equals(Buffer.from(male.pcm.buffer))).toBe(false);
  });

  it('speaks faster at a higher rate', async () => {
    const slow = await synthesizeSpeech(SENTENCE, { wordsPerMinute: 130, wordTimings: false });
    const fast = await synthesizeSpeech(SENTENCE, { wordsPerMinute: 260, wordTimings: false });
    expect(fast.pcm.length).toBeLessThan(slow.pcm.length * 0.7);
  });

  it('rejects an unknown voice with espeak’s message', async () => {
    await expect(synthesizeSpeech('hello', { voice: 'xx-nonexistent' })).rejects.toThrow(EspeakError);
    await expect(synthesizeSpeech('hello', { voice: 'xx-nonexistent' })).rejects.toThrow(/voice does not exist/);
    // …and keeps working afterwards.
    expect((await synthesizeSpeech('hello')).pcm.length).toBeGreaterThan(1000);
  });

  it('treats text that looks like an option as text', async () => {
    const speech = await synthesizeSpeech('-v is not an option here');
    expect(speech.words.map((w) => w.word)).toEqual(['-v', 'is', 'not', 'an', 'option', 'here']);
    expect(speech.pcm.length / speech.sampleRate).toBeGreaterThan(1);
  });

  it('returns nothing for empty text', async () => {
    const speech = await synthesizeSpeech('   ');
    expect(speech.words).toEqual([]);
    expect(rms(speech.pcm)).toBeLessThan(50);
  });

  it('converts to 8 kHz μ-law for telephony with the same word timings', async () => {
    const pcm = await synthesizeSpeech(SENTENCE);
    const mulaw = await synthesizeMulaw8k(SENTENCE);
    expect(mulaw.sampleRate).toBe(8000);
    expect(mulaw.mulaw.length).toBe(Math.round((pcm.pcm.length * 8000) / 22050));
    const decoded = mulawDecode(mulaw.mulaw);
    expect(rms(decoded)).toBeGreaterThan(1000);
    expect(voicedFraction(decoded, 8000)).toBeGreaterThan(0.4);
    expect(mulaw.words).toEqual(pcm.words);
  });

  it('converts to 16 kHz PCM', async () => {
    const speech = await synthesizeAs('Testing sixteen kilohertz.', { encoding: 'pcm16', sampleRate: 16000 });
    expect(speech.audio.sampleRate).toBe(16000);
    expect(speech.audio.pcm?.length).toBe(Math.round(speech.durationSec * 16000));
    expect(rms(speech.audio.pcm ?? new Int16Array(0))).toBeGreaterThan(1000);
  });

  it('lists English voices', async () => {
    const voices = await listEspeakVoices('en');
    expect(voices.map((v) => v.language)).toEqual(expect.arrayContaining(['en-us', 'en-gb']));
  });
});

describe('splitWords', () => {
  it('keeps punctuation on words and joins unspeakable tokens to a neighbour', () => {
    expect(splitWords('  Hello,  world - again!  ')).toEqual(['Hello,', 'world -', 'again!']);
    expect(splitWords('— Well then')).toEqual(['— Well', 'then']);
    expect(splitWords('')).toEqual([]);
  });
});
