export { startPlivoEmulator, type PlivoEmulator, type PlivoEmulatorOptions, type PlivoInboundCallOptions } from './emulator.ts';
export { plivoClientFor, routePlivoSdkTo, PlivoEmulatorAgent } from './sdk-client.ts';
export { plivoSignatureHeaders, plivoV2Signature, plivoV3Signature, plivoV3SignedString } from './signature.ts';
export { PlivoCall } from './plivo-call.ts';
export { parsePlivoXml, PlivoXmlError, type PlivoElement, type PlivoStreamSpec } from './plivo-xml.ts';
export { HANGUP_CAUSES, type HangupCause, type HangupSource } from './hangup-causes.ts';
