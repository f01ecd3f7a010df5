import type { WebSocket } from 'ws';
import { isFinalCallStatus } from '../../call-status.ts';
import type { CallSummary } from '../../store/index.ts';
import { detectMediaStream } from '../../transports/detect-media-stream.ts';
import { WebSocketMediaChannel } from '../../transports/websocket-media-channel.ts';
import { messageOf, type CallDeps } from './call-deps.ts';
import type { LiveCalls } from './live-calls.ts';
import type { MediaTokens } from './media-tokens.ts';

export type MediaAuthorization = { ok: true; callId: string } | { ok: false; reason: string };

/** Checks a media socket's token before the upgrade: the call id, or a reason to refuse (403). */
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
  if (live.has(verified.callId)) return { ok: false, reason: 'a media stream is already connected for this call' };
  if (isFinalCallStatus(record.status)) return { ok: false, reason: `call already ${record.status}` };
  return { ok: true, callId: verified.callId };
}

/**
 * Runs the agent on an accepted carrier media socket: recognises the carrier from its first messages (it must be
 * the call's carrier), wraps the socket as a media channel and runs the call on it.
 */
export async function runMediaSocket(deps: CallDeps, live: LiveCalls, callId: string, socket: WebSocket): Promise<void> {
  const { store } = deps;
  const log = deps.log.child({ callId });
  let detected;
  try {
    detected = await detectMediaStream(socket, deps.carriers.mediaProtocols());
  } catch (error) {
    log.warn({ err: messageOf(error) }, 'media socket closed: no carrier start message');
    store.addEvent(callId, 'media.rejected', { reason: messageOf(error) });
    socket.close(1008, 'no recognisable start message');
    return;
  }
  const record = store.getCallSummary(callId) as CallSummary;
  if (detected.carrier !== record.carrier) {
    log.warn({ detected: detected.carrier, expected: record.carrier }, 'media socket from the wrong carrier');
    socket.close(1008, 'carrier mismatch');
    return;
  }
  const channel = new WebSocketMediaChannel(socket, detected, { callId, logger: log });
  store.addEvent(callId, 'media.connected', { streamId: detected.streamId, carrierCallId: detected.carrierCallId });
  log.info({ carrier: detected.carrier, streamId: detected.streamId }, 'media stream connected');
  await live.run(callId, channel);
}
