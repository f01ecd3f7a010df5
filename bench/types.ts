/** One measured figure printed by `npm run bench`. */
export interface BenchRow {
  /** What was measured, e.g. "μ-law decode+encode per 20 ms @ 8 kHz". */
  name: string;
  value: number;
  /** Unit of `value`, e.g. "µs", "frames/s". */
  unit: string;
}

/** A group of micro-benchmarks; each module under bench/ exports one. */
export type BenchSuite = () => Promise<BenchRow[]>;
