/**
 * Scores corpus calls from what each side recorded: the simulated caller's record (what it said and when,
 * what bot audio it heard and when — the caller's experience) and the server's call record (turns, events,
 * answered-by). Times are epoch ms.
 */
import type { CalleeRecord, SaidRecord } from '../../sandbox/callees/simulated-callee.ts';
import type { CallRecord } from '../../store/index.ts';
import type { CorpusCall, CorpusEvent } from './corpus.ts';

export interface CallOutcome {
  call: CorpusCall;
  record: CallRecord | undefined;
  callee: CalleeRecord | undefined;
  /** Epoch ms of every `clear` the carrier received. */
  clears: number[];
  /** Why the call could not be scored, if it could not. */
  error?: string;
}

/** One scored event, for the detailed listing. */
export interface EventScore {
  callId: string;
  kind: CorpusEvent['kind'];
  /** What was said or played. */
  what: string;
  /** The bot was heard speaking when it began (overlay events). */
  overBot?: boolean;
  /** The bot's speech was cut / a user turn was added (overlay events). */
  cut?: boolean;
  /** The bot went quiet for it, and came back after this long from the sound's end (ms). */
  pausedResumeMs?: number | null;
  detected?: boolean;
  clearMs?: number;
  premature?: boolean;
  answeredBy?: string;
  how?: string;
  messagePlacedOk?: boolean;
  messageDelayMs?: number;
  keypadMs?: number;
  note?: string;
}

export interface Scorecard {
  /** Backchannels and non-speech sounds over the bot that cut it off or added a user turn. */
  falseInterruptionPct: number;
  /** Of those that paused the bot without cutting it: resumed within 1 s of the sound's end, no user turn added. */
  resumedPct: number;
  missedInterruptions: number;
  prematureReplies: number;
  toolsOnUncommittedTurns: number;
  /** Machines detected with the message starting after the beep (or the greeting's end). */
  voicemailRecallPct: number;
  humanAsMachinePct: number;
  deadAirCalls: number;
  voiceToVoiceMs: { p50: number; p95: number };
  /** Further figures (the "must show" items and their denominators). */
  detail: {
    calls: number;
    failedCalls: number;
    events: number;
    overlayEvents: number;
    overlayEventsNotOverBot: number;
    pausedEvents: number;
    resumeMs: { p50: number; p95: number; max: number };
    realInterruptions: number;
    clearAfterOnsetMs: { p50: number; p95: number; max: number };
    slowTalkerEvents: number;
    machines: number;
    machinesDetected: number;
    /** Bot audio heard during a machine's greeting before the beep (calls). */
    greetingLeaks: number;
    humans: number;
    keypadMs: { p50: number; max: number };
    voiceToVoiceSamples: number;
    earlyRepliesUsedPct: number;
  };
  events: EventScore[];
}

const IDLE_TIMEOUT_MS = 8000;
/** A silence longer than the idle timeout plus the re-prompt's own latency is dead air. */
const DEAD_AIR_MS = IDLE_TIMEOUT_MS + 1500;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const maxOf = (values: number[]) => (values.length === 0 ? NaN : Math.max(...values));
const pct = (n: number, of: number) => (of === 0 ? 100 : Math.round((1000 * n) / of) / 10);

function eventsOf(record: CallRecord | undefined, type: string): Array<{ at: number; data: Record<string, unknown> }> {
  return (record?.events ?? [])
    .filter((e) => e.type === type)
    .map((e) => ({ at: Date.parse(e.at), data: (e.data ?? {}) as Record<string, unknown> }));
}

function saidAt(callee: CalleeRecord, step: number): SaidRecord | undefined {
  return callee.said.find((s) => s.step === step);
}

/** Bot audio heard starting in [from, to). */
function heardStartingIn(callee: CalleeRecord, from: number, to: number) {
  return callee.heard.filter((h) => h.startAt >= from && h.startAt < to);
}

export function score(outcomes: CallOutcome[]): Scorecard {
  const events: EventScore[] = [];
  const v2v: number[] = [];
  const resumes: number[] = [];
  const clearLatencies: number[] = [];
  const keypad: number[] = [];
  let overlay = 0;
  let notOverBot = 0;
  let cut = 0;
  let paused = 0;
  let resumedOk = 0;
  let realInterruptions = 0;
  let missed = 0;
  let slowEvents = 0;
  let premature = 0;
  let toolsUncommitted = 0;
  let machines = 0;
  let machinesOk = 0;
  let machinesDetected = 0;
  let leaks = 0;
  let humans = 0;
  let humansAsMachine = 0;
  let deadAir = 0;
  let failed = 0;
  let earlyUsed = 0;
  let earlyTurns = 0;

  for (const outcome of outcomes) {
    const { call, record, callee } = outcome;
    if (outcome.error || !callee || !record) {
      failed++;
      deadAir++; // a call that did not run to its end left someone waiting
      events.push({ callId: call.id, kind: call.events[0]?.kind ?? 'answer', what: '', note: outcome.error ?? 'no record' });
      continue;
    }
    const bargeIns = eventsOf(record, 'barge-in');
    const commits = eventsOf(record, 'turn.committed');
    const userTurns = record.turns.filter((t) => t.role === 'user').map((t) => ({ ...t, start: Date.parse(t.startedAt) }));
    const verdicts = eventsOf(record, 'answered-by');
    const finalVerdict = verdicts.at(-1)?.data;
    const eventSteps = new Set(call.events.filter((e) => e.kind !== 'answer' && e.kind !== 'interruption').map((e) => e.step));

    for (const early of eventsOf(record, 'turn.early-reply')) {
      earlyTurns++;
      if (early.data.used === true) earlyUsed++;
    }

    // Tools run only on committed turns: each tool call names its turn, committed before it ran.
    for (const tool of eventsOf(record, 'tool.call')) {
      const turnId = tool.data.turnId;
      if (turnId === undefined) continue;
      const commit = commits.find((c) => c.data.turnId === turnId);
      if (!commit || commit.at > tool.at) toolsUncommitted++;
    }

    for (const event of call.events) {
      const said = saidAt(callee, event.step);
      const what = said ? said.text || said.play?.replace(/^.*\//, '') || '' : '';
      if (event.kind === 'backchannel' || event.kind === 'non-speech') {
        if (!said || said.startAt === null || said.endAt === null) {
          events.push({ callId: call.id, kind: event.kind, what, note: 'not played' });
          continue;
        }
        if (!said.overlappedBot) {
          notOverBot++;
          events.push({ callId: call.id, kind: event.kind, what, overBot: false });
          continue;
        }
        overlay++;
        const end = said.lastAudibleAt ?? said.endAt;
        const wasCut =
          bargeIns.some((b) => b.at >= said.startAt! - 50 && b.at <= end + 2500) ||
          userTurns.some((t) => t.start >= said.startAt! - 300 && t.start <= end + 300);
        const score: EventScore = { callId: call.id, kind: event.kind, what, overBot: true, cut: wasCut };
        if (wasCut) cut++;
        else {
          // Did the bot go quiet for it? The stretch of bot speech it began in ended before the sound was over
          // (plus a margin), and the bot was heard again before the caller's next line.
          const during = callee.heard.find((h) => h.startAt <= said.startAt! && (h.endAt === null || h.endAt >= said.startAt!));
          const next = callee.said.find((s) => s.startAt !== null && s.startAt > said.endAt!);
          if (during && during.endAt !== null && during.endAt < end + 400) {
            const back = callee.heard.find(
              (h) => h.startAt > (during.endAt as number) && (next?.startAt == null || h.startAt < next.startAt),
            );
            if (back) {
              paused++;
              const resumeMs = back.startAt - end;
              resumes.push(resumeMs);
              if (resumeMs <= 1000) resumedOk++;
              score.pausedResumeMs = Math.round(resumeMs);
            }
          }
        }
        events.push(score);
      } else if (event.kind === 'interruption') {
        if (!said || said.startAt === null) continue;
        realInterruptions++;
        const onset = said.firstAudibleAt ?? said.startAt;
        const end = said.lastAudibleAt ?? said.endAt ?? onset;
        const bargeIn = bargeIns.find((b) => b.at >= onset - 50 && b.at <= end + 2500);
        const clear = outcome.clears.find((c) => c >= onset - 20 && c <= end + 2500);
        const detected = bargeIn !== undefined;
        if (!detected) missed++;
        const clearMs = clear !== undefined ? clear - onset : undefined;
        if (detected && clearMs !== undefined) clearLatencies.push(clearMs);
        events.push({
          callId: call.id,
          kind: 'interruption',
          what,
          detected,
          ...(clearMs !== undefined ? { clearMs: Math.round(clearMs) } : {}),
        });
      } else if (event.kind === 'slow-talker') {
        const cont = event.continuation !== undefined ? saidAt(callee, event.continuation) : undefined;
        if (!said || said.lastAudibleAt == null || !cont || cont.firstAudibleAt == null) {
          events.push({ callId: call.id, kind: 'slow-talker', what, note: 'not played' });
          continue;
        }
        slowEvents++;
        const gapFrom = said.lastAudibleAt;
        const gapTo = cont.firstAudibleAt;
        const spoke = heardStartingIn(callee, gapFrom, gapTo + 150).length > 0;
        const committed = commits.some((c) => c.at > gapFrom && c.at < gapTo);
        const isPremature = spoke || committed;
        if (isPremature) premature++;
        events.push({ callId: call.id, kind: 'slow-talker', what: `${said.text} … ${cont.text}`, premature: isPremature });
      } else if (event.kind === 'keypad') {
        const step = call.persona.steps?.[event.step];
        const pressedAfter = callee.steps.find((s) => s.index === event.step)?.startedAt;
        const press = pressedAfter !== undefined ? callee.pressed.find((p) => p.at >= pressedAfter - 1) : undefined;
        const reply = press ? callee.heard.find((h) => h.startAt > press.at) : undefined;
        const ms = press && reply ? reply.startAt - press.at : undefined;
        if (ms !== undefined) keypad.push(ms);
        events.push({
          callId: call.id,
          kind: 'keypad',
          what: step && 'press' in step ? `press ${step.press}` : '',
          ...(ms !== undefined ? { keypadMs: Math.round(ms) } : {}),
        });
      } else if (event.kind === 'voicemail') {
        machines++;
        const detected = finalVerdict?.answeredBy === 'machine';
        if (detected) machinesDetected++;
        const greetingEnd = said?.lastAudibleAt ?? said?.endAt ?? undefined;
        const beep = event.beepStep !== undefined ? saidAt(callee, event.beepStep) : undefined;
        const mustFollow = beep?.lastAudibleAt ?? beep?.endAt ?? greetingEnd;
        const message = record.turns.find(
          (t) => t.role === 'assistant' && (t.text.includes('If you need to reschedule') || t.text.includes('call us back')),
        );
        const messageStart = message ? Date.parse(message.startedAt) : undefined;
        const greetingStart = said?.startAt ?? 0;
        const leak = heardStartingIn(callee, greetingStart, mustFollow ?? greetingStart).length > 0;
        if (leak) leaks++;
        const ok =
          detected && messageStart !== undefined && mustFollow !== undefined && messageStart >= mustFollow && message?.interrupted !== true;
        if (ok) machinesOk++;
        events.push({
          callId: call.id,
          kind: 'voicemail',
          what: event.beepStep !== undefined ? 'greeting + beep' : 'greeting, no beep',
          answeredBy: String(finalVerdict?.answeredBy ?? 'none'),
          how: String(finalVerdict?.how ?? ''),
          messagePlacedOk: ok,
          ...(messageStart !== undefined && mustFollow !== undefined ? { messageDelayMs: Math.round(messageStart - mustFollow) } : {}),
          ...(leak ? { note: 'bot audio during the greeting' } : {}),
        });
      } else if (event.kind === 'answer') {
        humans++;
        const asMachine = verdicts.some((v) => v.data.answeredBy === 'machine');
        if (asMachine) humansAsMachine++;
        events.push({
          callId: call.id,
          kind: 'answer',
          what,
          answeredBy: String(finalVerdict?.answeredBy ?? 'none'),
          how: String(finalVerdict?.how ?? ''),
        });
      } else {
        events.push({ callId: call.id, kind: event.kind, what });
      }
    }

    // Voice to voice: after each of the caller's turn-ending lines, the caller's last audio → the bot's next audio.
    if (call.category === 'conversation') {
      const steps = call.persona.steps ?? [];
      for (const said of callee.said) {
        if (said.step === undefined || said.lastAudibleAt == null || eventSteps.has(said.step)) continue;
        const following = steps[said.step + 1];
        if (!following || !('waitForBotToFinish' in following || 'waitForBotSpeechMs' in following)) continue;
        const reply = callee.heard.find((h) => h.startAt >= said.lastAudibleAt!);
        if (reply && reply.startAt - said.lastAudibleAt < 10_000) v2v.push(reply.startAt - said.lastAudibleAt);
      }
    }

    // Dead air: the longest stretch with nobody audible while the call was up.
    const spans: Array<[number, number]> = [
      ...callee.said.flatMap((s): Array<[number, number]> =>
        s.startAt !== null ? [[s.firstAudibleAt ?? s.startAt, s.lastAudibleAt ?? s.endAt ?? s.startAt]] : [],
      ),
      ...callee.heard.map((h): [number, number] => [h.startAt, h.endAt ?? h.startAt]),
      ...callee.pressed.map((p): [number, number] => [p.at, p.at]),
    ].sort((a, b) => a[0] - b[0]);
    let cursor = callee.connectedAt ?? spans[0]?.[0] ?? 0;
    let longest = 0;
    for (const [from, to] of spans) {
      longest = Math.max(longest, from - cursor);
      cursor = Math.max(cursor, to);
    }
    if (callee.endedAt !== null) longest = Math.max(longest, callee.endedAt - cursor);
    if (longest > DEAD_AIR_MS) deadAir++;
  }

  const round = (x: number) => (Number.isFinite(x) ? Math.round(x) : x);
  return {
    falseInterruptionPct: pct(cut, overlay),
    resumedPct: pct(resumedOk, paused),
    missedInterruptions: missed,
    prematureReplies: premature,
    toolsOnUncommittedTurns: toolsUncommitted,
    voicemailRecallPct: pct(machinesOk, machines),
    humanAsMachinePct: humans === 0 ? 0 : pct(humansAsMachine, humans),
    deadAirCalls: deadAir,
    voiceToVoiceMs: { p50: round(percentile(v2v, 50)), p95: round(percentile(v2v, 95)) },
    detail: {
      calls: outcomes.length,
      failedCalls: failed,
      events: events.length,
      overlayEvents: overlay,
      overlayEventsNotOverBot: notOverBot,
      pausedEvents: paused,
      resumeMs: { p50: round(percentile(resumes, 50)), p95: round(percentile(resumes, 95)), max: round(maxOf(resumes)) },
      realInterruptions,
      clearAfterOnsetMs: {
        p50: round(percentile(clearLatencies, 50)),
        p95: round(percentile(clearLatencies, 95)),
        max: round(maxOf(clearLatencies)),
      },
      slowTalkerEvents: slowEvents,
      machines,
      machinesDetected,
      greetingLeaks: leaks,
      humans,
      keypadMs: { p50: round(percentile(keypad, 50)), max: round(maxOf(keypad)) },
      voiceToVoiceSamples: v2v.length,
      earlyRepliesUsedPct: pct(earlyUsed, earlyTurns),
    },
    events,
  };
}
