import type { WebSocket } from 'ws';
import { isFinalCallStatus } from '../../call-status.ts';
import type { CallSummary } from '../../store/index.ts';
import { detectMediaStream, type DetectedMediaStream } from '../../transports/detect-media-stream.ts';
import { WebSocketMediaChannel, type MediaWatchdogOptions } from '../../transports/websocket-media-channel.ts';
import { messageOf, type CallDeps } from './call-deps.ts';
import type { LiveCalls } from './live-calls.ts';
import type { MediaTokens } from './media-tokens.ts';

export type MediaAuthorization = { ok: true; callId: string } | { ok: false; reason: string };

/** WebSocket close code for a stream we refuse (policy violation): a bad start message, the wrong call. */
export const CLOSE_REFUSED = 1008;
/** WebSocket close code when the server goes away with the socket still open. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * Checks a media socket's token before the upgrade and claims the call for this socket in the same step: the call
 * id, or a reason to refuse (403). A second socket with the same token, even one opened at the same moment, finds
 * the call claimed and is refused.
 */
export function authorizeMediaSocket(
  deps: Pick<CallDeps, 'store'>,
  tokens: MediaTokens,
  live: LiveCalls,
  token: string | undefined,
): MediaAuthorization {
  if (!token) return { ok: false, reason: 'media token missing from the socket URL' };
  const verified = tokens.verify(token);
  if (!verified.ok) return { ok: false, reason: `media token ${verified.reason}` };
  const record = deps.store.getCallSummary(verified.callId);
  if (!record) return { ok: false, reason: `media token names an unknown call` };
  if (isFinalCallStatus(record.status)) return { ok: false, reason: `call already ${record.status}` };
  if (!live.claim(verified.callId)) return { ok: false, reason: 'a media stream is already connected for this call' };
  return { ok: true, callId: verified.callId };
}

/** What the media socket tells the rest of the server. */
export interface MediaSocketHooks {
  /** The start message was accepted: the session is about to run (stops the media-start watchdog). */
  started(callId: string): void;
  /** The stream was refused: end the call with `reason` (failed, carrier leg hung up). */
  refused(callId: string, reason: string): Promise<void>;
}

export interface MediaSocketOptions {
  /** How long an accepted socket may take to send its carrier's start message. @default 5000 */
  startTimeoutMs?: number;
  /** Pings and the inbound-media watchdog of each stream (see {@link MediaWatchdogOptions}). */
  watchdog?: MediaWatchdogOptions;
}

/** Closes with a reason cut to the 123 bytes a close frame holds. */
export function closeWithReason(socket: WebSocket, code: number, reason: string): void {
  const text = Buffer.from(reason, 'utf8')
    .subarray(0, 123)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  try {
    socket.close(code, text);
  } catch {
    socket.terminate();
  }
  // A peer that never answers the close frame is dropped.
  setTimeout(() => socket.terminate(), 2000).unref();
}

/** Why a recognised start message cannot run this call, or `null` when it can. */
function startProblem(detected: DetectedMediaStream, record: CallSummary): string | null {
  if (detected.carrier !== record.carrier) return `carrier mismatch: a ${detected.carrier} stream for a ${record.carrier} call`;
  if (record.carrierCallId && detected.carrierCallId !== record.carrierCallId) {
    return 'carrier call id mismatch: the start message names another call than the media token';
  }
  if (detected.formatProblem) return detected.formatProblem;
  return null;
}

/**
 * Runs the agent on an accepted carrier media socket: recognises the carrier from its first messages (it must be
 * the call's carrier, for the call the token was issued for, in a supported format), wraps the socket as a media
 * channel and runs the call on it. Anything else closes the socket with 1008 and the reason, and ends the call.
 */
export async function runMediaSocket(
  deps: CallDeps,
  live: LiveCalls,
  callId: string,
  socket: WebSocket,
  hooks: MediaSocketHooks,
  options: MediaSocketOptions = {},
): Promise<void> {
  const { store } = deps;
  const log = deps.log.child({ callId });
  live.attachClaim(callId, (code, reason) => closeWithReason(socket, code, reason));
  const refuse = async (reason: string, fields: Record<string, unknown> = {}): Promise<void> => {
    live.release(callId);
    log.warn({ ...fields, reason }, 'media stream refused');
    store.addEvent(callId, 'media.rejected', { reason });
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) closeWithReason(socket, CLOSE_REFUSED, reason);
    await hooks.refused(callId, reason);
  };
  let detected: DetectedMediaStream;
  try {
    detected = await detectMediaStream(socket, deps.carriers.mediaProtocols(), {
      ...(options.startTimeoutMs !== undefined ? { timeoutMs: options.startTimeoutMs } : {}),
    });
  } catch (error) {
    if (!live.has(callId)) return; // shutdown or the media-start watchdog closed it and ended the call
    await refuse(`no recognisable start message: ${messageOf(error)}`);
    return;
  }
  const record = store.getCallSummary(callId);
  if (!record || isFinalCallStatus(record.status)) {
    detected.release();
    live.release(callId);
    closeWithReason(socket, CLOSE_REFUSED, `call already ${record?.status ?? 'gone'}`);
    return;
  }
  const problem = startProblem(detected, record);
  if (problem) {
    detected.release();
    await refuse(problem, { detected: detected.carrier, carrierCallId: detected.carrierCallId });
    return;
  }
  if (!record.carrierCallId) store.setCarrierCallId(callId, detected.carrierCallId);
  const channel = new WebSocketMediaChannel(socket, detected, { callId, logger: log, ...(options.watchdog ?? {}) });
  store.addEvent(callId, 'media.connected', { streamId: detected.streamId, carrierCallId: detected.carrierCallId });
  log.info({ carrier: detected.carrier, streamId: detected.streamId }, 'media stream connected');
  hooks.started(callId);
  await live.run(callId, channel);
}
