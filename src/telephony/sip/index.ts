export { SipEndpoint, type SipEndpointDependencies, type SipEndpointEvents } from './sip-endpoint.ts';
export { IncomingSipCall, type AcceptOptions, type SipParty } from './incoming-sip-call.ts';
export { OutgoingSipCall, SipCallFailedError, type PlaceSipCallOptions } from './outgoing-sip-call.ts';
export { SipCall, type SipCallEnd, type SipCallEvents } from './sip-call.ts';
export {
  SIP_CODECS,
  SIP_DEFAULTS,
  sipConfigFromEnv,
  sipEnvSchema,
  type SipCodecName,
  type SipCredentials,
  type SipEndpointConfig,
  type SipEnv,
} from './sip-config.ts';
export { callStatusForSipResponse } from './sip-status.ts';
export type { TransferOutcome } from './sip-transfer.ts';
export type { SipRegistration, RegistrationStatus } from './sip-registration.ts';
export { sipCarrier, sip } from './adapter.ts';
export type { SipSettings } from './settings.ts';
export type { SipRuntime } from './runtime.ts';
export { SipLegReceiver, SipLegNotConnectedError, type ExpectedSipLeg } from './sip-leg-receiver.ts';
