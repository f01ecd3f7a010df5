import type { CarrierAdapter } from './carrier-adapter.ts';
import { plivoCarrier } from './plivo/index.ts';
import { sipCarrier } from './sip/adapter.ts';
import { twilioCarrier } from './twilio/index.ts';

/**
 * The built-in carriers, one line each. Everything else (configuration, routes, media-socket recognition, sandbox
 * emulators, the CLI) reads this list; a new carrier is a folder under `src/telephony/` plus one line here.
 */
export const builtinCarriers: readonly CarrierAdapter[] = [twilioCarrier, plivoCarrier, sipCarrier];
