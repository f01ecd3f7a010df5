import { describe, expect, it } from 'vitest';
import { twilioHangupTwiml, twilioSayAndHangupTwiml, twilioStreamTwiml } from '../../../src/telephony/twilio/answer-markup.ts';

describe('twilioStreamTwiml', () => {
  it('connects a bidirectional stream carrying the call id and custom parameters', () => {
    const twiml = twilioStreamTwiml({
      streamUrl: 'wss://agent.example.com/ws/v1.Y18xMjM.abc.sig',
      callId: 'c_123',
      parameters: { from_number: '+15551230000', to_number: '+15557650000' },
      statusCallbackUrl: 'https://agent.example.com/twilio/stream-status',
    });
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>' +
        '<Stream url="wss://agent.example.com/ws/v1.Y18xMjM.abc.sig" statusCallback="https://agent.example.com/twilio/stream-status" statusCallbackMethod="POST">' +
        '<Parameter name="callId" value="c_123"/>' +
        '<Parameter name="from_number" value="+15551230000"/>' +
        '<Parameter name="to_number" value="+15557650000"/>' +
        '</Stream></Connect></Response>',
    );
  });

  it('leaves out the status callback when none is given and escapes values', () => {
    const twiml = twilioStreamTwiml({ streamUrl: 'wss://a.example/ws/t', callId: 'c"<&>' });
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://a.example/ws/t">' +
        '<Parameter name="callId" value="c&quot;&lt;&amp;>"/></Stream></Connect></Response>',
    );
  });

  it('refuses URLs Twilio would reject: query strings, non-wss schemes', () => {
    expect(() => twilioStreamTwiml({ streamUrl: 'wss://a.example/ws?token=x', callId: 'c' })).toThrow(/query string/);
    expect(() => twilioStreamTwiml({ streamUrl: 'https://a.example/ws', callId: 'c' })).toThrow(/wss/);
    expect(() => twilioStreamTwiml({ streamUrl: 'ws://127.0.0.1:3000/ws/t', callId: 'c' })).toThrow(/wss/);
    expect(twilioStreamTwiml({ streamUrl: 'ws://127.0.0.1:3000/ws/t', callId: 'c', allowInsecure: true })).toContain(
      'url="ws://127.0.0.1:3000/ws/t"',
    );
  });

  it('keeps the callId parameter name for the call id', () => {
    expect(() => twilioStreamTwiml({ streamUrl: 'wss://a.example/ws/t', callId: 'c', parameters: { callId: 'other' } })).toThrow(
      /reserved/,
    );
  });
});

describe('Twilio error markup', () => {
  it('says a sentence and hangs up', () => {
    expect(twilioSayAndHangupTwiml('Sorry, we cannot take your call.', { voice: 'Polly.Joanna', language: 'en-US' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Joanna" language="en-US">Sorry, we cannot take your call.</Say><Hangup/></Response>',
    );
    expect(twilioSayAndHangupTwiml('A & B')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>A &amp; B</Say><Hangup/></Response>',
    );
  });

  it('hangs up', () => {
    expect(twilioHangupTwiml()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });
});
