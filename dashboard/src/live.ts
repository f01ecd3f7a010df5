/**
 * Live state from the server's event streams (see src/server/routes/events.ts): the call list and one call,
 * each a snapshot followed by changes. EventSource reconnects by itself; each reconnection starts with a
 * fresh snapshot, so nothing is missed or doubled.
 */
import { useEffect, useReducer, useState } from 'preact/hooks';
import { api, type CallEvent, type CallPage, type CallRecord, type CallSummary, type CallTurn } from './api.ts';

/** `live`: streaming; `connecting`: (re)connecting; `closed`: refused (e.g. the session expired) or gone. */
export type StreamState = 'connecting' | 'live' | 'closed';

function useEventStream(url: string | null, handlers: Record<string, (data: unknown) => void>): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  useEffect(() => {
    if (url === null) return;
    setState('connecting');
    const source = new EventSource(url);
    source.onopen = () => setState('live');
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return setState('connecting');
      setState('closed');
      // Refused for good: if the session has expired, start again at the login.
      void api.session().then(
        (session) => session.authenticated || location.reload(),
        () => undefined,
      );
    };
    for (const [type, handle] of Object.entries(handlers)) {
      source.addEventListener(type, (event: MessageEvent<string>) => handle(JSON.parse(event.data) as unknown));
    }
    return () => source.close();
  }, [url]); // the handlers only dispatch to reducers, so a new render's handlers are equivalent

  return state;
}

// ── the call list ───────────────────────────────────────────────────────────────────────────────

export interface CallListState {
  calls: CallSummary[];
  nextCursor: string | null;
  loaded: boolean;
}

type ListAction = { type: 'page'; page: CallPage; replace: boolean } | { type: 'call'; call: CallSummary };

const newestFirst = (a: CallSummary, b: CallSummary) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

function listReducer(state: CallListState, action: ListAction): CallListState {
  if (action.type === 'page') {
    const known = action.replace ? [] : state.calls;
    const ids = new Set(known.map((c) => c.id));
    return {
      calls: [...known, ...action.page.calls.filter((c) => !ids.has(c.id))].sort(newestFirst),
      nextCursor: action.page.nextCursor,
      loaded: true,
    };
  }
  const others = state.calls.filter((c) => c.id !== action.call.id);
  return { ...state, calls: [action.call, ...others].sort(newestFirst) };
}

export function useCallList(): { list: CallListState; stream: StreamState; addPage: (page: CallPage) => void } {
  const [list, dispatch] = useReducer(listReducer, { calls: [], nextCursor: null, loaded: false });
  const stream = useEventStream('/calls/events', {
    calls: (page) => dispatch({ type: 'page', page: page as CallPage, replace: true }),
    call: (call) => dispatch({ type: 'call', call: call as CallSummary }),
  });
  return { list, stream, addPage: (page) => dispatch({ type: 'page', page, replace: false }) };
}

// ── one call ────────────────────────────────────────────────────────────────────────────────────

type CallAction =
  | { type: 'snapshot'; record: CallRecord }
  | { type: 'call'; call: CallSummary }
  | { type: 'turn'; turn: CallTurn }
  | { type: 'event'; event: CallEvent };

function callReducer(state: CallRecord | null, action: CallAction): CallRecord | null {
  if (action.type === 'snapshot') return action.record;
  if (state === null) return state;
  switch (action.type) {
    case 'call':
      return { ...state, ...action.call, turns: state.turns, events: state.events };
    case 'turn': {
      const turns = state.turns.filter((t) => t.index !== action.turn.index);
      return { ...state, turns: [...turns, action.turn].sort((a, b) => a.index - b.index) };
    }
    case 'event': {
      // Events are stamped when they happened and may arrive a moment out of order.
      const events = [...state.events, action.event];
      let i = events.length - 1;
      while (i > 0 && (events[i - 1] as CallEvent).at > action.event.at) {
        events[i] = events[i - 1] as CallEvent;
        i--;
      }
      events[i] = action.event;
      return { ...state, events };
    }
  }
}

export function useCall(id: string): { record: CallRecord | null; stream: StreamState } {
  const [record, dispatch] = useReducer(callReducer, null);
  const stream = useEventStream(`/calls/${encodeURIComponent(id)}/events`, {
    snapshot: (data) => dispatch({ type: 'snapshot', record: data as CallRecord }),
    call: (data) => dispatch({ type: 'call', call: data as CallSummary }),
    turn: (data) => dispatch({ type: 'turn', turn: data as CallTurn }),
    event: (data) => dispatch({ type: 'event', event: data as CallEvent }),
  });
  return { record, stream };
}
