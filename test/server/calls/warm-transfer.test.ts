/** The carrier-neutral warm transfer: summary, briefing leg, outcomes in the record, and the cold fallback. */
import { describe, expect, it } from 'vitest';
import { HANDOVER_SUMMARY_PROMPT } from '../../../src/agent/handover-summary.ts';
import { transferCallTool, type TransferDestination } from '../../../src/agent/transfer-tool.ts';
import { LiveCalls } from '../../../src/server/calls/live-calls.ts';
import { warmTransferCall } from '../../../src/server/calls/warm-transfer.ts';
import type { LlmRequest, LlmService, LlmStreamEvent } from '../../../src/services/llm/llm-service.ts';
import type { TransferResult, WarmTransferRequest, WarmTransferResult } from '../../../src/telephony/carrier-adapter.ts';
import type { CarrierCallRef } from '../../../src/telephony/carrier.ts';
import { callDeps } from './fixtures.ts';

const desk: TransferDestination = { name: 'front_desk', to: '+15550100090', description: 'The desk.', mode: 'warm' };

/** An LLM that writes its "summary" from the transcript it was given, and remembers the request. */
function echoLlm(): LlmService & { requests: LlmRequest[] } {
  const requests: LlmRequest[] = [];
  return {
    provider: 'fake',
    model: 'fake',
    requests,
    async *stream(request): AsyncIterable<LlmStreamEvent> {
      requests.push(request);
      const transcript = String(request.messages[0]?.content ?? '');
      yield { type: 'text', text: `Hi, I have a caller for you. ${/Caller: (.*)/.exec(transcript)?.[1] ?? ''}` };
      yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

function setUp(llm: LlmService) {
  const { deps, carrier } = callDeps();
  const forAgent = deps.services.forAgent.bind(deps.services);
  deps.services = { ...deps.services, forAgent: (agent) => ({ ...forAgent(agent), llm }) };
  const live = new LiveCalls(deps);
  const call = deps.store.createCall({
    carrier: 'twilio',
    direction: 'outbound',
    to: '+15550100007',
    from: '+15550000000',
    agent: 'tester',
    status: 'in-progress',
    carrierCallId: 'CA-caller',
  });
  deps.store.addTurn(call.id, { index: 0, role: 'user', text: 'I need to talk to someone about my bill.' });
  return { deps, carrier, live, callId: call.id };
}

describe('warm transfer (carrier-neutral part)', () => {
  it('summarises the transcript, places the briefing leg as a linked call, and records a failure the carrier reports', async () => {
    const llm = echoLlm();
    const { deps, carrier, live, callId } = setUp(llm);
    const asked: WarmTransferRequest[] = [];
    Object.assign(carrier, {
      async warmTransfer(_call: CarrierCallRef, request: WarmTransferRequest): Promise<WarmTransferResult> {
        asked.push(request);
        live.legEnded(request.briefingCallId, 'no-answer'); // the person does not answer
        const briefed = await request.briefed();
        return { ok: false, status: 'not-bridged', reason: briefed.reason, bridge: 'room-1' };
      },
    });
    const result = await warmTransferCall(deps, live, callId, desk, 'billing');
    expect(result).toMatchObject({ ok: false, status: 'not-bridged' });
    expect(result.reason).toMatch(/no-answer/);
    expect(llm.requests[0]?.system).toBe(HANDOVER_SUMMARY_PROMPT);
    expect(String(llm.requests[0]?.messages[0]?.content)).toMatch(
      /Caller: I need to talk to someone about my bill\.[\s\S]*Reason for the transfer: billing/,
    );
    const request = asked[0]!;
    expect(request).toMatchObject({
      destination: '+15550100090',
      from: '+15550000000',
      caller: { to: '+15550100007', from: '+15550000000' },
    });
    const leg = deps.store.getCall(request.briefingCallId)!;
    expect(leg).toMatchObject({ to: '+15550100090', direction: 'outbound', metadata: { warmTransferOf: callId } });
    const record = deps.store.getCall(callId)!;
    expect(record.transfer).toMatchObject({
      kind: 'warm',
      status: 'failed',
      destination: '+15550100090',
      summary: 'Hi, I have a caller for you. I need to talk to someone about my bill.',
      briefingCallId: request.briefingCallId,
      bridge: 'room-1',
    });
    expect(record.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['transfer.summary', 'transfer.briefing-call', 'carrier.transfer']),
    );
    // The leg was never answered here: the server hangs it up (it may still be ringing at the carrier).
    expect(carrier.hangUps.map((h) => h.callId)).toContain(request.briefingCallId);
    expect(deps.store.getCallSummary(request.briefingCallId)?.status).toBe('canceled');
  });

  it('moves nothing when the summary fails: the tool gets the reason', async () => {
    const silent: LlmService = {
      provider: 'fake',
      model: 'fake',
      async *stream(): AsyncIterable<LlmStreamEvent> {
        yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 } };
      },
    };
    const { deps, carrier, live, callId } = setUp(silent);
    let called = false;
    Object.assign(carrier, { warmTransfer: async () => ((called = true), { ok: true, status: 'x', reason: 'x' }) });
    const result = await warmTransferCall(deps, live, callId, desk);
    expect(result).toMatchObject({ ok: false, status: 'summary-failed' });
    expect(called).toBe(false);
    expect(deps.store.listCalls().calls).toHaveLength(1); // no briefing leg
    expect(deps.store.getCall(callId)?.transfer).toMatchObject({ kind: 'warm', status: 'failed' });
  });

  it('transfers cold, saying why, on a carrier that cannot transfer warm', async () => {
    const { deps, carrier, live, callId } = setUp(echoLlm());
    const cold: string[] = [];
    Object.assign(carrier, {
      async transfer(_call: CarrierCallRef, destination: string): Promise<TransferResult> {
        cold.push(destination);
        return { ok: true, status: 'completed', reason: 'dialled', movedByCarrier: true };
      },
    });
    const result = await warmTransferCall(deps, live, callId, desk);
    expect(result.ok).toBe(true);
    expect(cold).toEqual(['+15550100090']);
    const record = deps.store.getCall(callId)!;
    expect(record.transfer).toMatchObject({ kind: 'cold', status: 'transferred' });
    expect(record.transfer?.warmFallback).toMatch(/cannot be transferred warm/);
    expect(record.events.some((e) => e.type === 'transfer.warm-unsupported')).toBe(true);
  });
});

describe('transfer_call', () => {
  it('tells the model which destinations are warm (cold is the default) and hands the whole destination to the server', async () => {
    const moved: TransferDestination[] = [];
    const tool = transferCallTool(
      { destinations: [desk, { name: 'sales', to: '+15550100091', description: 'Sales.' }] },
      { botSilent: async () => {}, transfer: async (d) => (moved.push(d), { ok: true, status: 'bridged', reason: 'ok' }) },
    );
    expect(tool.description).toMatch(/- front_desk: The desk\. \(warm: the caller holds while you brief them\)/);
    expect(tool.description).toMatch(/- sales: Sales\.\n?$/m);
    expect(tool.description).not.toMatch(/sales: Sales\. \(warm/);
    await tool.execute({ destination: 'front_desk' }, {} as never);
    expect(moved[0]).toMatchObject({ to: '+15550100090', mode: 'warm' });
  });
});
