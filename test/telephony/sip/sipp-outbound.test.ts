/**
 * Our endpoint calls sipp (scenarios `peers/scenarios/uas-*.xml`): digest auth on a challenged INVITE,
 * call progress and failure statuses, the far end hanging up, a REFER transfer with its NOTIFY outcome,
 * and REGISTER with refresh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingSipCall, SipCallEnd, SipEndpoint } from '../../../src/telephony/sip/index.ts';
import { startTestEndpoint, waitFor } from './peers/endpoint.ts';
import { freeUdpPort, runSipp } from './peers/sipp.ts';

let endpoint: SipEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

/** Starts the sipp callee, places our call to it once sipp listens, and collects the call's story. */
async function callSipp(
  ep: SipEndpoint,
  scenario: string,
  options: { headers?: Record<string, string>; ringTimeoutMs?: number; onAnswered?: (call: OutgoingSipCall) => void } = {},
) {
  const port = await freeUdpPort();
  const progress: string[] = [];
  let call: OutgoingSipCall | undefined;
  let placed: Promise<void> | undefined;
  const ended = new Promise<SipCallEnd>((resolve) => {
    placed = new Promise<void>((started) => {
      void runSipp({ scenario, port }).then((run) => (sipp = run));
      setTimeout(() => {
        void ep.placeCall({ to: `sip:bob@127.0.0.1:${port}`, from: '+15550100000', ...options }).then((c) => {
          call = c;
          c.on('progress', (p) => progress.push(`${p.type}:${p.sipCode}`));
          c.on('ended', resolve);
          c.answered.then(
            () => options.onAnswered?.(c),
            () => {},
          );
          started();
        });
      }, 400);
    });
  });
  let sipp: Awaited<ReturnType<typeof runSipp>> | undefined;
  await placed;
  const end = await ended;
  await waitFor<void>(
    (done) => {
      const poll = setInterval(() => {
        if (sipp) {
          clearInterval(poll);
          done();
        }
      }, 20);
    },
    20_000,
    'sipp to exit',
  );
  return { end, progress, call: call as OutgoingSipCall, sipp: sipp as NonNullable<typeof sipp> };
}

describe('SIP endpoint against sipp (outbound)', () => {
  it('answers a 401 challenge with digest credentials, carries X- headers, and records the callee hanging up as completed', async () => {
    endpoint = await startTestEndpoint({ trunkCredentials: { username: 'alice', password: 's3cret' } });
    const { end, progress, sipp, call } = await callSipp(endpoint, 'uas-digest.xml', { headers: { 'X-Campaign': 'spring' } });
    expect(sipp.exitCode, sipp.errors || sipp.stdout.slice(-1500)).toBe(0);
    expect(progress).toEqual(['trying:100', 'ringing:180', 'answered:200']);
    expect(end).toMatchObject({ status: 'completed', by: 'remote' });
    expect(call.answeredAt).toBeDefined();
    expect(sipp.messages).toMatch(/Authorization: Digest .*username="alice"/);
  });

  it('reports a busy callee (486) as busy with the SIP code', async () => {
    endpoint = await startTestEndpoint();
    const { end, sipp } = await callSipp(endpoint, 'uas-busy.xml');
    expect(sipp.exitCode, sipp.errors || sipp.stdout.slice(-1500)).toBe(0);
    expect(end).toMatchObject({ status: 'busy', sipCode: 486 });
  });

  it('cancels an unanswered call at the ring timeout: CANCEL, 487, no-answer', async () => {
    endpoint = await startTestEndpoint();
    const { end, sipp } = await callSipp(endpoint, 'uas-ring-forever.xml', { ringTimeoutMs: 800 });
    expect(sipp.exitCode, sipp.errors || sipp.stdout.slice(-1500)).toBe(0);
    expect(end).toMatchObject({ status: 'no-answer', sipCode: 487 });
  });

  it('transfers with REFER and reports the NOTIFY outcome, then hangs up', async () => {
    endpoint = await startTestEndpoint();
    let outcome: unknown;
    const { end, sipp } = await callSipp(endpoint, 'uas-refer.xml', {
      onAnswered: (call) => void call.transfer('sip:agent@example.com').then((o) => (outcome = o)),
    });
    expect(sipp.exitCode, sipp.errors || sipp.stdout.slice(-1500)).toBe(0);
    expect(outcome).toEqual({ ok: true, status: 200, reason: 'OK' });
    expect(end).toMatchObject({ status: 'completed', by: 'local', reason: 'transferred' });
  });

  it('registers with digest auth and refreshes the registration before it expires', async () => {
    const port = await freeUdpPort();
    const sipp = runSipp({ scenario: 'uas-register.xml', port });
    await new Promise((r) => setTimeout(r, 400));
    endpoint = await startTestEndpoint({ registrar: `sip:127.0.0.1:${port}`, trunkCredentials: { username: 'alice', password: 's3cret' } });
    const run = await sipp;
    expect(run.exitCode, run.errors || run.stdout.slice(-1500)).toBe(0);
    const registration = endpoint.registrationState;
    await waitFor<void>(
      (done) => {
        const poll = setInterval(() => registration?.registrations === 2 && (clearInterval(poll), done()), 20);
      },
      3000,
      'second registration',
    );
    expect(registration?.status).toBe('registered');
    expect(registration?.grantedSec).toBe(2);
  });
});
