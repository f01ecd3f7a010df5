import type { Scorecard } from './scorecard.ts';

const fmt = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '–');
const ok = (pass: boolean) => (pass ? 'ok' : 'NOT MET');

/** The scorecard as a table, with the issue's targets beside the figures. */
export function formatScorecard(card: Scorecard, options: { timing: string; subset: string; loadAverage: number[] }): string {
  const d = card.detail;
  const rows: Array<[string, string, string]> = [
    [
      'false interruptions (backchannels + non-speech over the bot)',
      `${card.falseInterruptionPct} % of ${d.overlayEvents}`,
      `≤ 5 %: ${ok(card.falseInterruptionPct <= 5)}`,
    ],
    [
      '  paused and resumed within 1 s (no user turn)',
      `${card.resumedPct} % of ${d.pausedEvents} paused`,
      `100 %: ${ok(card.resumedPct >= 100)}`,
    ],
    ['  resume after the sound ended p50 / p95 / max', `${fmt(d.resumeMs.p50)} / ${fmt(d.resumeMs.p95)} / ${fmt(d.resumeMs.max)} ms`, ''],
    ['real interruptions missed', `${card.missedInterruptions} of ${d.realInterruptions}`, `0: ${ok(card.missedInterruptions === 0)}`],
    [
      '  carrier clear after speech onset p50 / p95 / max',
      `${fmt(d.clearAfterOnsetMs.p50)} / ${fmt(d.clearAfterOnsetMs.p95)} / ${fmt(d.clearAfterOnsetMs.max)} ms`,
      `p95 ≤ 750: ${ok(d.clearAfterOnsetMs.p95 <= 750)}`,
    ],
    [
      'premature replies (slow talkers)',
      `${card.prematureReplies} of ${d.slowTalkerEvents}`,
      `≤ 1 in 8: ${ok(card.prematureReplies * 8 <= Math.max(1, d.slowTalkerEvents))}`,
    ],
    ['tools run on uncommitted turns', String(card.toolsOnUncommittedTurns), `0: ${ok(card.toolsOnUncommittedTurns === 0)}`],
    [
      'voicemail: detected, message after the beep/greeting',
      `${card.voicemailRecallPct} % of ${d.machines} (${d.machinesDetected} detected, ${d.greetingLeaks} with bot audio in the greeting)`,
      `≥ 95 %: ${ok(card.voicemailRecallPct >= 95)}`,
    ],
    ['humans taken for machines', `${card.humanAsMachinePct} % of ${d.humans}`, `≤ 5 %: ${ok(card.humanAsMachinePct <= 5)}`],
    ['calls with dead air over the idle timeout', `${card.deadAirCalls} of ${d.calls}`, `0: ${ok(card.deadAirCalls === 0)}`],
    [
      'voice to voice p50 / p95',
      `${fmt(card.voiceToVoiceMs.p50)} / ${fmt(card.voiceToVoiceMs.p95)} ms (${d.voiceToVoiceSamples} replies)`,
      `≤ 1000 / 1400: ${ok(card.voiceToVoiceMs.p50 <= 1000 && card.voiceToVoiceMs.p95 <= 1400)}`,
    ],
    ['keypad answer → reply p50 / max', `${fmt(d.keypadMs.p50)} / ${fmt(d.keypadMs.max)} ms`, ''],
    ['early replies used', `${d.earlyRepliesUsedPct} % of spoken turns`, ''],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const lines = [
    `Conversation scorecard — ${d.calls} calls (${d.failedCalls} failed), ${d.events} events; ${options.subset}; provider timing ${options.timing}; load average ${options.loadAverage.map((x) => x.toFixed(2)).join(' ')}`,
    ...rows.map(([name, value, target]) => `${name.padEnd(width)}  ${value}${target ? `   [${target}]` : ''}`),
  ];
  return lines.join('\n');
}

/** One line per event that went wrong (or is worth a look). */
export function formatFindings(card: Scorecard): string {
  const lines: string[] = [];
  for (const e of card.events) {
    const bad =
      e.cut === true ||
      (e.pausedResumeMs !== undefined && e.pausedResumeMs !== null && e.pausedResumeMs > 1000) ||
      e.detected === false ||
      e.premature === true ||
      (e.kind === 'voicemail' && e.messagePlacedOk !== true) ||
      (e.kind === 'answer' && e.answeredBy === 'machine') ||
      e.note !== undefined;
    if (bad)
      lines.push(`  ${e.callId} ${e.kind} "${e.what}": ${JSON.stringify({ ...e, callId: undefined, kind: undefined, what: undefined })}`);
  }
  return lines.length > 0 ? `Findings:\n${lines.join('\n')}` : 'Findings: none';
}
