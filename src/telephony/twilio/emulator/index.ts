export { startTwilioEmulator, type InboundCallOptions, type TwilioEmulator, type TwilioEmulatorOptions } from './emulator.ts';
export { twilioClientFor, EmulatorRequestClient } from './sdk-client.ts';
export { twilioSignature, twilioSignedString } from './signature.ts';
export { TwilioCall, type TwilioStatusEvent } from './twilio-call.ts';
export { parseTwiml, TwimlError, type StreamSpec, type TwimlVerb } from './twiml.ts';
