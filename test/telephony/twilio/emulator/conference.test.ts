/** The emulator's conference rooms: hold audio while waiting, the bridge once started, how a conference ends. */
import { describe, expect, it } from 'vitest';
import { MULAW_SILENCE, mulawDecode, mulawEncode } from '../../../../src/audio/g711.ts';
import { twilioConferenceTwiml } from '../../../../src/telephony/twilio/answer-markup.ts';
import { ConferenceRooms, type ConferenceSpec } from '../../../../src/telephony/twilio/emulator/conference.ts';
import { AudioLoop, defaultHoldMusic } from '../../../../src/telephony/twilio/emulator/hold-music.ts';
import { parseTwiml } from '../../../../src/telephony/twilio/emulator/twiml.ts';

const spec = (over: Partial<ConferenceSpec> = {}): ConferenceSpec => ({
  name: 'room-1',
  startConferenceOnEnter: true,
  endConferenceOnExit: false,
  waitUrl: null,
  waitMethod: 'POST',
  ...over,
});

function rms(frame: Uint8Array): number {
  const pcm = mulawDecode(frame);
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / pcm.length);
}

function tone(level: number): Uint8Array {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(level * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return mulawEncode(pcm);
}

const hold = () => new AudioLoop(defaultHoldMusic());

describe('conference rooms', () => {
  it('plays hold audio to a participant who did not start the conference, then bridges when one who starts it joins', () => {
    const rooms = new ConferenceRooms();
    const caller = rooms.room('room-1').join('CA1', spec({ startConferenceOnEnter: false, endConferenceOnExit: true }), hold());
    expect(rooms.find('room-1')?.startedAt).toBeNull();
    let t = 0;
    for (; t < 1000; t += 20) {
      caller.hear(tone(8000), t); // the caller talks on hold: nobody hears it
      expect(rms(caller.nextFrame(t))).toBeGreaterThan(300); // hold music, never a silent frame
    }
    expect(caller.record.holdMs).toBe(1000);

    const person = rooms.room('room-1').join('CA2', spec(), hold());
    expect(rooms.find('room-1')?.startedAt).not.toBeNull();
    // From the start each hears the other (at most one frame late), and no hold audio any more.
    caller.hear(tone(8000), t);
    const heardByPerson = person.nextFrame(t);
    expect(rms(heardByPerson)).toBeGreaterThan(4000);
    person.hear(new Uint8Array(160).fill(MULAW_SILENCE), t);
    expect(rms(caller.nextFrame(t))).toBeLessThan(10);
    person.hear(tone(4000), t + 20);
    expect(rms(caller.nextFrame(t + 20))).toBeGreaterThan(2000);
    expect(caller.record.holdMs).toBe(1000);
    // A participant whose audio stopped coming is silence, not a repeated frame.
    expect(rms(caller.nextFrame(t + 200))).toBeLessThan(10);
  });

  it('mixes everyone but the listener', () => {
    const rooms = new ConferenceRooms();
    const room = rooms.room('mix');
    const a = room.join('A', spec(), null);
    const b = room.join('B', spec(), null);
    const c = room.join('C', spec(), null);
    a.hear(tone(4000), 0);
    b.hear(tone(4000), 0);
    c.hear(new Uint8Array(160).fill(MULAW_SILENCE), 0);
    expect(rms(c.nextFrame(0))).toBeGreaterThan(rms(a.nextFrame(0)) * 1.8); // C hears A+B, A hears only B
  });

  it('ends when an endConferenceOnExit participant leaves; everyone is let go', async () => {
    const rooms = new ConferenceRooms();
    const caller = rooms.room('r').join('CA1', spec({ startConferenceOnEnter: false, endConferenceOnExit: true }), hold());
    const person = rooms.room('r').join('CA2', spec({ endConferenceOnExit: false }), null);
    caller.leave('hung-up');
    expect(await person.done).toBe('conference-ended');
    expect(rooms.find('r')).toMatchObject({ endReason: 'participant-with-end-conference-on-exit-left' });
    // The name is free again: a new join makes a new conference.
    const first = rooms.find('r')!;
    const again = rooms.room('r');
    expect(again.record.sid).not.toBe(first.sid);
    expect(again.ended).toBe(false);
    expect(rooms.history.filter((c) => c.name === 'r')).toHaveLength(2);
  });

  it('ends when the last participant leaves; waitUrl="" waits in silence', async () => {
    const rooms = new ConferenceRooms();
    const quiet = rooms.room('q').join('CA1', spec({ startConferenceOnEnter: false, waitUrl: '' }), null);
    expect(rms(quiet.nextFrame(0))).toBeLessThan(10);
    expect(quiet.record.holdMs).toBe(0);
    quiet.leave('redirected');
    expect(await quiet.done).toBe('redirected');
    expect(rooms.find('q')).toMatchObject({ endReason: 'last-participant-left' });
  });

  it("parses the TwiML our warm transfer sends (Twilio's defaults where an attribute is absent)", () => {
    const [hold] = parseTwiml(twilioConferenceTwiml('switchboard-call_1', { startConferenceOnEnter: false, endConferenceOnExit: true }));
    expect(hold).toMatchObject({
      verb: 'Dial',
      kind: 'conference',
      conference: { name: 'switchboard-call_1', startConferenceOnEnter: false, endConferenceOnExit: true, waitUrl: null },
    });
    const [custom] = parseTwiml(
      twilioConferenceTwiml('r', { startConferenceOnEnter: true, endConferenceOnExit: true, waitUrl: 'https://example.com/hold.wav' }),
    );
    expect(custom).toMatchObject({ conference: { startConferenceOnEnter: true, waitUrl: 'https://example.com/hold.wav' } });
    const [bare] = parseTwiml('<Response><Dial><Conference>plain</Conference></Dial></Response>');
    expect(bare).toMatchObject({ conference: { name: 'plain', startConferenceOnEnter: true, endConferenceOnExit: false, waitUrl: null } });
  });
});
