/** Label values of one series, by label name. */
export type LabelValues<L extends string> = { readonly [K in L]: string };

/** A count that only goes up (requests, bytes, cache hits). */
export interface Counter<L extends string = never> {
  inc(labels: LabelValues<L>, by?: number): void;
}

/** Observed values (durations, sizes) counted into buckets, with their sum and count. */
export interface Histogram<L extends string = never> {
  observe(labels: LabelValues<L>, value: number): void;
}

/** One gauge series' value, read when the metrics are scraped. */
export type GaugeReading<L extends string> = { labels: LabelValues<L>; value: number };

type Described<L extends string> = {
  /** Prometheus name: `pictor_…`, `_total` for counters, the unit last (`_seconds`, `_bytes`). */
  name: string;
  help: string;
  labelNames: readonly L[];
};

/**
 * Where a process's measurements go: Prometheus in the Bun processes (see
 * adapters/node/prometheus-metrics.ts), nowhere on the edge and in most tests. Code that measures
 * asks for its instruments here once, at construction; the same name asked twice gives the same
 * series.
 */
export interface Metrics {
  counter<L extends string = never>(spec: Described<L>): Counter<L>;
  histogram<L extends string = never>(
    spec: Described<L> & { buckets: readonly number[] },
  ): Histogram<L>;
  /** A value that goes up and down (a queue's depth), read from `read` at each scrape. */
  gauge<L extends string = never>(
    spec: Described<L> & { read: () => GaugeReading<L>[] | Promise<GaugeReading<L>[]> },
  ): void;
  /** The exposition (Prometheus text format), or null where nothing is exported. */
  expose(): Promise<{ contentType: string; body: string } | null>;
}

/** Seconds, from a fast in-process step (1 ms) to a request that waits for a big render (60 s). */
export const DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** Measures nothing: the edge (no prom-client there), tests, and anything built without metrics. */
export const noopMetrics: Metrics = {
  counter: () => ({ inc() {} }),
  histogram: () => ({ observe() {} }),
  gauge() {},
  expose: async () => null,
};
