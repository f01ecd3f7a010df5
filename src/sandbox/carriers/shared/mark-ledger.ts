/**
 * Keeps a stream's mark records (`StreamRecord.marks`) and settles them as the carrier acknowledges or drops
 * them. Marks settle in the order they were queued, so the lookup is at the head of a short pending list
 * even on long calls with a mark per word.
 */
import type { MarkRecord } from './call-record.ts';

export class MarkLedger {
  private pending: MarkRecord[] = [];

  constructor(private readonly records: MarkRecord[]) {}

  add(name: string, receivedAt: number): void {
    const record: MarkRecord = { name, receivedAt, ackedAt: null, outcome: 'pending' };
    this.records.push(record);
    this.pending.push(record);
  }

  /** Settles the oldest pending mark called `name`; `ackedAt` null when the carrier sent nothing. */
  settle(name: string, outcome: 'played' | 'cleared', ackedAt: number | null): void {
    const index = this.pending.findIndex((m) => m.name === name);
    if (index < 0) return;
    const [record] = this.pending.splice(index, 1) as [MarkRecord];
    record.outcome = outcome;
    record.ackedAt = ackedAt;
  }
}
