import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureDir, run, utteranceFile, type UtteranceFile } from '../audio/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard', import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI: `switchboard vad …`. */
function vad(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'vad', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

type Segments = Array<{ start: number; end: number }>;

function parseSegments(result: CliResult): Segments {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // exactly one JSON object on stdout
  const parsed = JSON.parse(lines[0] as string) as { segments: Segments };
  expect(Object.keys(parsed)).toEqual(['segments']);
  for (const s of parsed.segments) {
    expect(Math.round(s.start * 100) / 100).toBe(s.start); // 2 decimals
    expect(Math.round(s.end * 100) / 100).toBe(s.end);
  }
  return parsed.segments;
}

function expectMatchesTruth(segments: Segments, truth: UtteranceFile['truth'], tolerance: number): void {
  expect(segments).toHaveLength(truth.length); // one per utterance: nothing merged across the ≥ 1 s gaps, nothing split
  truth.forEach((t, i) => {
    expect(Math.abs(segments[i]!.start - t.start), `utterance ${i + 1} start (truth ${t.start.toFixed(2)})`).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(segments[i]!.end - t.end), `utterance ${i + 1} end (truth ${t.end.toFixed(2)})`).toBeLessThanOrEqual(tolerance);
  });
}

const dir = new FixtureDir();
let speech: UtteranceFile;
let speech44kStereo: string;
let silence: string;
let noise: string;

beforeAll(() => {
  // Four utterances of different lengths (0.3 s … 3.7 s), separated by 1.5, 1.0 and 2.0 s of silence.
  speech = utteranceFile(
    dir,
    8000,
    [
      'Hello, thank you for calling. How can I help you today?',
      'No.',
      'I would like to change the delivery address for my order, please.',
      'Okay, great, thanks.',
    ],
    [1.5, 1.0, 2.0],
  );
  speech44kStereo = dir.file('speech-44k-stereo.wav');
  run('sox', [speech.path, '-r', '44100', '-c', '2', speech44kStereo]);
  silence = dir.file('silence.wav');
  run('sox', ['-n', '-r', '8000', '-b', '16', '-c', '1', silence, 'trim', '0', '3']);
  noise = dir.file('noise.wav');
  run('sox', ['-n', '-r', '8000', '-b', '16', '-c', '1', noise, 'synth', '3', 'whitenoise', 'norm', '-30']);
});
afterAll(() => dir.remove());

describe.concurrent('switchboard vad', () => {
  it('finds each of 4 utterances in an 8 kHz file within ±0.3 s, one segment each', async () => {
    expectMatchesTruth(parseSegments(await vad(speech.path)), speech.truth, 0.3);
  });

  it('handles other rates and channel counts: 44.1 kHz stereo gives the same segments', async () => {
    expectMatchesTruth(parseSegments(await vad(speech44kStereo)), speech.truth, 0.3);
  });

  it('--sample-rate 16000 analyses wideband with the same accuracy', async () => {
    expectMatchesTruth(parseSegments(await vad(speech44kStereo, '--sample-rate', '16000')), speech.truth, 0.3);
  });

  it('3 s of digital silence → no segments', async () => {
    expect(parseSegments(await vad(silence))).toEqual([]);
  });

  it('3 s of white noise peaking at −30 dBFS → no segments', async () => {
    expect(parseSegments(await vad(noise))).toEqual([]);
  });

  it('options change the result: a long --stop-secs merges utterances, --min-volume 1 hears nothing', async () => {
    const merged = parseSegments(await vad(speech.path, '--stop-secs', '2.5'));
    expect(merged).toHaveLength(1);
    expect(merged[0]!.start).toBeCloseTo(speech.truth[0]!.start, 0);
    expect(parseSegments(await vad(speech.path, '--min-volume', '1'))).toEqual([]);
  });

  it('a file that is not WAV → one clear line on stderr, exit code 1', async () => {
    const notWav = dir.file('notes.wav');
    writeFileSync(notWav, 'these are my meeting notes, not audio');
    const result = await vad(notWav);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^switchboard vad: .*notes\.wav: not a WAV file/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1); // no stack trace
  });

  it('a missing file or a bad option value → clear error, exit code 1', async () => {
    const missing = await vad(dir.file('nope.wav'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.wav: ENOENT/);
    const badValue = await vad(speech.path, '--confidence', 'high');
    expect(badValue.code).toBe(1);
    expect(badValue.stderr).toMatch(/"high" is not a number/);
    const outOfRange = await vad(speech.path, '--confidence', '7');
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toMatch(/confidence must be between 0 and 1/);
  });
});
