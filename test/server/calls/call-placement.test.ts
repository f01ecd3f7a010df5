import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/errors.ts';
import { checkMetadata, placeCall } from '../../../src/server/calls/call-placement.ts';
import { CarrierError } from '../../../src/telephony/carrier-error.ts';
import { callDeps } from './fixtures.ts';

describe('placeCall', () => {
  it('creates the record, dials with the default caller id and keeps the carrier call id', async () => {
    const { deps, carrier } = callDeps();
    const record = await placeCall(deps, { carrier: 'twilio', to: '+15550100001', metadata: { user: { firstName: 'Ada' } } });
    expect(carrier.placed).toEqual([{ callId: record.id, to: '+15550100001', from: '+15550000000' }]);
    expect(record).toMatchObject({
      status: 'queued',
      carrierCallId: `CA-${record.id}`,
      agent: 'tester',
      metadata: { user: { firstName: 'Ada' } },
    });
    expect(record.events.map((e) => e.type)).toContain('carrier.placed');
  });

  it('a carrier refusal is a 502 carrying the carrier code, and the record says failed', async () => {
    const { deps, carrier } = callDeps();
    carrier.placeResult = async (request) => {
      throw new CarrierError({
        carrier: 'twilio',
        operation: 'placeCall',
        callId: request.callId,
        httpStatus: 400,
        carrierCode: 21211,
        carrierMessage: 'bad number',
      });
    };
    const error = (await placeCall(deps, { carrier: 'twilio', to: '+15550100001' }).catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ statusCode: 502, code: 'carrier_error', details: { carrierCode: 21211 } });
    const record = deps.store.getCall(error.callId as string);
    expect(record).toMatchObject({ status: 'failed', error: { carrierErrorCode: 21211, code: 'carrier_error' } });
  });

  it('refuses unknown carriers and agents before creating anything', async () => {
    const { deps, carrier } = callDeps();
    await expect(placeCall(deps, { carrier: 'nope', to: '+15550100001' })).rejects.toMatchObject({
      statusCode: 400,
      code: 'unknown_carrier',
    });
    await expect(placeCall(deps, { carrier: 'twilio', to: '+15550100001', agent: 'ghost' })).rejects.toMatchObject({
      code: 'unknown_agent',
    });
    expect(carrier.placed).toHaveLength(0);
    expect(deps.store.listCalls().calls).toHaveLength(0);
  });

  it('limits custom call data to 64 KB', () => {
    expect(() => checkMetadata({ blob: 'x'.repeat(70_000) })).toThrow(expect.objectContaining({ statusCode: 413 }) as Error);
    expect(() => checkMetadata({ ok: true })).not.toThrow();
  });
});
