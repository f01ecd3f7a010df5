/**
 * What an emulated call keeps for tests and the benchmark to inspect. Plain data, updated live; times are
 * epoch milliseconds (sub-millisecond precision).
 */
import type { CalleeRecord } from '../../callees/simulated-callee.ts';
import type { PlayoutStats } from './playout-buffer.ts';
import type { WebhookRecord } from './webhook.ts';

export interface StatusTransition {
  status: string;
  at: number;
}

/** A protocol violation by our server, with the carrier's error code (e.g. Twilio 31924). */
export interface ProtocolErrorRecord {
  code: number;
  message: string;
  at: number;
  /** The offending message (truncated). */
  raw?: string;
}

/** Markup the call ran: fetched from our server or given inline. */
export interface MarkupRecord {
  source: 'fetched' | 'inline';
  /** The URL fetched (fetched only). */
  url?: string;
  at: number;
  body: string;
  /** Parse or fetch error, if the markup could not be used. */
  error?: string;
}

export interface MarkRecord {
  name: string;
  receivedAt: number;
  /** When the carrier acknowledged it (Twilio `mark` echo, Plivo `playedStream`); null if never. */
  ackedAt: number | null;
  /** played: its audio finished; cleared: dropped by a clear (Twilio still echoes it); pending: neither yet. */
  outcome: 'played' | 'cleared' | 'pending';
}

export interface ClearRecord {
  at: number;
  droppedBytes: number;
  /** Markers that were pending when the clear arrived. */
  pendingMarks: string[];
}

export interface StreamRecord {
  /** Carrier's stream id (Twilio `MZ…` StreamSid, Plivo stream UUID). */
  streamId: string;
  /** URL in the markup, and the URL actually connected (Twilio strips the query string). */
  requestedUrl: string;
  url: string;
  startedAt: number;
  /** WebSocket open; null if the handshake failed. */
  connectedAt: number | null;
  closedAt: number | null;
  /** Who closed: our server, or the carrier (call ended / redirected). */
  closedBy: 'server' | 'carrier' | null;
  closeCode: number | null;
  handshakeError?: string;
  /** Custom parameters / extra headers delivered in `start`. */
  parameters: Record<string, string>;
  /** Messages from our server. */
  received: {
    total: number;
    byEvent: Record<string, number>;
    /** Audio messages (`media` / `playAudio`). */
    audioMessages: number;
    /** Bot audio bytes as 8 kHz μ-law (after any conversion). */
    botAudioBytes: number;
  };
  /** Messages to our server. */
  sent: { total: number; media: number; dtmf: number; acks: number };
  marks: MarkRecord[];
  clears: ClearRecord[];
  /** Key presses of the callee sent to our server. */
  dtmf: Array<{ digit: string; at: number }>;
  /** Digits our server asked the carrier to play to the callee (Plivo `sendDTMF`). */
  serverDtmf: Array<{ digits: string; at: number }>;
  /** Playback and late-frame accounting (live). */
  playout: PlayoutStats;
}

export interface EmulatedCallRecord {
  carrier: string;
  /** Twilio CallSid / Plivo CallUUID. */
  id: string;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  /** Carrier status (Twilio: queued, ringing, in-progress, completed, busy, no-answer, canceled, failed). */
  status: string;
  transitions: StatusTransition[];
  /** Every webhook sent (status callbacks, markup fetches, ring/hangup URLs) and the response status. */
  callbacks: WebhookRecord[];
  markup: MarkupRecord[];
  streams: StreamRecord[];
  protocolErrors: ProtocolErrorRecord[];
  /** Things the emulator did not emulate faithfully on this call (e.g. an unsupported verb it skipped). */
  warnings: string[];
  /** Persona answering (outbound) or calling (inbound); null when no simulated party is on the line. */
  personaId: string | null;
  callee: CalleeRecord | null;
  createdAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  /** Why the call ended, in the emulator's words (e.g. `callee-hangup`, `api-hangup`, `markup-ended`). */
  endReason: string | null;
  /** Parties the call dialled (`<Dial>` after a transfer), with what each heard. */
  dials: DialRecord[];
}

/** One `<Dial>` the emulator ran: who it reached and what they heard of the caller. */
export interface DialRecord {
  to: string;
  /** The persona that answered; null when nobody is registered for the number. */
  personaId: string | null;
  /** `completed` (answered, then hung up), `busy`, `no-answer`, `failed`. */
  status: string;
  answeredAt: number | null;
  endedAt: number | null;
  /** Everything the dialled party did and heard (its `heard` holds the caller's speech). */
  party: CalleeRecord | null;
}

/** Sum of late-frame accounting over a call's streams. */
export function lateFrameSummary(record: EmulatedCallRecord): { framesReceived: number; lateFrames: number; maxLatenessMs: number } {
  let framesReceived = 0;
  let lateFrames = 0;
  let maxLatenessMs = 0;
  for (const stream of record.streams) {
    framesReceived += stream.playout.framesReceived;
    lateFrames += stream.playout.lateFrames;
    maxLatenessMs = Math.max(maxLatenessMs, stream.playout.maxLatenessMs);
  }
  return { framesReceived, lateFrames, maxLatenessMs };
}
