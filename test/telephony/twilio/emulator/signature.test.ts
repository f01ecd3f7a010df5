import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { twilioSignature, twilioSignedString } from '../../../../src/telephony/twilio/emulator/signature.ts';

const params = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';

describe('X-Twilio-Signature', () => {
  it('matches the documented test vector', () => {
    expect(twilioSignedString(url, params)).toBe(
      'https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212',
    );
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params)).toBe('kvajT1Ptam85bY51eRf/AJRuM3w=');
  });

  it('is accepted by the official SDK validator, including repeated keys', () => {
    const repeated = { ...params, StatusCallbackEvent: ['ringing', 'initiated'] };
    const signature = twilioSignature('secret-token', 'http://127.0.0.1:3000/status', repeated);
    expect(twilio.validateRequest('secret-token', signature, 'http://127.0.0.1:3000/status', repeated)).toBe(true);
    expect(twilio.validateRequest('other-token', signature, 'http://127.0.0.1:3000/status', repeated)).toBe(false);
  });
});
