import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  Registry,
} from "prom-client";
import type { Metrics } from "../../platform/metrics.ts";

/**
 * The Metrics port over prom-client, one registry per process, with prom-client's process
 * metrics (CPU, resident memory, event-loop lag, heap) beside Pictor's. An instrument asked for
 * twice (two services built in one process) is the one registered first, not a duplicate, which
 * prom-client would refuse.
 *
 * @example
 * const metrics = createPrometheusMetrics();
 * metrics.counter({ name: "pictor_upload_bytes_total", help: "…", labelNames: [] }).inc({}, 1024);
 * const { contentType, body } = (await metrics.expose())!;
 */
export function createPrometheusMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  function once<M extends Metric<string>>(name: string, make: () => M): M {
    return (registry.getSingleMetric(name) as M | undefined) ?? make();
  }

  return {
    counter({ name, help, labelNames }) {
      const counter = once(
        name,
        () => new Counter({ name, help, labelNames: [...labelNames], registers: [registry] }),
      );
      return { inc: (labels, by = 1) => counter.inc(labels, by) };
    },
    histogram({ name, help, labelNames, buckets }) {
      const histogram = once(
        name,
        () =>
          new Histogram({
            name,
            help,
            labelNames: [...labelNames],
            buckets: [...buckets],
            registers: [registry],
          }),
      );
      return { observe: (labels, value) => histogram.observe(labels, value) };
    },
    gauge({ name, help, labelNames, read }) {
      once(
        name,
        () =>
          new Gauge({
            name,
            help,
            labelNames: [...labelNames],
            registers: [registry],
            async collect() {
              const readings = await read();
              // Series that are gone (a state with no item left) are dropped, not kept stale.
              this.reset();
              for (const { labels, value } of readings) this.set(labels, value);
            },
          }),
      );
    },
    async expose() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
