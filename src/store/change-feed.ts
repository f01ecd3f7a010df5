/**
 * The call store's change feed: an in-process emitter told about every committed write, so live views (the
 * dashboard's server-sent events) follow calls as they happen instead of polling.
 *
 * The store calls one listener after each commit (a write inside `batch` is reported when the batch commits;
 * a rolled-back write is never reported). The feed fans that out to any number of subscribers. Subscribers run
 * synchronously on the writer's stack, so they must only queue work (the SSE hub queues and sends on the next
 * event-loop turn); a subscriber that throws is logged and does not affect the write or the other subscribers.
 */
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { CallEvent, CallTurn } from './types.ts';

/** One committed change to a call's record. */
export type CallChange =
  /** The call's summary changed (created, status, carrier id, metadata, latency summary, recording): read it with `getCallSummary`. */
  | { kind: 'call'; callId: string }
  /** A turn was added or changed; `turn` is its state after the write. */
  | { kind: 'turn'; callId: string; turn: CallTurn }
  /** An event was appended. */
  | { kind: 'event'; callId: string; event: CallEvent };

export type CallChangeListener = (change: CallChange) => void;

/** What the feed hooks into: something that reports its committed changes to one listener (the call store). */
export interface CallChangeSource {
  setChangeListener(listener: CallChangeListener | undefined): void;
}

export class CallChangeFeed {
  private readonly subscribers = new Set<CallChangeListener>();

  constructor(private readonly log: Pick<Logger, 'error'> = silentLogger()) {}

  /** Calls `subscriber` with every change from now on; returns the unsubscribe function. */
  subscribe(subscriber: CallChangeListener): () => void {
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Tells every subscriber about `change` (the store's listener). */
  readonly publish = (change: CallChange): void => {
    for (const subscriber of this.subscribers) {
      try {
        subscriber(change);
      } catch (error) {
        this.log.error({ err: error, callId: change.callId, change: change.kind }, 'change feed subscriber failed');
      }
    }
  };
}

const feeds = new WeakMap<CallChangeSource, CallChangeFeed>();

/**
 * The change feed of `store`, created and hooked in as the store's listener on first use, so every route
 * that needs live changes shares one feed. `log` (used for failing subscribers) is taken from the first call.
 */
export function changeFeedOf(store: CallChangeSource, log?: Pick<Logger, 'error'>): CallChangeFeed {
  let feed = feeds.get(store);
  if (!feed) {
    feed = new CallChangeFeed(log);
    feeds.set(store, feed);
    store.setChangeListener(feed.publish);
  }
  return feed;
}
