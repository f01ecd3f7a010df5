import { describe, expect, it } from 'vitest';
import '../../src/agent/frames.ts';
import type { TurnDetector } from '../../src/agent/turn-detector.ts';
import type { UserTurn, UserTurnOptions } from '../../src/agent/user-turn-processor.ts';
import { UserTurnProcessor } from '../../src/agent/user-turn-processor.ts';
import type { Frame, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor, PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { mulawEncode } from '../../src/audio/g711.ts';

/** 20 ms of a 440 Hz tone at `dbfs` (RMS), as a carrier delivers caller audio. */
function tone(dbfs: number): Frame {
  const amplitude = 32768 * 10 ** (dbfs / 20) * Math.SQRT2;
  const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(Math.sin((2 * Math.PI * 440 * i) / 8000) * amplitude));
  return makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, mulaw: mulawEncode(pcm) } });
}

function setup(options: UserTurnOptions = {}) {
  const clock = new ManualClock();
  const context = new LlmContext({ system: 'test' });
  const turns: UserTurn[] = [];
  const events: Array<[string, Record<string, unknown>]> = [];
  const up: Frame[] = [];
  const down: Frame[] = [];
  class UpTap extends FrameProcessor {
    protected override processFrame(frame: Frame, direction: 'downstream' | 'upstream'): void {
      if (direction === 'upstream') up.push(frame);
      this.pushFrame(frame, direction);
    }
    protected override onInterruption(frame: Frame, direction: 'downstream' | 'upstream'): void {
      if (direction === 'upstream') up.push(frame);
    }
  }
  const processor = new UserTurnProcessor(context, options, {
    onUserTurn: (t) => turns.push(t),
    onFalseInterruption: (i) => events.push(['false-interruption', i]),
    onBargeIn: (i) => events.push(['barge-in', i]),
    onEarlyReplyDiscarded: (i) => events.push(['early-reply.discarded', i]),
    onEmptyTurn: (i) => events.push(['turn.empty', i]),
  });
  const task = new PipelineTask([new UpTap('tap'), processor], { callId: 'turns', clock, onOutput: (f) => down.push(f) });
  void task.run();
  const at = () => clock.now();
  const vad = (type: 'vad.speech.started' | 'vad.speech.paused' | 'vad.speech.resumed' | 'vad.speech.stopped', atMs = at()) =>
    task.queueFrame(makeFrame(type, { atSec: atMs / 1000, atMs }));
  return {
    clock,
    context,
    turns,
    events,
    up,
    down,
    task,
    processor,
    advance: (ms: number) => clock.advance(ms),
    start: (atMs?: number) => vad('vad.speech.started', atMs),
    pause: (atMs?: number) => vad('vad.speech.paused', atMs),
    resume: (atMs?: number) => vad('vad.speech.resumed', atMs),
    stop: (atMs?: number) => vad('vad.speech.stopped', atMs),
    final: (text: string, speechFinal = true) => task.queueFrame(makeFrame('transcription', { text, final: true, speechFinal })),
    interim: (text: string) => task.queueFrame(makeFrame('transcription', { text, final: false })),
    // Bot speech state comes up from the output transport.
    botStarted: (id = 'u') => processor.queueFrame(makeFrame('bot.speech.started', { utteranceId: id }), 'upstream'),
    botStopped: (id = 'u', interrupted = false) =>
      processor.queueFrame(makeFrame('bot.speech.stopped', { utteranceId: id, interrupted }), 'upstream'),
    digit: (d: string) => task.queueFrame(makeFrame('dtmf.in', { digit: d })),
  };
}

const of = <K extends Frame['type']>(frames: Frame[], type: K): Array<FrameOf<K>> =>
  frames.filter((f) => f.type === type) as Array<FrameOf<K>>;
const holds = (frames: Frame[]) =>
  frames.flatMap((f) => (f.type === 'output.pause' ? [`+${f.reason}`] : f.type === 'output.resume' ? [`-${f.reason}`] : []));

describe('UserTurnProcessor: the end of a turn', () => {
  it('asks STT to finalise once the caller pauses, starts the reply early, and commits after a short pause for a finished answer', () => {
    const s = setup();
    s.start();
    s.interim('yes i');
    s.advance(900);
    s.final("Yes, I'll be there.");
    const pausedAt = s.clock.now();
    s.pause(pausedAt);
    s.advance(119);
    expect(of(s.up, 'user.speech.stopped')).toHaveLength(0); // a gap between words, so far
    s.advance(1);
    expect(of(s.up, 'user.speech.stopped')).toEqual([expect.objectContaining({ atMs: pausedAt })]); // STT finalises
    // The reply starts at once, held at the output, its turn not committed yet.
    expect(of(s.down, 'llm.run')).toEqual([expect.objectContaining({ speculative: true, turnId: 1 })]);
    expect(holds(s.down)).toEqual(['+early-reply']);
    expect(s.context.messages).toEqual([{ role: 'user', content: "Yes, I'll be there." }]);
    expect(of(s.down, 'turn.committed')).toHaveLength(0);
    s.advance(379); // 499 ms of silence
    expect(of(s.down, 'turn.committed')).toHaveLength(0);
    s.advance(1); // 500 ms: a finished answer needs no more
    expect(of(s.down, 'turn.committed')).toEqual([expect.objectContaining({ turnId: 1, early: true })]);
    expect(holds(s.down)).toEqual(['+early-reply', '-early-reply']);
    expect(of(s.down, 'llm.run')).toHaveLength(1); // the early reply is the reply
    // The turn is on record once its reply is heard.
    s.botStarted('r1');
    expect(s.turns).toEqual([expect.objectContaining({ text: "Yes, I'll be there.", source: 'speech', earlyReply: 'used' })]);
    s.task.cancel();
  });

  it('waits for an unfinished sentence, and a caller who goes on keeps one turn; the early reply is dropped', () => {
    const s = setup();
    s.start();
    s.advance(1500);
    s.final("Hmm, I'd like to move it to");
    s.pause();
    s.advance(200);
    expect(of(s.down, 'llm.run')).toHaveLength(0); // unfinished: the reply waits until shortly before the turn would end
    s.advance(900); // 1.1 s of silence: 0.9 s before the 2 s wait runs out, the reply starts, held
    expect(of(s.down, 'llm.run')).toEqual([expect.objectContaining({ speculative: true })]);
    s.advance(400); // 1.5 s of silence: an unfinished sentence waits longer
    expect(of(s.down, 'turn.committed')).toHaveLength(0);
    s.stop(s.clock.now() - 700); // VAD's own stop (stopSecs) changes nothing
    s.start(); // "Thursday afternoon."
    // The reply to the fragment is dropped, with everything it added to the context.
    expect(of(s.up, 'interruption')).toHaveLength(1);
    expect(s.context.messages).toEqual([]);
    expect(s.events).toEqual([['early-reply.discarded', { text: "Hmm, I'd like to move it to" }]]);
    expect(holds(s.down)).toEqual(['+early-reply', '-early-reply']);
    s.advance(900);
    s.final('Thursday afternoon.');
    s.pause();
    s.advance(620);
    expect(of(s.down, 'turn.committed')).toEqual([expect.objectContaining({ text: "Hmm, I'd like to move it to Thursday afternoon." })]);
    expect(s.context.messages).toEqual([{ role: 'user', content: "Hmm, I'd like to move it to Thursday afternoon." }]);
    s.botStarted();
    expect(s.turns.map((t) => t.text)).toEqual(["Hmm, I'd like to move it to Thursday afternoon."]);
    s.task.cancel();
  });

  it('starts the reply as soon as the caller pauses after a finished sentence, before STT has finalised', () => {
    const s = setup();
    s.start();
    s.advance(800);
    s.interim("Yes, I'll be there.");
    s.pause();
    expect(of(s.down, 'llm.run')).toEqual([expect.objectContaining({ speculative: true })]); // on the interim words
    s.advance(150);
    s.final("Yes, I'll be there."); // the same words: the reply under way is kept
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    s.advance(400);
    expect(of(s.down, 'turn.committed')).toEqual([expect.objectContaining({ early: true })]);
    s.task.cancel();
  });

  it('sound in the closing pause (the caller going on, before VAD can tell) holds the commit', () => {
    const s = setup();
    const loud = new Uint8Array(160).map((_, i) => (i % 2 === 0 ? 0x10 : 0x90)); // about -12 dBFS
    s.start();
    s.final('Yes.');
    s.pause();
    s.advance(450);
    s.task.queueFrame(makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, mulaw: loud } }));
    s.advance(20);
    s.task.queueFrame(makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, mulaw: loud } }));
    s.advance(50); // the 500 ms wait is over, but sound came back
    expect(of(s.down, 'turn.committed')).toHaveLength(0);
    s.advance(400); // no speech followed (a knock): the turn ends after the hold
    expect(of(s.down, 'turn.committed')).toHaveLength(1);
    s.task.cancel();
  });

  it('an unfinished sentence still ends after the longest wait', () => {
    const s = setup({ endpointing: { maxSilenceSecs: 2 } });
    s.start();
    s.final('I can make it on');
    s.pause();
    s.advance(1999);
    expect(of(s.down, 'turn.committed')).toHaveLength(0);
    s.advance(1);
    expect(of(s.down, 'turn.committed')).toHaveLength(1);
    s.task.cancel();
  });

  it('waits for STT to finalise words still pending at the pause, and uses the interim words if the final never comes', () => {
    const s = setup({ finalTranscriptTimeoutSecs: 1 });
    s.start();
    s.interim('no that is');
    s.pause();
    s.advance(300);
    expect(of(s.down, 'llm.run')).toHaveLength(0); // no final words yet
    s.final("No, that's all.");
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    s.advance(300);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: "No, that's all." });

    const t = setup({ finalTranscriptTimeoutSecs: 1 });
    t.start();
    t.interim('hello');
    t.pause();
    t.advance(1119);
    expect(of(t.down, 'llm.run')).toHaveLength(0);
    t.advance(1);
    t.advance(100);
    expect(t.context.messages.at(-1)).toEqual({ role: 'user', content: 'hello' });
    s.task.cancel();
    t.task.cancel();
  });

  it('uses a plugged-in turn detector (a model) through the same interface, also when it answers asynchronously', async () => {
    const asked: string[] = [];
    const detector: TurnDetector = {
      endOfTurnProbability: ({ transcript }) => {
        asked.push(transcript);
        return Promise.resolve(0.0);
      },
    };
    const s = setup({ endpointing: { detector, minSilenceSecs: 0.2, maxSilenceSecs: 3 } });
    s.start();
    s.final('Yes.');
    s.pause();
    s.advance(120);
    await Promise.resolve();
    s.advance(2000);
    expect(of(s.down, 'turn.committed')).toHaveLength(0); // the model says unfinished: 3 s
    s.advance(900);
    expect(of(s.down, 'turn.committed')).toHaveLength(1);
    expect(new Set(asked)).toEqual(new Set(['Yes.']));
    s.task.cancel();
  });

  it('a caller who goes on after the commit but before hearing the reply continues the same turn', () => {
    const s = setup({ earlyReplies: false });
    s.start();
    s.final('Yes.');
    s.pause();
    s.advance(700);
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    s.start(); // before any of the reply was heard
    expect(of(s.up, 'interruption')).toHaveLength(1);
    s.final("I'll be there.");
    s.pause();
    s.advance(700);
    expect(s.context.messages).toEqual([{ role: 'user', content: "Yes. I'll be there." }]);
    s.botStarted();
    expect(s.turns.map((t) => t.text)).toEqual(["Yes. I'll be there."]);
    s.task.cancel();
  });

  it('makes a turn of words STT heard that VAD missed, and ignores a late VAD report of speech already answered', () => {
    const s = setup();
    const spokeAt = s.clock.now() - 400;
    s.final('Hello?');
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    expect(s.context.messages).toEqual([{ role: 'user', content: 'Hello?' }]);
    s.start(spokeAt);
    s.stop(spokeAt + 300);
    expect(of(s.up, 'interruption')).toHaveLength(0);
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    s.task.cancel();
  });
});

describe('UserTurnProcessor: speech over the bot', () => {
  it('pauses playback at the onset and gives the turn to two words that are not backchannels', () => {
    const s = setup();
    s.botStarted();
    const onset = s.clock.now();
    s.start(onset);
    expect(holds(s.down)).toEqual(['+caller-speech']); // paused at once, nothing dropped
    expect(of(s.down, 'interruption')).toHaveLength(0);
    s.advance(400);
    s.interim('yes i');
    s.advance(200);
    s.interim("yes i'll be");
    expect(of(s.down, 'interruption')).toHaveLength(1); // "i'll be": two words that take the turn
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
    expect(s.events[0]).toEqual(['barge-in', expect.objectContaining({ onsetMs: onset, reason: 'words', words: "yes i'll be" })]);
    s.final("Yes, I'll be there.");
    s.pause();
    s.advance(700);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: "Yes, I'll be there." });
    s.task.cancel();
  });

  it('a turn-taking word ("Sorry, …", "Wait") takes the turn on its own', () => {
    const s = setup();
    s.botStarted();
    s.start();
    s.advance(350);
    s.interim('Sorry,');
    expect(of(s.down, 'interruption')).toHaveLength(1);
    s.task.cancel();
  });

  for (const [words, voicedMs] of [
    ['Mm-hmm.', 400],
    ['Okay.', 350],
    ['Uh-huh, sure.', 700],
    ['Yeah yeah okay.', 1200],
    ['Mm-hmm, go on.', 900],
  ] as const) {
    it(`"${words}" over the bot is a backchannel: playback resumes where it paused, nothing is added`, () => {
      const s = setup();
      s.botStarted('greeting');
      s.start();
      s.advance(voicedMs);
      s.interim(words);
      s.pause();
      s.advance(300);
      s.final(words); // STT's endpoint
      s.advance(99);
      expect(holds(s.down)).toEqual(['+caller-speech']);
      s.advance(1); // 400 ms of quiet
      expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
      expect(of(s.down, 'interruption')).toHaveLength(0);
      expect(of(s.up, 'interruption')).toHaveLength(0);
      expect(of(s.down, 'llm.run')).toHaveLength(0);
      expect(s.context.messages).toEqual([]);
      expect(s.events).toEqual([
        ['false-interruption', expect.objectContaining({ kind: 'backchannel', text: words, utteranceId: 'greeting' })],
      ]);
      s.stop(); // VAD's own stop, later
      s.botStopped('greeting');
      s.advance(2000);
      expect(s.turns).toEqual([]);
      s.task.cancel();
    });
  }

  it('a sound with no words (a laugh, a cough, a TV) resumes the bot after the quiet', () => {
    const s = setup();
    s.botStarted();
    s.start();
    s.advance(800);
    s.pause();
    s.advance(500);
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
    expect(s.events).toEqual([['false-interruption', expect.objectContaining({ kind: 'no-words', text: '' })]]);
    expect(of(s.down, 'interruption')).toHaveLength(0);
    s.task.cancel();
  });

  it('words of the same sound that arrive after the resume can still take the turn (slow STT)', () => {
    const s = setup();
    s.botStarted();
    s.start();
    s.advance(1200);
    s.pause();
    s.advance(500); // resumed: no words yet
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
    s.advance(200);
    s.final('Actually I need to change it.');
    expect(of(s.down, 'interruption')).toHaveLength(1);
    expect(s.events.at(-1)).toEqual(['barge-in', expect.objectContaining({ reason: 'late-words' })]);
    s.advance(700);
    expect(s.context.messages).toEqual([{ role: 'user', content: 'Actually I need to change it.' }]);
    s.task.cancel();
  });

  it('voiced time past the ceiling takes the turn without words; if none come, the turn ends empty', () => {
    const s = setup({ interruption: { maxVoicedSecs: 3 } });
    s.botStarted();
    s.start();
    s.advance(2999);
    expect(of(s.down, 'interruption')).toHaveLength(0);
    s.advance(1);
    expect(of(s.down, 'interruption')).toHaveLength(1);
    expect(s.events[0]).toEqual(['barge-in', expect.objectContaining({ reason: 'voiced-time' })]);
    s.botStopped('u', true);
    s.advance(500);
    s.pause();
    s.advance(2500);
    expect(of(s.down, 'turn.empty')).toHaveLength(1); // the conversation re-arms its idle prompt on this
    expect(of(s.down, 'llm.run')).toHaveLength(0);
    s.task.cancel();
  });

  it('a laugh in bursts keeps the bot paused through its short gaps and resumes it once, after the last burst', () => {
    const s = setup();
    s.botStarted();
    s.start();
    for (let i = 0; i < 4; i++) {
      s.advance(300);
      s.pause();
      s.advance(300); // shorter than the 400 ms of quiet that resumes the bot
      if (i < 3) s.resume();
    }
    expect(holds(s.down)).toEqual(['+caller-speech']);
    s.advance(200);
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
    expect(of(s.down, 'interruption')).toHaveLength(0); // 1.2 s voiced: under the 3 s ceiling
    expect(s.events).toEqual([['false-interruption', expect.objectContaining({ kind: 'no-words' })]]);
    s.task.cancel();
  });

  it('a short sound already over when VAD reports it resumes the bot 400 ms after it ended (by its level)', () => {
    const s = setup();
    s.botStarted();
    const onset = s.clock.now();
    for (let t = 0; t < 300; t += 20) {
      s.task.queueFrame(tone(-30)); // a cough
      s.advance(20);
    }
    for (let t = 0; t < 60; t += 20) {
      s.task.queueFrame(tone(-70));
      s.advance(20);
    }
    s.start(onset); // VAD's start decision, late: the cough is over
    expect(holds(s.down)).toEqual(['+caller-speech']);
    for (let t = 0; t < 360; t += 20) {
      s.task.queueFrame(tone(-70));
      s.advance(20);
    }
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']); // 400 ms after the sound, no VAD stop needed
    expect(s.events).toEqual([['false-interruption', expect.objectContaining({ kind: 'no-words' })]]);
    s.task.cancel();
  });

  it("sound well below the caller's own level (a TV across the room) cannot take the turn by voiced time", () => {
    for (const [level, interrupts] of [
      [-36, false],
      [-22, true],
    ] as const) {
      const s = setup();
      // The caller's own turn at -20 dBFS teaches their level.
      s.start();
      for (let t = 0; t < 800; t += 20) {
        s.task.queueFrame(tone(-20));
        s.advance(20);
      }
      s.final('Hello?');
      s.pause();
      s.advance(600);
      expect(of(s.down, 'turn.committed')).toHaveLength(1);
      s.botStarted();
      s.start();
      for (let t = 0; t < 3500; t += 20) {
        s.task.queueFrame(tone(level));
        s.advance(20);
      }
      expect(of(s.down, 'interruption').length > 0).toBe(interrupts);
      s.task.cancel();
    }
  });

  it('the bot finishing while the caller talks makes it their turn, with no interruption', () => {
    const s = setup();
    s.botStarted();
    s.start();
    s.advance(200);
    s.botStopped();
    expect(of(s.down, 'interruption')).toHaveLength(0);
    expect(holds(s.down)).toEqual(['+caller-speech', '-caller-speech']);
    s.final('Can you repeat that?');
    s.pause();
    s.advance(700);
    expect(s.context.messages).toEqual([{ role: 'user', content: 'Can you repeat that?' }]);
    s.task.cancel();
  });

  it('ignores speech over the bot when barge-in is off', () => {
    const s = setup({ bargeIn: false });
    s.botStarted();
    s.start();
    s.advance(20);
    s.final('Stop talking.');
    s.stop();
    expect(holds(s.down)).toEqual([]);
    expect(of(s.down, 'interruption')).toHaveLength(0);
    expect(of(s.down, 'llm.run')).toHaveLength(0);
    s.task.cancel();
  });

  it('on an answering machine nothing the far end says is a turn or pauses the bot', () => {
    const s = setup();
    s.task.queueFrame(makeFrame('call.answered-by', { answeredBy: 'machine', how: 'transcript', atMs: s.clock.now() }));
    s.botStarted();
    s.start();
    s.final('Please leave a message after the tone.');
    s.stop();
    s.advance(3000);
    expect(holds(s.down)).toEqual([]);
    expect(of(s.down, 'llm.run')).toHaveLength(0);
    s.task.cancel();
  });
});

describe('UserTurnProcessor: keypad', () => {
  it('commits an answer of the expected length the moment its last key arrives', () => {
    const s = setup({ keypad: { maxDigits: 1 } });
    s.botStarted();
    s.digit('1');
    expect(of(s.down, 'interruption')).toHaveLength(1); // a key interrupts the bot
    expect(s.context.messages).toEqual([{ role: 'user', content: 'DTMF: 1' }]);
    expect(of(s.down, 'llm.run')).toHaveLength(1);
    s.botStarted('r1');
    expect(s.turns.map((t) => [t.text, t.source])).toEqual([['DTMF: 1', 'dtmf']]);
    s.task.cancel();
  });

  it('gathers digits until the terminator or the timeout; a question can set its own expectation', () => {
    const s = setup({ keypad: { timeoutSecs: 1.5 } });
    s.digit('1');
    s.digit('2');
    s.advance(1499);
    expect(of(s.down, 'llm.run')).toHaveLength(0);
    s.advance(1);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'DTMF: 12' });
    s.digit('3');
    s.digit('#');
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'DTMF: 12 DTMF: 3' }); // reply unheard: same turn
    s.botStarted();
    // "Enter your 4-digit PIN": committed on the 4th key, no terminator needed.
    s.task.queueFrame(makeFrame('keypad.expect', { maxDigits: 4 }));
    for (const d of '2468') s.digit(d);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'DTMF: 2468' });
    s.task.cancel();
  });
});
