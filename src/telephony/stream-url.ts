/** Options shared by the carriers' stream-markup builders. */
export interface StreamUrlOptions {
  /**
   * Accept `ws://` as well as `wss://`. Real carriers require `wss://` (Twilio error 31922); the local sandbox runs
   * without TLS.
   * @default false
   */
  allowInsecure?: boolean;
}

/**
 * Checks a media WebSocket URL for a carrier stream element: `wss://` (or `ws://` when allowed), and no query string
 * or fragment — Twilio rejects query strings (31920/31922) and does not deliver them, so per-call data goes in the
 * path (the media token) or in stream parameters.
 */
export function assertStreamUrl(url: string, options: StreamUrlOptions = {}): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`stream URL is not a URL: ${url}`);
  }
  const schemeOk = parsed.protocol === 'wss:' || (options.allowInsecure === true && parsed.protocol === 'ws:');
  if (!schemeOk) throw new TypeError(`stream URL must use wss:// (got ${parsed.protocol}//)`);
  if (url.includes('?') || url.includes('#')) {
    throw new TypeError('stream URL must not carry a query string or fragment; put per-call data in the path or in parameters');
  }
}
