/** SIP over TLS between two of our endpoints (certificate checked against a per-test self-signed CA). */
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../../src/sandbox/providers/tls.ts';
import type { IncomingSipCall, SipCallEnd, SipEndpoint } from '../../../src/telephony/sip/index.ts';
import { startTestEndpoint, waitFor } from './peers/endpoint.ts';

const endpoints: SipEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});

describe('SIP over TLS', () => {
  it('places and answers a call over TLS; a wrong CA is refused', async () => {
    const certificate = await createSelfSignedCertificate();
    const callee = await startTestEndpoint({ bindAddress: '127.0.0.1', tls: { key: certificate.key, cert: certificate.cert, port: 0 } });
    const caller = await startTestEndpoint({ tls: { ca: certificate.cert } });
    endpoints.push(callee, caller);
    const incoming = waitFor<IncomingSipCall>((resolve) => callee.on('incoming', (call) => (void call.accept(), resolve(call))));
    const call = await caller.placeCall({ to: `sip:bot@127.0.0.1:${callee.tlsPort};transport=tls` });
    await call.answered;
    const inbound = await incoming;
    expect(inbound.source.protocol).toBe('TLS');
    const ended = waitFor<SipCallEnd>((resolve) => inbound.on('ended', resolve));
    await call.hangUp('done');
    expect(await ended).toMatchObject({ status: 'completed', by: 'remote' });

    const stranger = await startTestEndpoint(); // trusts only the system CAs
    endpoints.push(stranger);
    const refused = await stranger.placeCall({ to: `sip:bot@127.0.0.1:${callee.tlsPort};transport=tls` });
    const end = await waitFor<SipCallEnd>((resolve) => refused.on('ended', resolve));
    expect(end).toMatchObject({ status: 'failed', sipCode: 503 });
  });
});
