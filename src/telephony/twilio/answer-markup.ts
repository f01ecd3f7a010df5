import { CALL_ID_PARAMETER } from '../carrier.ts';
import { assertStreamUrl, type StreamUrlOptions } from '../stream-url.ts';

import { twilioSdk } from './sdk.ts';

const voiceResponse = () => new (twilioSdk().twiml.VoiceResponse)();

export interface TwilioStreamTwimlOptions extends StreamUrlOptions {
  /** `wss://host/ws/<media token>`; no query string (Twilio forbids it). */
  streamUrl: string;
  /** Our call id, sent as the `callId` `<Parameter>` (arrives in `start.customParameters`). */
  callId: string;
  /** More `<Parameter>`s (e.g. `from_number`, `to_number`, the media token). `callId` is reserved. */
  parameters?: Record<string, string>;
  /** Stream status callback (`stream-started`/`stream-stopped`/`stream-error`). @default none */
  statusCallbackUrl?: string;
  /** @default 'POST' */
  statusCallbackMethod?: 'GET' | 'POST';
}

/**
 * Answer markup that connects the call's audio both ways to our media socket:
 * `<Response><Connect><Stream url="…"><Parameter name="callId" value="…"/>…</Stream></Connect></Response>`.
 * Built with the SDK's `VoiceResponse`, so escaping and layout match what Twilio's own library emits.
 */
export function twilioStreamTwiml(options: TwilioStreamTwimlOptions): string {
  assertStreamUrl(options.streamUrl, options);
  const parameters = options.parameters ?? {};
  if (CALL_ID_PARAMETER in parameters) throw new TypeError(`stream parameter "${CALL_ID_PARAMETER}" is reserved for the call id`);
  const response = voiceResponse();
  const stream = response.connect().stream({
    url: options.streamUrl,
    ...(options.statusCallbackUrl
      ? { statusCallback: options.statusCallbackUrl, statusCallbackMethod: options.statusCallbackMethod ?? 'POST' }
      : {}),
  });
  stream.parameter({ name: CALL_ID_PARAMETER, value: options.callId });
  for (const [name, value] of Object.entries(parameters)) stream.parameter({ name, value });
  return response.toString();
}

export interface TwilioSayOptions {
  /** e.g. `Polly.Joanna`. @default Twilio's default voice */
  voice?: string;
  /** e.g. `en-US`. @default Twilio's default */
  language?: string;
}

/** `<Response><Say>text</Say><Hangup/></Response>`: used when we cannot serve a call (errors, capacity). */
export function twilioSayAndHangupTwiml(text: string, options: TwilioSayOptions = {}): string {
  const response = voiceResponse();
  response.say(
    {
      ...(options.voice ? { voice: options.voice as never } : {}),
      ...(options.language ? { language: options.language as never } : {}),
    },
    text,
  );
  response.hangup();
  return response.toString();
}

/** `<Response><Hangup/></Response>`. */
export function twilioHangupTwiml(): string {
  const response = voiceResponse();
  response.hangup();
  return response.toString();
}

/**
 * A cold transfer: `<Response><Dial><Number>+1…</Number></Dial></Response>`, or `<Sip>` for a SIP URI. `callerId`
 * is the number the destination sees. After the `<Dial>` ends the call hangs up (the TwiML runs out).
 */
export function twilioDialTwiml(destination: string, options: { callerId?: string } = {}): string {
  const response = voiceResponse();
  const dial = response.dial(options.callerId ? { callerId: options.callerId } : {});
  if (/^sips?:/i.test(destination)) dial.sip(destination);
  else dial.number(destination);
  return response.toString();
}

export interface TwilioConferenceTwimlOptions {
  /** Whether this participant's arrival starts the conference (others stop hearing hold audio and are bridged). */
  startConferenceOnEnter: boolean;
  /** Whether the conference ends when this participant leaves (everyone's `<Dial>` ends). */
  endConferenceOnExit: boolean;
  /** What this participant hears until the conference starts. @default unset: Twilio's default hold music */
  waitUrl?: string;
}

/**
 * Puts a call in a conference room: `<Response><Dial><Conference startConferenceOnEnter=… endConferenceOnExit=…
 * beep="false" [waitUrl=…]>room</Conference></Dial></Response>`. Warm transfers put the caller there first (hold
 * audio), then the person once briefed (the conference starts: the two are bridged). No beep: the caller should
 * not hear the person arrive as a tone.
 */
export function twilioConferenceTwiml(room: string, options: TwilioConferenceTwimlOptions): string {
  const response = voiceResponse();
  response.dial().conference(
    {
      startConferenceOnEnter: options.startConferenceOnEnter,
      endConferenceOnExit: options.endConferenceOnExit,
      beep: 'false',
      ...(options.waitUrl !== undefined ? { waitUrl: options.waitUrl, waitMethod: 'POST' } : {}),
    },
    room,
  );
  return response.toString();
}
