/** Getting a call's TwiML: the signed voice request, and reading the markup into verbs (errors recorded). */
import type { EmulatedCallRecord, MarkupRecord } from '../../../sandbox/carriers/shared/call-record.ts';
import type { CallWebhooks } from '../../../sandbox/carriers/shared/call-webhooks.ts';
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import { parseTwiml, TwimlError, type HttpMethod, type TwimlVerb } from './twiml.ts';
import { voiceParams, type TwilioCallIdentity } from './webhook-params.ts';

export interface TwimlSource {
  record: EmulatedCallRecord;
  webhooks: CallWebhooks;
  identity: TwilioCallIdentity;
  protocolError(code: number, message: string, raw?: string): void;
}

/** Parses markup, recording it; null (and a 12100/12200 error) when Twilio would refuse it. */
export function readTwiml(call: TwimlSource, body: string, source: 'fetched' | 'inline', url?: string): TwimlVerb[] | null {
  const markup: MarkupRecord = { source, at: nowMs(), body, ...(url ? { url } : {}) };
  call.record.markup.push(markup);
  try {
    return parseTwiml(body);
  } catch (error) {
    markup.error = error instanceof Error ? error.message : String(error);
    call.protocolError(error instanceof TwimlError ? error.code : 12100, markup.error, body);
    return null;
  }
}

/** Requests TwiML from our server (signed); null (and error 11200) when the request fails. */
export async function fetchTwiml(
  call: TwimlSource,
  kind: string,
  url: string,
  method: HttpMethod,
  callStatus: string,
  extra: FormFields,
): Promise<TwimlVerb[] | null> {
  const record = await call.webhooks.send(kind, url, method, voiceParams(call.identity, callStatus, extra), true);
  if (call.record.endedAt !== null) return null;
  if (record.status === null || record.status < 200 || record.status >= 300) {
    call.protocolError(11200, `HTTP retrieval failure: ${record.error ?? `HTTP ${record.status}`} from ${url}`);
    return null;
  }
  return readTwiml(call, record.body ?? '', 'fetched', url);
}
