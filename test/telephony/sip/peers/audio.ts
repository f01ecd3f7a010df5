/** Test audio: eSpeak speech as a padded WAV for baresip's microphone, tones, and energy segmentation. */
import { writeFile } from 'node:fs/promises';
import { mulawDecode, mulawEncode } from '../../../../src/audio/g711.ts';
import { readWav, writeWav } from '../../../../src/audio/wav.ts';
import { synthesizeMulaw8k } from '../../../../src/services/tts/offline/espeak-voice.ts';

/** Writes `text` spoken by eSpeak as 8 kHz mono 16-bit WAV with silence before and after; returns the speech length. */
export async function writeSpeechWav(
  path: string,
  text: string,
  options: { leadMs?: number; tailMs?: number } = {},
): Promise<{ speechMs: number }> {
  const speech = mulawDecode((await synthesizeMulaw8k(text)).mulaw);
  const lead = new Int16Array(((options.leadMs ?? 400) * 8000) / 1000);
  const tail = new Int16Array(((options.tailMs ?? 4000) * 8000) / 1000);
  const samples = new Int16Array(lead.length + speech.length + tail.length);
  samples.set(speech, lead.length);
  await writeFile(path, writeWav({ sampleRate: 8000, channels: 1, samples }));
  return { speechMs: (speech.length / 8000) * 1000 };
}

/** A sine tone as 8 kHz μ-law. */
export function toneMulaw(ms: number, hz = 1000, level = 0.5): Uint8Array {
  const pcm = new Int16Array((ms * 8000) / 1000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * hz * i) / 8000) * level * 32767);
  return mulawEncode(pcm);
}

/** RMS level (dBFS) of each `windowMs` window. */
export function levels(samples: Int16Array, sampleRate: number, windowMs = 10): number[] {
  const size = Math.round((sampleRate * windowMs) / 1000);
  const out: number[] = [];
  for (let start = 0; start + size <= samples.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += (samples[i] as number) ** 2;
    out.push(20 * Math.log10(Math.sqrt(sum / size) / 32768 + 1e-9));
  }
  return out;
}

export interface Segment {
  startMs: number;
  endMs: number;
}

/** Stretches louder than `thresholdDbfs`, merging gaps shorter than `gapMs`. */
export function loudSegments(samples: Int16Array, sampleRate: number, thresholdDbfs = -35, gapMs = 250, windowMs = 10): Segment[] {
  const segments: Segment[] = [];
  levels(samples, sampleRate, windowMs).forEach((level, i) => {
    if (level < thresholdDbfs) return;
    const startMs = i * windowMs;
    const last = segments.at(-1);
    if (last && startMs - last.endMs <= gapMs) last.endMs = startMs + windowMs;
    else segments.push({ startMs, endMs: startMs + windowMs });
  });
  return segments;
}

export function wavSamples(wav: Buffer): { samples: Int16Array; sampleRate: number } {
  const data = readWav(wav);
  if (data.channels !== 1) throw new Error(`expected mono, got ${data.channels} channels`);
  return { samples: data.samples, sampleRate: data.sampleRate };
}

export function concatMulaw(chunks: Uint8Array[]): Int16Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return mulawDecode(bytes);
}
