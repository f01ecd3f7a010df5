import type { AgentDefinition } from '../../../src/agent/agent-definition.ts';
import type { CallServices } from '../../../src/agent/call-session.ts';
import { FrameProcessor } from '../../../src/pipeline/index.ts';
import type { Direction, Frame, FrameOf } from '../../../src/pipeline/index.ts';
import { AgentRegistry } from '../../../src/server/agent-registry.ts';
import { noCallMetrics } from '../../../src/server/call-metrics.ts';
import type { AgentServices } from '../../../src/server/call-services.ts';
import { CarrierSet } from '../../../src/server/carrier-set.ts';
import type { CallDeps } from '../../../src/server/calls/call-deps.ts';
import type { LlmService, LlmStreamEvent } from '../../../src/services/llm/llm-service.ts';
import { silentLogger } from '../../../src/log.ts';
import type { CarrierAdapter, CarrierRuntime, OutboundCallRequest } from '../../../src/telephony/carrier-adapter.ts';
import type { CarrierCallRef, PlacedCall } from '../../../src/telephony/carrier.ts';
import { memoryStore } from '../../store/helpers.ts';

/** A carrier runtime that records what the server asked of it; placement and hang-up outcomes are scriptable. */
export class FakeCarrier implements CarrierRuntime {
  readonly name = 'twilio';
  readonly placed: OutboundCallRequest[] = [];
  readonly hangUps: CarrierCallRef[] = [];
  placeResult: (request: OutboundCallRequest) => Promise<PlacedCall> = async (request) => ({
    carrier: 'twilio',
    carrierCallId: `CA-${request.callId}`,
    requestId: `CA-${request.callId}`,
    status: 'queued',
  });
  hangUpResult: () => Promise<void> = async () => {};

  placeCall(request: OutboundCallRequest): Promise<PlacedCall> {
    this.placed.push(request);
    return this.placeResult(request);
  }
  hangUp(call: CarrierCallRef): Promise<void> {
    this.hangUps.push(call);
    return this.hangUpResult();
  }
  getCall(): never {
    throw new Error('not used');
  }
}

/** Forwards every frame; optionally reports a fatal error when the call starts. */
class PassThrough extends FrameProcessor {
  constructor(
    name: string,
    private readonly failOnStart = false,
  ) {
    super(name);
  }
  protected override onStart(_frame: FrameOf<'start'>): void {
    if (this.failOnStart) this.pushError(new Error('provider socket refused'), true);
  }
  protected override processFrame(frame: Frame, direction: Direction): void {
    this.pushFrame(frame, direction);
  }
}

const silentLlm: LlmService = {
  provider: 'fake',
  model: 'fake',
  async *stream(): AsyncIterable<LlmStreamEvent> {
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 } };
  },
};

export const testAgent: AgentDefinition = { name: 'tester', systemPrompt: 'test', firstSpeaker: 'caller', callerFirstTimeoutSecs: 60 };

/** Call deps over a memory store, one agent, a fake carrier, and provider stages that do nothing (or fail). */
export function callDeps(options: { failStt?: boolean } = {}): { deps: CallDeps; carrier: FakeCarrier } {
  const carrier = new FakeCarrier();
  const adapter = { name: 'twilio', displayName: 'Fake', defaultFrom: () => '+15550000000' } as unknown as CarrierAdapter;
  const services: AgentServices = {
    unavailable: [],
    forAgent: (): CallServices => ({
      createStt: () => new PassThrough('stt', options.failStt === true),
      llm: silentLlm,
      createTts: () => new PassThrough('tts'),
    }),
  };
  return {
    carrier,
    deps: {
      store: memoryStore(),
      log: silentLogger(),
      agents: new AgentRegistry([testAgent]),
      services,
      carriers: new CarrierSet([{ adapter, settings: {}, mode: 'live', missing: [], runtime: carrier }]),
      metrics: noCallMetrics,
    },
  };
}
