/** A small server-sent-events reader for tests: opens a stream with fetch and collects its messages. */

export interface SseMessage {
  event: string;
  data: unknown;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  ended = false;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly status: number,
    private readonly controller: AbortController,
  ) {}

  /** Opens `url`; resolves once the response headers arrived (`status` tells whether the stream started). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    const client = new SseClient(response.status, controller);
    if (response.ok && response.body) void client.pump(response.body);
    else await response.body?.cancel();
    return client;
  }

  /** The first message (from `from` on) that matches, waiting for it up to `timeoutMs`. */
  async next(match: (message: SseMessage) => boolean, timeoutMs = 5000, from = 0): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without a matching message; got ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Messages of one event type. */
  of(event: string): unknown[] {
    return this.messages.filter((m) => m.event === event).map((m) => m.data);
  }

  close(): void {
    this.controller.abort();
  }

  private describe(): string {
    return this.messages.map((m) => m.event).join(', ') || 'nothing';
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) this.messages.push({ event, data: JSON.parse(data.join('\n')) as unknown });
        }
        this.wake();
      }
    } catch {
      // aborted by close(), or the server closed the stream
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
