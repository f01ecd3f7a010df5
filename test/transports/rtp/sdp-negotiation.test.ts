import { describe, expect, it } from 'vitest';
import { answerOffer, createOffer, readAnswer, SdpNegotiationError } from '../../../src/transports/rtp/sdp-negotiation.ts';

const local = { address: '192.0.2.10', port: 40000, codecs: ['PCMU', 'PCMA'], sessionId: 7, sessionVersion: 1 };

function offer(media: string, extra = '', connection = '198.51.100.5'): string {
  return (
    ['v=0', 'o=- 1 1 IN IP4 198.51.100.5', 's=-', `c=IN IP4 ${connection}`, 't=0 0', media, extra].filter(Boolean).join('\r\n') + '\r\n'
  );
}

describe('SDP offer/answer', () => {
  it('answers with the first offered codec we support, keeping the offerer’s payload types', () => {
    const { sdp, media } = answerOffer(offer('m=audio 5004 RTP/AVP 8 0 96', 'a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16'), local);
    expect(media).toMatchObject({
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPayloadType: 96,
      remoteAddress: '198.51.100.5',
      remotePort: 5004,
      direction: 'sendrecv',
    });
    expect(sdp).toMatch(/m=audio 40000 RTP\/AVP 8 96\r\n/);
    expect(sdp).toContain('a=rtpmap:96 telephone-event/8000');
    expect(sdp).toContain('c=IN IP4 192.0.2.10');
    expect(sdp).toContain('o=- 7 1 IN IP4 192.0.2.10');
  });

  it('accepts telephone-event only at the chosen codec’s clock rate', () => {
    const { media, sdp } = answerOffer(offer('m=audio 5004 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/48000'), local);
    expect(media.telephoneEventPayloadType).toBeUndefined();
    expect(sdp).not.toContain('telephone-event');
  });

  it('refuses an offer with no common codec (488) and SRTP-only audio (488)', () => {
    const refuse = (text: string) => {
      try {
        answerOffer(text, local);
      } catch (error) {
        return error instanceof SdpNegotiationError ? error.sipStatus : -1;
      }
      return 0;
    };
    expect(refuse(offer('m=audio 5004 RTP/AVP 18', 'a=rtpmap:18 G729/8000'))).toBe(488);
    expect(refuse(offer('m=audio 5004 RTP/SAVP 0'))).toBe(488);
  });

  it('answers hold: sendonly → recvonly, inactive → inactive, c=0.0.0.0 → we do not send', () => {
    expect(answerOffer(offer('m=audio 5004 RTP/AVP 0', 'a=sendonly'), local).media.direction).toBe('recvonly');
    expect(answerOffer(offer('m=audio 5004 RTP/AVP 0', 'a=inactive'), local).media.direction).toBe('inactive');
    expect(answerOffer(offer('m=audio 5004 RTP/AVP 0', 'a=recvonly'), local).media.direction).toBe('sendonly');
    const old = answerOffer(offer('m=audio 5004 RTP/AVP 0', '', '0.0.0.0'), local);
    expect(old.media.direction).toBe('recvonly');
    expect(old.sdp).toContain('a=recvonly');
  });

  it('refuses other streams with port 0 in their place', () => {
    const { sdp } = answerOffer(offer('m=video 6000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio 5004 RTP/AVP 0'), local);
    expect(sdp.indexOf('m=video 0')).toBeGreaterThan(-1);
    expect(sdp.indexOf('m=video 0')).toBeLessThan(sdp.indexOf('m=audio 40000'));
  });

  it('offers PCMU/PCMA with telephone-event and reads the answer', () => {
    const ours = createOffer(local);
    expect(ours).toMatch(/m=audio 40000 RTP\/AVP 0 8 101/);
    const media = readAnswer(offer('m=audio 7000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000'), local);
    expect(media).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPayloadType: 101, remotePort: 7000 });
  });
});
