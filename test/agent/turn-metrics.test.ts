import { describe, expect, it } from 'vitest';
import { TurnMetricsObserver, type TurnLatency } from '../../src/agent/turn-metrics.ts';
import '../../src/agent/frames.ts';
import { LlmContext } from '../../src/services/llm/context.ts';
import { makeFrame, type Frame } from '../../src/pipeline/frames.ts';

/** Drives the observer with the hops one caller turn produces, at the given `performance.now()` times. */
function hop(observer: TurnMetricsObserver, frame: Frame, atMs: number, source = 'UserTurnProcessor', destination = 'LlmProcessor') {
  observer.onHop({ source, destination, frame, direction: 'downstream', atMs });
}

function turn(observer: TurnMetricsObserver, o: { startSec: number; stopMs: number; finalMs?: number; runMs: number; audioMs: number }) {
  hop(observer, makeFrame('user.speech.started', { atSec: o.startSec, atMs: o.startSec * 1000 }), o.startSec * 1000);
  if (o.finalMs !== undefined) {
    hop(observer, makeFrame('transcription', { text: 'Thursday.', final: true }), o.finalMs, 'SttProcessor', 'UserTurnProcessor');
  }
  hop(observer, makeFrame('user.speech.stopped', { atSec: o.stopMs / 1000, atMs: o.stopMs }), o.stopMs + 200);
  hop(observer, makeFrame('llm.run', { context: new LlmContext({ system: 'test' }), reason: 'user turn' }), o.runMs);
  hop(observer, makeFrame('llm.text', { text: 'Sure.' }), o.runMs + 300, 'LlmProcessor', 'TtsProcessor');
  hop(
    observer,
    makeFrame('tts.audio', { audio: { sampleRate: 8000, channels: 1, mulaw: new Uint8Array(160) }, utteranceId: 'u' }),
    o.audioMs,
    'TtsProcessor',
    'TransportOutput',
  );
  hop(observer, makeFrame('bot.speech.started', { utteranceId: `u${o.startSec}` }), o.audioMs + 5, 'TransportOutput', 'Sink');
}

describe('TurnMetricsObserver', () => {
  it('times the STT final from the caller stop of the same turn', () => {
    const latencies: TurnLatency[] = [];
    const observer = new TurnMetricsObserver({ onTurnLatency: (_, latency) => latencies.push(latency) });
    turn(observer, { startSec: 1, stopMs: 3000, finalMs: 3250, runMs: 3260, audioMs: 3900 });
    expect(latencies[0]?.sttFinalMs).toBe(250);
    expect(latencies[0]?.voiceToVoiceMs).toBe(905);
  });

  it('never times a turn against the previous turn’s final (it used to show a negative STT final)', () => {
    const latencies: TurnLatency[] = [];
    const observer = new TurnMetricsObserver({ onTurnLatency: (_, latency) => latencies.push(latency) });
    turn(observer, { startSec: 1, stopMs: 3000, finalMs: 3250, runMs: 3260, audioMs: 3900 });
    // The second turn's reply starts without a final of its own (nothing transcribed yet).
    turn(observer, { startSec: 6, stopMs: 8000, runMs: 8300, audioMs: 9000 });
    expect(latencies).toHaveLength(2);
    expect(latencies[1]?.sttFinalMs).toBeUndefined();
  });

  it('keeps a final from before a pause when the caller goes on in the same turn', () => {
    const latencies: TurnLatency[] = [];
    const observer = new TurnMetricsObserver({ onTurnLatency: (_, latency) => latencies.push(latency) });
    hop(observer, makeFrame('user.speech.started', { atSec: 1, atMs: 1000 }), 1000);
    hop(observer, makeFrame('transcription', { text: 'I would like', final: true }), 2400, 'SttProcessor', 'UserTurnProcessor');
    // Same turn resumed: the start is announced again with the turn's original start.
    turn(observer, { startSec: 1, stopMs: 3000, runMs: 3300, audioMs: 3900 });
    expect(latencies[0]?.sttFinalMs).toBe(-600);
  });
});
