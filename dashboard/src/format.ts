/** Display helpers. */

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` : `${s} s`;
}

export function formatClock(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

/** `+12.3 s` after `start`. */
export function formatOffset(iso: string, start: string): string {
  const ms = Date.parse(iso) - Date.parse(start);
  return `${ms < 0 ? '−' : '+'}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

export function isLive(status: string): boolean {
  return status === 'queued' || status === 'ringing' || status === 'in-progress';
}
