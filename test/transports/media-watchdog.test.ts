/**
 * Issue 10, defect 4 (unit part): a media stream whose peer vanished (half-open TCP: no FIN, no data) or whose
 * inbound audio stopped is ended as lost, on a `ManualClock` (no wall-clock waits).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { detectMediaStream } from '../../src/transports/detect-media-stream.ts';
import type { ChannelCloseInfo, MediaChannelHandler } from '../../src/transports/media-channel.ts';
import { WebSocketMediaChannel, type MediaWatchdogOptions } from '../../src/transports/websocket-media-channel.ts';
import { builtinCarriers } from '../../src/telephony/registry.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { openWsPair, waitFor, type WsPair } from '../telephony/ws-pair.ts';

const PROTOCOLS = builtinCarriers.flatMap((carrier) => (carrier.mediaStream ? [carrier.mediaStream] : []));
const START = JSON.stringify({
  event: 'start',
  start: {
    streamSid: 'MZ1',
    callSid: 'CA1',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
});
const MEDIA = JSON.stringify({
  event: 'media',
  media: { track: 'inbound', chunk: '1', timestamp: '0', payload: Buffer.alloc(160, 0xff).toString('base64') },
});

let pair: WsPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function channel(options: MediaWatchdogOptions): Promise<{ channel: WebSocketMediaChannel; closes: ChannelCloseInfo[] }> {
  pair = await openWsPair();
  const detection = detectMediaStream(pair.server, PROTOCOLS);
  pair.carrier.send(START);
  const media = new WebSocketMediaChannel(pair.server, await detection, options);
  const closes: ChannelCloseInfo[] = [];
  const handler: MediaChannelHandler = { audio: () => {}, mark: () => {}, dtmf: () => {}, closed: (info) => closes.push(info) };
  media.setHandler(handler);
  return { channel: media, closes };
}

/** Sends one media frame and waits until the channel counted it. */
async function sendMedia(media: WebSocketMediaChannel): Promise<void> {
  const before = media.inboundStats().frames;
  pair!.carrier.send(MEDIA);
  await waitFor(() => media.inboundStats().frames > before);
}

describe('inbound-media watchdog', () => {
  it('no inbound audio for the limit: the channel closes as an error, "media lost", and the socket is dropped', async () => {
    const clock = new ManualClock();
    const { channel: media, closes } = await channel({ clock, inboundTimeoutMs: 10_000, pingIntervalMs: 0 });
    await sendMedia(media);
    clock.advance(9_000);
    expect(closes).toHaveLength(0);
    await sendMedia(media); // audio resets the watchdog
    clock.advance(9_000);
    expect(closes).toHaveLength(0);
    // Checked every quarter of the limit: noticed by 2.5 s past it at the latest.
    clock.advance(2_500);
    expect(closes).toEqual([{ by: 'error', reason: 'media lost: no inbound audio for 10 s' }]);
    expect(media.failure).toBe('media lost: no inbound audio for 10 s');
    await waitFor(() => pair!.carrier.readyState === pair!.carrier.CLOSED);
    expect(clock.pendingTimers).toBe(0);
  });

  it('0 turns it off', async () => {
    const clock = new ManualClock();
    const { closes } = await channel({ clock, inboundTimeoutMs: 0, pingIntervalMs: 0 });
    clock.advance(600_000);
    expect(closes).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('pings', () => {
  it('a peer that answers pings stays; one that does not is lost after one ping period', async () => {
    const clock = new ManualClock();
    const { channel: media, closes } = await channel({ clock, inboundTimeoutMs: 0, pingIntervalMs: 5_000 });
    let pings = 0;
    pair!.carrier.on('ping', () => pings++);
    let pongs = 0;
    pair!.server.on('pong', () => pongs++);
    // The carrier's ws client answers pings by itself: wait for each pong before time moves on.
    for (let i = 1; i <= 3; i++) {
      clock.advance(5_000);
      await waitFor(() => pongs === i);
    }
    expect(pings).toBe(3);
    expect(closes).toHaveLength(0);
    // A half-open peer: the next ping gets no answer before the one after it is due.
    clock.advance(5_000);
    clock.advance(5_000);
    expect(closes).toEqual([{ by: 'error', reason: 'media lost: no answer to a ping within 5 s' }]);
    expect(media.failure).toMatch(/media lost/);
  });
});
