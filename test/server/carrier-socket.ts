/**
 * Plays a carrier against a running server through its public surface: a signed answer webhook (Twilio
 * `/twilio/voice`, Plivo `/answer`) for an inbound call, then the media WebSocket the markup names, with start,
 * media, mark/checkpoint, dtmf and stop messages in each carrier's wire format.
 */
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import WebSocket from 'ws';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import { plivoSignatureHeaders } from '../../src/telephony/plivo/emulator/signature.ts';
import type { PlivoSettings } from '../../src/telephony/plivo/index.ts';
import type { TwilioSettings } from '../../src/telephony/twilio/index.ts';

export type Carrier = 'twilio' | 'plivo';

export interface AnsweredInbound {
  carrier: Carrier;
  callId: string;
  carrierCallId: string;
  streamUrl: string;
}

let counter = 0;

/** A fresh carrier call id in the carrier's shape (Twilio `CA` + 32 hex, Plivo a UUID). */
export function newCarrierCallId(carrier: Carrier): string {
  counter++;
  return carrier === 'twilio' ? `CA${randomUUID().replace(/-/g, '')}` : randomUUID();
}

async function postForm(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, text: await response.text() };
}

/** An inbound call answered by the server (signed webhook), with the media socket URL from its markup. */
export async function answerInbound(
  server: RunningSwitchboard,
  carrier: Carrier,
  carrierCallId = newCarrierCallId(carrier),
): Promise<AnsweredInbound> {
  let markup: { status: number; text: string };
  if (carrier === 'twilio') {
    const params = {
      CallSid: carrierCallId,
      From: `+1555777${String(counter).padStart(4, '0')}`,
      To: '+15550100000',
      CallStatus: 'ringing',
    };
    const token = (server.config.carriers.twilio as TwilioSettings).authToken as string;
    const signature = twilio.getExpectedTwilioSignature(token, `${server.publicUrl}/twilio/voice`, params);
    markup = await postForm(`${server.url}/twilio/voice`, params, { 'x-twilio-signature': signature });
  } else {
    const params = { CallUUID: carrierCallId, From: `1555777${String(counter).padStart(4, '0')}`, To: '15550100000', Direction: 'inbound' };
    const token = (server.config.carriers.plivo as PlivoSettings).authToken as string;
    markup = await postForm(`${server.url}/answer`, params, plivoSignatureHeaders('POST', `${server.publicUrl}/answer`, params, token));
  }
  if (markup.status !== 200) throw new Error(`answer webhook: ${markup.status} ${markup.text}`);
  const url = /(wss?:\/\/[^"<\s]+\/ws\/[^"<\s]+)/.exec(markup.text)?.[1];
  if (!url) throw new Error(`no stream URL in ${markup.text}`);
  const record = server.store.findByCarrierCallId(carrier, carrierCallId);
  if (!record) throw new Error('no record for the answered call');
  return { carrier, callId: record.id, carrierCallId, streamUrl: url.replace('localhost', '127.0.0.1') };
}

export interface CarrierSocket {
  socket: WebSocket;
  /** Resolves when the server closes (or drops) the socket: the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Messages the server sent. */
  received: string[];
}

/** Opens the media socket; rejects with the HTTP status when the upgrade is refused. */
export function openSocket(url: string): Promise<CarrierSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const received: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) => {
      socket.on('close', (code, reason) => done({ code, reason: reason.toString('utf8') }));
    });
    socket.on('message', (data) => received.push(String(data)));
    socket.on('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode }));
      socket.terminate();
    });
    socket.on('open', () => resolve({ socket, closed, received }));
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error);
    });
  });
}

/** Status of the upgrade: 101 when accepted (the socket is then closed at once), else the HTTP status. */
export async function upgradeStatus(url: string): Promise<number> {
  try {
    const { socket } = await openSocket(url);
    socket.close();
    return 101;
  } catch (error) {
    return (error as { status?: number }).status ?? 0;
  }
}

const streamIds = new Map<string, string>();

function streamIdFor(carrier: Carrier, carrierCallId: string): string {
  let id = streamIds.get(carrierCallId);
  if (!id) {
    id = carrier === 'twilio' ? `MZ${randomUUID().replace(/-/g, '')}` : randomUUID();
    streamIds.set(carrierCallId, id);
  }
  return id;
}

/** The messages a carrier sends up to and including `start`; `mediaFormat` replaces the usual one when given. */
export function startMessages(carrier: Carrier, carrierCallId: string, mediaFormat?: unknown): string[] {
  const streamId = streamIdFor(carrier, carrierCallId);
  if (carrier === 'twilio') {
    return [
      JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: streamId,
        start: {
          accountSid: `AC${'b'.repeat(32)}`,
          streamSid: streamId,
          callSid: carrierCallId,
          tracks: ['inbound'],
          customParameters: {},
          mediaFormat: mediaFormat === undefined ? { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } : mediaFormat,
        },
      }),
    ];
  }
  return [
    JSON.stringify({
      event: 'start',
      sequenceNumber: 1,
      start: {
        callId: carrierCallId,
        streamId,
        accountId: 'MAXXXXXXXXXXXXXXXXXX',
        tracks: ['inbound'],
        mediaFormat: mediaFormat === undefined ? { encoding: 'audio/x-mulaw', sampleRate: 8000 } : mediaFormat,
      },
      extra_headers: '',
    }),
  ];
}

/** 20 ms of µ-law silence, as the carrier's `media` message (frame `n`). */
export function mediaMessage(carrier: Carrier, carrierCallId: string, n: number): string {
  const streamId = streamIdFor(carrier, carrierCallId);
  const payload = Buffer.alloc(160, 0xff).toString('base64');
  if (carrier === 'twilio') {
    return JSON.stringify({
      event: 'media',
      sequenceNumber: String(n + 2),
      media: { track: 'inbound', chunk: String(n + 1), timestamp: String(n * 20), payload },
      streamSid: streamId,
    });
  }
  return JSON.stringify({
    event: 'media',
    sequenceNumber: n + 2,
    streamId,
    media: { track: 'inbound', timestamp: String(Date.now()), chunk: n + 1, payload },
  });
}

/** The carrier's stop message. */
export function stopMessage(carrier: Carrier, carrierCallId: string): string {
  const streamId = streamIdFor(carrier, carrierCallId);
  return carrier === 'twilio'
    ? JSON.stringify({
        event: 'stop',
        sequenceNumber: '999',
        streamSid: streamId,
        stop: { accountSid: `AC${'b'.repeat(32)}`, callSid: carrierCallId },
      })
    : JSON.stringify({ event: 'stop', sequenceNumber: 999, streamId, reason: 'callEnded' });
}

/** `GET /calls/:id`. */
export async function getCall(server: RunningSwitchboard, callId: string): Promise<CallRecord> {
  return (await (await fetch(`${server.url}/calls/${callId}`)).json()) as CallRecord;
}

/** Polls `GET /calls/:id` until `done(record)`; throws with the last record after `timeoutMs`. */
export async function waitForRecord(
  server: RunningSwitchboard,
  callId: string,
  done: (record: CallRecord) => boolean,
  timeoutMs = 20_000,
): Promise<CallRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await getCall(server, callId);
    if (done(record)) return record;
    if (Date.now() > deadline) throw new Error(`call ${callId}: condition not met; status ${record.status}, reason ${record.endReason}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
