import type { RawData, WebSocket } from 'ws';
import { SwitchboardError } from '../errors.ts';
import { isRecord, preview, type MediaStreamProtocol, type MediaStreamStart } from './media-serializer.ts';

export interface DetectMediaStreamOptions {
  /**
   * How long to wait for a recognisable start. Carriers send it right after the upgrade, so a socket silent this
   * long is not a carrier media stream.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Text messages to read before giving up (Twilio sends `connected` then `start`; Plivo only `start`).
   * @default the largest `maxMessagesBeforeStart` of the protocols (each defaults to 2)
   */
  maxMessages?: number;
}

/** A recognised carrier media stream, plus the messages detection read off the socket. */
export interface DetectedMediaStream extends MediaStreamStart {
  /** The protocol that recognised the stream (serializer, playback traits). */
  protocol: MediaStreamProtocol;
  /** The text messages detection consumed (Twilio `connected` + `start`, Plivo `start`), in order. */
  consumedMessages: readonly string[];
  /**
   * Hand the socket over: stops detection's buffering and returns the messages that arrived after the start message
   * (a `media` can share a TCP read with `start`). Call it once, synchronously where the next owner attaches its
   * own `message` listener, so nothing is lost.
   */
  release(): RawMessage[];
}

/** A WebSocket message as `ws` delivers it. */
export interface RawMessage {
  data: RawData;
  isBinary: boolean;
}

export type CarrierDetectionFailure = 'timeout' | 'unrecognised' | 'closed';

export class CarrierDetectionError extends SwitchboardError {
  declare readonly code: CarrierDetectionFailure;
  /** What arrived (each shortened), for the log line. */
  readonly received: readonly string[];
  constructor(code: CarrierDetectionFailure, message: string, received: readonly string[]) {
    super(message, { code });
    this.received = received;
  }
}

/**
 * Recognise one message as some carrier's stream start, asking each protocol in turn (Twilio: `event=start` +
 * `start.streamSid` + `start.callSid`; Plivo: `start.streamId` + `start.callId`, as Pipecat's
 * `parse_telephony_websocket`). Returns `null` for anything else (including Twilio's `connected`).
 */
export function recognizeStreamStart(
  text: string,
  protocols: readonly MediaStreamProtocol[],
): (MediaStreamStart & { protocol: MediaStreamProtocol }) | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(msg)) return null;
  for (const protocol of protocols) {
    const start = protocol.recognize(msg);
    if (start) return { ...start, protocol };
  }
  return null;
}

/**
 * Read the first text messages of a carrier media WebSocket and work out which carrier it is and which call.
 * Rejects with {@link CarrierDetectionError} on timeout, when `maxMessages` arrived without a start, or when the
 * socket closes first. Does not close the socket: the caller decides (e.g. close code 1008).
 */
export function detectMediaStream(
  socket: WebSocket,
  protocols: readonly MediaStreamProtocol[],
  options: DetectMediaStreamOptions = {},
): Promise<DetectedMediaStream> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxMessages = options.maxMessages ?? Math.max(2, ...protocols.map((p) => p.maxMessagesBeforeStart ?? 2));
  return new Promise((resolve, reject) => {
    const consumed: string[] = [];
    const later: RawMessage[] = [];
    let detected = false;
    let released = false;

    const onMessage = (data: RawData, isBinary: boolean): void => {
      if (detected) {
        later.push({ data, isBinary });
        return;
      }
      const text = isBinary ? null : rawToString(data);
      if (text !== null) consumed.push(text);
      const recognised = text === null ? null : recognizeStreamStart(text, protocols);
      if (recognised) {
        detected = true;
        clearTimeout(timer);
        socket.off('close', onClose);
        resolve({
          ...recognised,
          consumedMessages: consumed,
          release: () => {
            if (released) throw new Error('detectCarrier: release() called twice');
            released = true;
            socket.off('message', onMessage);
            socket.off('error', onError);
            return later.splice(0);
          },
        });
        return;
      }
      if (consumed.length >= maxMessages || isBinary) {
        fail(
          'unrecognised',
          isBinary ? 'binary frame before any carrier start message' : `no carrier start message in the first ${maxMessages} messages`,
        );
      }
    };
    const onClose = (code: number): void => fail('closed', `media socket closed (code ${code}) before a carrier start message`);
    // Kept until release(): an 'error' event without a listener would throw out of the socket.
    const onError = (error: Error): void => {
      if (!detected) fail('closed', `media socket error before a carrier start message: ${error.message}`);
    };
    const fail = (code: CarrierDetectionFailure, message: string): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      socket.off('error', onError);
      const received = consumed.map(preview);
      reject(new CarrierDetectionError(code, `${message}; received: ${received.length ? received.join(' | ') : 'nothing'}`, received));
    };
    const timer = setTimeout(() => fail('timeout', `no carrier start message within ${timeoutMs} ms`), timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/** Text of a `ws` message (Buffer, Buffer[] fragments or ArrayBuffer). */
export function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
