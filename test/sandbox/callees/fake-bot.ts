/**
 * A stand-in for the voice agent on the far end of a media stream, for persona tests: after the callee has
 * spoken (or pressed a key) and gone quiet for `replyAfterSilenceMs`, it "speaks" its next turn — a tone of
 * the turn's length — followed by a mark. Works on Twilio and Plivo streams.
 */
import { mulawDecode, mulawEncode } from '../../../src/audio/g711.ts';
import type { MediaConnection } from '../carriers/fake-agent-server.ts';

export interface FakeBotOptions {
  carrier: 'twilio' | 'plivo';
  /** Stream id for outgoing messages (Twilio streamSid / Plivo streamId). */
  streamId: string;
  /** Tone length of each reply, in order. */
  replies: number[];
  /** @default 400 */
  replyAfterSilenceMs?: number;
}

export interface FakeBot {
  /** performance.now() when each reply was sent. */
  repliedAt: number[];
  /** performance.now() of every inbound frame with speech. */
  speechFrames: number[];
  /** Sends a clear / clearAudio now. */
  clear(): void;
  stop(): void;
}

export function tone(ms: number, hz = 350, amplitude = 9000): Uint8Array {
  const pcm = new Int16Array(ms * 8);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * hz * i) / 8000) * amplitude);
  return mulawEncode(pcm);
}

function loud(payload: string): boolean {
  const pcm = mulawDecode(new Uint8Array(Buffer.from(payload, 'base64')));
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return pcm.length > 0 && Math.sqrt(sum / pcm.length) > 200;
}

export function startFakeBot(conn: MediaConnection, options: FakeBotOptions): FakeBot {
  const replyAfter = options.replyAfterSilenceMs ?? 400;
  const bot: FakeBot = {
    repliedAt: [],
    speechFrames: [],
    clear: () =>
      conn.send(
        options.carrier === 'twilio'
          ? { event: 'clear', streamSid: options.streamId }
          : { event: 'clearAudio', streamId: options.streamId },
      ),
    stop: () => clearInterval(timer),
  };
  let seen = 0;
  let turnPending = false; // the callee has said/pressed something since our last reply
  let lastInput = 0;
  const timer = setInterval(() => {
    for (; seen < conn.messages.length; seen++) {
      const { at, message } = conn.messages[seen] as { at: number; message: Record<string, unknown> };
      if (message.event === 'media' && loud((message.media as { payload: string }).payload)) {
        bot.speechFrames.push(at);
        turnPending = true;
        lastInput = at;
      } else if (message.event === 'dtmf') {
        turnPending = true;
        lastInput = at;
      }
    }
    const next = options.replies[bot.repliedAt.length];
    if (!turnPending || next === undefined || performance.now() - lastInput < replyAfter) return;
    turnPending = false;
    bot.repliedAt.push(performance.now());
    const payload = Buffer.from(tone(next)).toString('base64');
    const name = `reply-${bot.repliedAt.length}`;
    if (options.carrier === 'twilio') {
      conn.send({ event: 'media', streamSid: options.streamId, media: { payload } });
      conn.send({ event: 'mark', streamSid: options.streamId, mark: { name } });
    } else {
      conn.send({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload } });
      conn.send({ event: 'checkpoint', streamId: options.streamId, name });
    }
  }, 10);
  return bot;
}
