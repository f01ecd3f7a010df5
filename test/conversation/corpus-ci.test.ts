/**
 * The conversation corpus's CI subset (`"ci": true` calls: backchannels and non-speech sounds over the bot, real
 * interruptions, a slow talker, keypad, two voicemails) run end to end through the sandbox at realistic provider
 * timing, the way `npm run eval --ci` runs them. Asserts what the caller would notice; latency targets live in
 * `npm run eval` (the full corpus), not here.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS_DIR } from '../../src/cli/eval.ts';
import { loadCorpus } from '../../src/cli/eval/corpus.ts';
import { runCorpus } from '../../src/cli/eval/runner.ts';
import { score } from '../../src/cli/eval/scorecard.ts';

describe('conversation corpus (CI subset)', () => {
  it(
    'keeps talking through backchannels and sounds, yields to interruptions, waits for slow talkers, leaves voicemail after the beep',
    { timeout: 240_000 },
    async () => {
      const corpus = loadCorpus(DEFAULT_CORPUS_DIR);
      const calls = corpus.calls.filter((c) => c.ci);
      expect(calls.length).toBeGreaterThanOrEqual(6);
      const outcomes = await runCorpus(corpus, calls, { carrier: 'twilio', concurrency: calls.length, timing: 'realistic' });
      const card = score(outcomes);
      const findings = card.events.filter((e) => e.cut || e.detected === false || e.premature || e.messagePlacedOk === false);
      expect(findings).toEqual([]);
      expect(card.detail.failedCalls).toBe(0);
      expect(card.falseInterruptionPct).toBe(0);
      expect(card.missedInterruptions).toBe(0);
      expect(card.prematureReplies).toBe(0);
      expect(card.toolsOnUncommittedTurns).toBe(0);
      expect(card.voicemailRecallPct).toBe(100);
      expect(card.humanAsMachinePct).toBe(0);
      expect(card.deadAirCalls).toBe(0);
      expect(card.detail.voiceToVoiceSamples).toBeGreaterThan(10);
    },
  );
});
