import { describe, expect, it } from 'vitest';
import type { CorpusCall } from '../../src/cli/eval/corpus.ts';
import type { CallOutcome } from '../../src/cli/eval/scorecard.ts';
import { score } from '../../src/cli/eval/scorecard.ts';
import type { CalleeRecord, SaidRecord } from '../../src/sandbox/callees/simulated-callee.ts';
import type { CallRecord } from '../../src/store/index.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function said(step: number, text: string, from: number, to: number, overlappedBot = false): SaidRecord {
  return { text, lineId: 1, step, startAt: T0 + from, endAt: T0 + to, firstAudibleAt: T0 + from, lastAudibleAt: T0 + to, overlappedBot };
}

function outcome(
  call: Partial<CorpusCall> & Pick<CorpusCall, 'events'>,
  callee: Partial<CalleeRecord>,
  events: Array<[number, string, Record<string, unknown>]> = [],
  turns: CallRecord['turns'] = [],
): CallOutcome {
  const steps = call.persona?.steps ?? [
    { say: 'Hello?' },
    { waitForBotSpeechMs: 1000 },
    { say: 'Mm-hmm.' },
    { waitForBotToFinish: true as const },
    { say: 'Yes.' },
    { waitForBotToFinish: true as const },
  ];
  return {
    call: { id: 'c', category: 'conversation', answeredBy: 'human', ci: false, ...call, persona: { id: 'p', steps } } as CorpusCall,
    record: { turns, events: events.map(([at, type, data]) => ({ at: iso(at), type, data })) } as unknown as CallRecord,
    callee: { said: [], heard: [], pressed: [], steps: [], connectedAt: T0, endedAt: T0 + 20_000, ...callee } as CalleeRecord,
    clears: [],
  };
}

describe('conversation scorecard', () => {
  it('a backchannel that paused the bot and resumed it within a second is not a false interruption', () => {
    const card = score([
      outcome(
        {
          events: [
            { kind: 'answer', step: 0 },
            { kind: 'backchannel', step: 2 },
          ],
        },
        {
          said: [said(0, 'Hello?', 0, 600), said(2, 'Mm-hmm.', 3000, 3500, true), said(4, 'Yes.', 9000, 9400)],
          heard: [
            { startAt: T0 + 1400, endAt: T0 + 3300 },
            { startAt: T0 + 4100, endAt: T0 + 8000 },
            { startAt: T0 + 10_200, endAt: T0 + 12_000 },
          ],
        },
        [[1300, 'answered-by', { answeredBy: 'human', how: 'short-answer' }]],
      ),
    ]);
    expect(card.falseInterruptionPct).toBe(0);
    expect(card.resumedPct).toBe(100);
    expect(card.detail.pausedEvents).toBe(1);
    expect(card.detail.resumeMs.p50).toBe(600);
    expect(card.humanAsMachinePct).toBe(0);
    expect(card.voiceToVoiceMs).toEqual({ p50: 800, p95: 800 }); // Hello? → 1400; Yes. → +800
  });

  it('a backchannel that cut the bot, a slow resume, dead air and a tool before its commit all count', () => {
    const cut = outcome(
      { events: [{ kind: 'backchannel', step: 2 }] },
      { said: [said(2, 'Okay.', 3000, 3400, true)], heard: [{ startAt: T0 + 1000, endAt: T0 + 3300 }] },
      [
        [3500, 'barge-in', { reason: 'words' }],
        [5000, 'turn.committed', { turnId: 2 }],
        [4800, 'tool.call', { toolName: 'x', turnId: 2 }],
      ],
    );
    const slow = outcome(
      { events: [{ kind: 'non-speech', step: 2 }] },
      {
        said: [said(2, '', 3000, 3500, true)],
        heard: [
          { startAt: T0 + 1000, endAt: T0 + 3300 },
          { startAt: T0 + 4800, endAt: T0 + 6000 },
        ],
        endedAt: T0 + 20_000, // 14 s of silence after the bot stopped
      },
    );
    const card = score([cut, slow]);
    expect(card.falseInterruptionPct).toBe(50);
    expect(card.resumedPct).toBe(0);
    expect(card.toolsOnUncommittedTurns).toBe(1);
    expect(card.deadAirCalls).toBe(2);
  });

  it('slow talkers: the bot speaking or a commit in the mid-sentence pause is premature', () => {
    const steps = [
      { say: 'Hmm, I would like to move it to' },
      { pauseMs: 800 },
      { say: 'Thursday.' },
      { waitForBotToFinish: true as const },
    ];
    const base = { persona: { id: 'p', steps }, events: [{ kind: 'slow-talker' as const, step: 0, continuation: 2 }] };
    const fine = outcome(base, {
      said: [said(0, 'Hmm', 0, 1500), said(2, 'Thursday.', 2300, 2900)],
      heard: [{ startAt: T0 + 3700, endAt: null }],
    });
    const early = outcome(base, {
      said: [said(0, 'Hmm', 0, 1500), said(2, 'Thursday.', 2300, 2900)],
      heard: [{ startAt: T0 + 2100, endAt: T0 + 2400 }],
    });
    expect(score([fine]).prematureReplies).toBe(0);
    expect(score([early]).prematureReplies).toBe(1);
  });

  it('voicemail: detected with the message after the beep, or not', () => {
    const steps = [{ play: 'vm.wav', transcript: 'Leave a message.' }, { pauseMs: 300 }, { play: 'beep.wav' }];
    const vm = (messageAt: number, answeredBy: string) =>
      outcome(
        {
          category: 'voicemail',
          answeredBy: 'machine',
          persona: { id: 'vm', steps },
          events: [{ kind: 'voicemail', step: 0, beepStep: 2 }],
        },
        { said: [said(0, 'Leave a message.', 0, 4000), said(2, '', 4300, 4800)], heard: [{ startAt: T0 + messageAt, endAt: null }] },
        [[2000, 'answered-by', { answeredBy, how: 'transcript' }]],
        [
          { index: 0, role: 'assistant', text: 'Hi, please call us back.', startedAt: iso(messageAt), endedAt: null },
        ] as CallRecord['turns'],
      );
    expect(score([vm(5100, 'machine')]).voicemailRecallPct).toBe(100);
    expect(score([vm(4500, 'machine')]).voicemailRecallPct).toBe(0); // over the beep
    expect(score([vm(5100, 'human')]).voicemailRecallPct).toBe(0);
  });
});
