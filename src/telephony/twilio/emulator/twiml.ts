/**
 * TwiML the emulator executes. Media verbs are what matters for an AI agent: `<Connect><Stream>` (two-way
 * media; the next verb runs after our server closes the socket) and `<Start><Stream>` (a one-way fork; the
 * next verb runs at once). `<Say>`/`<Play>` are timed as silence, `<Pause>`, `<Hangup>`, `<Reject>` and
 * `<Redirect>` behave as on Twilio; `<Dial>` rings the persona registered for the number (or SIP URI) and bridges
 * the two parties until one hangs up (its `action` is not fetched: the call's TwiML goes on, as without `action`);
 * `<Dial><Conference>` puts the call in a conference room (see `conference.ts`);
 * other verbs are recorded as unsupported and skipped.
 */
import { parseXml, XmlParseError, type XmlElement } from '../../../sandbox/carriers/shared/xml.ts';
import type { ConferenceSpec } from './conference.ts';

export type HttpMethod = 'GET' | 'POST';

export interface StreamSpec {
  url: string;
  name: string | null;
  /** `inbound_track` (default), `outbound_track`, `both_tracks` (forks only; `<Connect>` is always inbound). */
  track: 'inbound_track' | 'outbound_track' | 'both_tracks';
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  /** `<Parameter name value>` children → `start.customParameters`. */
  parameters: Record<string, string>;
}

export type TwimlVerb =
  | { verb: 'Connect'; stream: StreamSpec | null; action: string | null; method: HttpMethod; unsupportedChild: string | null }
  | { verb: 'Start'; stream: StreamSpec | null }
  | { verb: 'Stop'; streamName: string | null }
  | { verb: 'Say'; text: string; loop: number }
  | { verb: 'Play'; url: string; loop: number }
  | { verb: 'Pause'; lengthSec: number }
  | {
      verb: 'Dial';
      target: string | null;
      kind: 'number' | 'sip' | 'conference' | null;
      timeoutSec: number;
      action: string | null;
      /** `<Conference>` attributes (kind `conference`). */
      conference: ConferenceSpec | null;
    }
  | { verb: 'Hangup' }
  | { verb: 'Reject'; reason: 'rejected' | 'busy' }
  | { verb: 'Redirect'; url: string; method: HttpMethod }
  | { verb: 'Unsupported'; name: string };

/** A TwiML document Twilio would refuse: 12100 (parse failure) or 12200 (schema violation). */
export class TwimlError extends Error {
  constructor(
    readonly code: 12100 | 12200,
    message: string,
  ) {
    super(message);
    this.name = 'TwimlError';
  }
}

function method(value: string | undefined): HttpMethod {
  return value?.toUpperCase() === 'GET' ? 'GET' : 'POST';
}

function boolAttr(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value.trim().toLowerCase() === 'true';
}

function intAttr(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function parseStream(el: XmlElement): StreamSpec {
  const url = el.attributes.url;
  if (!url) throw new TwimlError(12200, '<Stream> requires a url attribute');
  const parameters: Record<string, string> = {};
  for (const child of el.children) {
    if (child.name !== 'Parameter') throw new TwimlError(12200, `<Stream> cannot contain <${child.name}>`);
    const name = child.attributes.name;
    if (name === undefined) throw new TwimlError(12200, '<Parameter> requires a name attribute');
    parameters[name] = child.attributes.value ?? '';
  }
  const track = el.attributes.track ?? 'inbound_track';
  if (track !== 'inbound_track' && track !== 'outbound_track' && track !== 'both_tracks') {
    throw new TwimlError(12200, `<Stream track="${track}"> is not inbound_track, outbound_track or both_tracks`);
  }
  return {
    url,
    name: el.attributes.name ?? null,
    track,
    statusCallback: el.attributes.statusCallback ?? null,
    statusCallbackMethod: method(el.attributes.statusCallbackMethod),
    parameters,
  };
}

function parseVerb(el: XmlElement): TwimlVerb {
  switch (el.name) {
    case 'Connect': {
      const stream = el.children.find((c) => c.name === 'Stream');
      const other = el.children.find((c) => c.name !== 'Stream');
      return {
        verb: 'Connect',
        stream: stream ? parseStream(stream) : null,
        action: el.attributes.action ?? null,
        method: method(el.attributes.method),
        unsupportedChild: other ? other.name : null,
      };
    }
    case 'Start': {
      const stream = el.children.find((c) => c.name === 'Stream');
      return { verb: 'Start', stream: stream ? parseStream(stream) : null };
    }
    case 'Stop': {
      const stream = el.children.find((c) => c.name === 'Stream');
      return { verb: 'Stop', streamName: stream?.attributes.name ?? null };
    }
    case 'Say':
      return { verb: 'Say', text: el.text.trim(), loop: intAttr(el.attributes.loop, 1) };
    case 'Play':
      return { verb: 'Play', url: el.text.trim(), loop: intAttr(el.attributes.loop, 1) };
    case 'Pause':
      return { verb: 'Pause', lengthSec: intAttr(el.attributes.length, 1) };
    case 'Dial': {
      // `<Dial>+1555…</Dial>`, `<Dial><Number>`, `<Dial><Sip>`, `<Dial><Conference>`; only the first noun is dialled.
      const noun = el.children.find((c) => c.name === 'Number' || c.name === 'Sip' || c.name === 'Conference' || c.name === 'Client');
      const target = (noun ? noun.text : el.text).trim();
      const kind = noun?.name === 'Sip' ? 'sip' : noun?.name === 'Conference' ? 'conference' : target ? 'number' : null;
      const conference: ConferenceSpec | null =
        noun?.name === 'Conference' && target
          ? {
              name: target,
              startConferenceOnEnter: boolAttr(noun.attributes.startConferenceOnEnter, true),
              endConferenceOnExit: boolAttr(noun.attributes.endConferenceOnExit, false),
              waitUrl: noun.attributes.waitUrl ?? null,
              waitMethod: method(noun.attributes.waitMethod),
            }
          : null;
      return {
        verb: 'Dial',
        target: target || null,
        kind,
        timeoutSec: intAttr(el.attributes.timeout, 30),
        action: el.attributes.action ?? null,
        conference,
      };
    }
    case 'Hangup':
      return { verb: 'Hangup' };
    case 'Reject':
      return { verb: 'Reject', reason: el.attributes.reason === 'busy' ? 'busy' : 'rejected' };
    case 'Redirect': {
      const url = el.text.trim();
      if (!url) throw new TwimlError(12200, '<Redirect> requires a URL');
      return { verb: 'Redirect', url, method: method(el.attributes.method) };
    }
    default:
      return { verb: 'Unsupported', name: el.name };
  }
}

/** Parses a TwiML document into the verbs to run, in order. */
export function parseTwiml(source: string): TwimlVerb[] {
  let root: XmlElement;
  try {
    root = parseXml(source);
  } catch (error) {
    if (error instanceof XmlParseError) throw new TwimlError(12100, `Document parse failure: ${error.message}`);
    throw error;
  }
  if (root.name !== 'Response') throw new TwimlError(12200, `root element is <${root.name}>, expected <Response>`);
  return root.children.map(parseVerb);
}
