import { HttpError } from '../../errors.ts';
import type { CarrierSet } from '../carrier-set.ts';

/** How long a prepared SIP leg URI is remembered for its call. */
const SIP_LEG_TTL_MS = 15 * 60_000;

/**
 * SIP legs for calls whose carrier connects the callee to a SIP URI instead of streaming media (e.g. answer markup
 * `<Dial><User>`): one URI per call, prepared by the named carrier or the first that takes SIP legs, and looked up
 * here by our call id — never taken from a request.
 */
export class SipLegs {
  private readonly legs = new Map<string, Promise<string>>();

  constructor(private readonly carriers: CarrierSet) {}

  get(callId: string, carrier?: string): Promise<string> {
    const existing = this.legs.get(callId);
    if (existing) return existing;
    const runtime = carrier
      ? this.carriers.runtime(carrier)
      : this.carriers
          .names()
          .map((name) => this.carriers.find(name))
          .find((candidate) => candidate?.sipLeg !== undefined);
    if (!runtime?.sipLeg) {
      throw new HttpError(503, 'no_sip_leg', carrier ? `carrier "${carrier}" cannot take SIP legs` : 'no carrier here takes SIP legs');
    }
    const leg = runtime.sipLeg(callId);
    this.legs.set(callId, leg);
    leg.catch(() => this.legs.delete(callId));
    setTimeout(() => this.legs.delete(callId), SIP_LEG_TTL_MS).unref();
    return leg;
  }
}
