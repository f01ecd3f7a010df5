import { describe, expect, it } from 'vitest';
import {
  plivoDialSipXml,
  plivoHangupXml,
  plivoHeaderList,
  plivoSpeakAndHangupXml,
  plivoStreamXml,
} from '../../../src/telephony/plivo/answer-markup.ts';

describe('plivoStreamXml', () => {
  it('streams µ-law both ways and keeps the call alive', () => {
    expect(plivoStreamXml({ streamUrl: 'wss://agent.example.com/ws/v1.abc.def.sig' })).toBe(
      '<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">wss://agent.example.com/ws/v1.abc.def.sig</Stream></Response>',
    );
  });

  it('adds extra headers, a status callback and a timeout', () => {
    const xml = plivoStreamXml({
      streamUrl: 'wss://agent.example.com/ws/t',
      extraHeaders: { callId: 'c123', agent: 'bot1' },
      statusCallbackUrl: 'https://agent.example.com/plivo/stream-status?a=1&b=2',
      streamTimeoutSec: 3600,
      contentType: 'audio/x-l16;rate=16000',
    });
    expect(xml).toBe(
      '<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000" streamTimeout="3600" ' +
        'statusCallbackUrl="https://agent.example.com/plivo/stream-status?a=1&amp;b=2" statusCallbackMethod="POST" extraHeaders="callId=c123,agent=bot1">' +
        'wss://agent.example.com/ws/t</Stream></Response>',
    );
  });

  it("refuses extra headers outside Plivo's charset or size", () => {
    expect(() => plivoStreamXml({ streamUrl: 'wss://a.example/ws/t', extraHeaders: { callId: 'c_123' } })).toThrow(/A-Za-z0-9/);
    expect(() => plivoHeaderList({ k: 'a'.repeat(600) })).toThrow(/512/);
    expect(plivoHeaderList({ a: '1', b: '2' })).toBe('a=1,b=2');
  });

  it('refuses query strings and non-wss URLs', () => {
    expect(() => plivoStreamXml({ streamUrl: 'wss://a.example/ws?x=1' })).toThrow(/query string/);
    expect(() => plivoStreamXml({ streamUrl: 'http://a.example/ws' })).toThrow(/wss/);
  });

  it('refuses attribute values with a double quote (the SDK would emit broken XML)', () => {
    expect(() => plivoStreamXml({ streamUrl: 'wss://a.example/ws/t', statusCallbackUrl: 'https://a.example/"x' })).toThrow(/double quote/);
  });
});

describe('Plivo error and dial markup', () => {
  it('speaks and hangs up', () => {
    expect(plivoSpeakAndHangupXml('Sorry & goodbye', { voice: 'WOMAN', language: 'en-US' })).toBe(
      '<Response><Speak voice="WOMAN" language="en-US">Sorry &amp; goodbye</Speak><Hangup/></Response>',
    );
  });

  it('hangs up, optionally rejecting', () => {
    expect(plivoHangupXml()).toBe('<Response><Hangup/></Response>');
    expect(plivoHangupXml({ reason: 'rejected' })).toBe('<Response><Hangup reason="rejected"/></Response>');
  });

  it('dials a SIP user', () => {
    expect(
      plivoDialSipXml({
        sipUri: 'sip:agent1@phone.plivo.com',
        callerId: '14157650000',
        timeoutSec: 30,
        action: 'https://agent.example.com/plivo/dial-done',
        sipHeaders: { callId: 'c123' },
      }),
    ).toBe(
      '<Response><Dial callerId="14157650000" timeout="30" action="https://agent.example.com/plivo/dial-done">' +
        '<User sipHeaders="callId=c123">sip:agent1@phone.plivo.com</User></Dial></Response>',
    );
    expect(plivoDialSipXml({ sipUri: 'sip:room@sip.example.com' })).toBe(
      '<Response><Dial><User>sip:room@sip.example.com</User></Dial></Response>',
    );
    expect(() => plivoDialSipXml({ sipUri: 'agent1' })).toThrow(/SIP URI/);
  });
});
