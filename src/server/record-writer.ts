import type { Logger } from '../log.ts';
import type { CallStore } from '../store/index.ts';

/**
 * Writes a live call's record behind the real-time path: turns and events queued during one event-loop
 * turn are committed together on the next one, in order, as one transaction. A barge-in decision or a
 * playback acknowledgement then never waits on SQLite, and many calls' writes share a commit. The delay is
 * one event-loop turn, so a crash can lose only what was queued in that instant.
 */
export class RecordWriter {
  private queue: Array<() => void> = [];
  private scheduled = false;

  constructor(
    private readonly store: CallStore,
    private readonly log: Logger,
  ) {}

  /** Queues a write. Each write is isolated: one failing (e.g. bad input) is logged and the others commit. */
  write(write: () => void): void {
    this.queue.push(write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything queued now (before reading a record back, and at shutdown). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const writes = this.queue;
    this.queue = [];
    try {
      this.store.batch(() => {
        for (const write of writes) {
          try {
            write();
          } catch (error) {
            this.log.error({ err: error }, 'call record write failed');
          }
        }
      });
    } catch (error) {
      this.log.error({ err: error, writes: writes.length }, 'call record batch failed');
    }
  }
}
