/**
 * `switchboard vad <file.wav>`: runs the call pipeline's VAD over a recording and prints the speech segments it
 * finds, so users can tune confidence / start / stop / volume on their own audio.
 *
 * The audio is downmixed to mono and resampled to 8 kHz by default, whatever the file's rate, because that is
 * what the VAD sees on a phone call (G.711); `--sample-rate 16000` analyses wideband instead. The file is fed
 * in 20 ms chunks exactly as a live call would feed it. Output: one JSON object on stdout,
 * `{"segments":[{"start":1.02,"end":3.41}, …]}` (seconds from the start of the file, 2 decimals).
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { VadAnalyzer, DEFAULT_VAD_PARAMS, type VadParams } from '../audio/vad/vad-analyzer.ts';
import type { SileroSampleRate } from '../audio/vad/silero-model.ts';
import { readWav, WavFormatError } from '../audio/wav.ts';
import { downmixToMono, resampleWhole } from '../audio/pcm.ts';

export interface SpeechSegment {
  start: number;
  end: number;
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

/** Runs the VAD over a whole recording in 20 ms chunks and pairs its events into segments. */
export async function detectSpeechSegments(
  wav: Uint8Array,
  params: Partial<VadParams> & { sampleRate?: SileroSampleRate },
): Promise<SpeechSegment[]> {
  const decoded = readWav(wav);
  const sampleRate = params.sampleRate ?? 8000;
  const pcm = resampleWhole(downmixToMono(decoded.samples, decoded.channels), decoded.sampleRate, sampleRate);
  const analyzer = await VadAnalyzer.create({ ...params, sampleRate });
  const segments: SpeechSegment[] = [];
  let openStart: number | undefined;
  const collect = (events: readonly { type: string; atSec: number }[]): void => {
    for (const e of events) {
      if (e.type === 'speech-start') openStart = e.atSec;
      else if (openStart !== undefined) {
        segments.push({ start: openStart, end: e.atSec });
        openStart = undefined;
      }
    }
  };
  const chunk = sampleRate / 50; // 20 ms, like RTP / carrier media frames
  for (let i = 0; i < pcm.length; i += chunk) collect(await analyzer.process(pcm.subarray(i, i + chunk)));
  collect(await analyzer.flush());
  return segments;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function vadCommand(): Command {
  return new Command('vad')
    .description("Detect speech segments in a WAV file with the call pipeline's VAD (Silero v5); prints JSON")
    .argument('<file>', 'WAV file (PCM 8/16/24/32-bit, float, μ-law or A-law; any rate and channel count)')
    .option('--confidence <p>', 'minimum speech probability per 32 ms window', parseNumber, DEFAULT_VAD_PARAMS.confidence)
    .option('--start-secs <s>', 'speech must last this long to start a segment', parseNumber, DEFAULT_VAD_PARAMS.startSecs)
    .option('--stop-secs <s>', 'silence must last this long to end a segment', parseNumber, DEFAULT_VAD_PARAMS.stopSecs)
    .option('--min-volume <v>', 'minimum smoothed volume, 0–1 loudness scale', parseNumber, DEFAULT_VAD_PARAMS.minVolume)
    .addOption(
      new Option('--sample-rate <hz>', 'rate the VAD runs at (8000 = telephone, as on calls)').choices(['8000', '16000']).default('8000'),
    )
    .action(async (file: string, opts: Record<string, string | number>) => {
      try {
        let wav: Uint8Array;
        try {
          wav = await readFile(file);
        } catch (err) {
          throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const segments = await detectSpeechSegments(wav, {
          confidence: opts.confidence as number,
          startSecs: opts.startSecs as number,
          stopSecs: opts.stopSecs as number,
          minVolume: opts.minVolume as number,
          sampleRate: Number(opts.sampleRate) as SileroSampleRate,
        }).catch((err: unknown) => {
          if (err instanceof WavFormatError) throw new Error(`${file}: ${err.message}`);
          throw err;
        });
        process.stdout.write(`${JSON.stringify({ segments: segments.map((s) => ({ start: round2(s.start), end: round2(s.end) })) })}\n`);
      } catch (err) {
        process.stderr.write(`switchboard vad: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
