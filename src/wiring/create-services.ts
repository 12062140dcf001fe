import { type Config, type JobSettings, loadConfig } from "../config/config.ts";
import type { Services } from "../http/env.ts";
import { assembleServices, type ServiceDeps } from "./assemble-services.ts";
import { createJobRuntime, type JobRuntime, type NotifyOptions } from "./job-runtime.ts";

/** The services, and the loops behind them that the hosting process starts and stops. */
export type ServicesWithBackground = Services & { background: JobRuntime };

/**
 * Wires the use cases to a database and a spool; shared by the Bun runtime and the tests.
 * Jobs and notifications take the environment's defaults (in-process, outbox) unless given.
 * Nothing runs in the background until `background.start()`. The edge entry, which has no queue
 * client, mailer or node:* module, assembles its services without this job runtime.
 */
export function createServices(
  deps: ServiceDeps & { jobs?: JobSettings; notify?: NotifyOptions },
): ServicesWithBackground {
  let defaults: Config | undefined;
  const fallback = () => {
    defaults ??= loadConfig({});
    return defaults;
  };
  return assembleServices(deps, (useCases) => {
    const background = createJobRuntime({
      db: deps.db,
      logger: deps.logger,
      role: "api",
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      settings: deps.jobs ?? fallback().jobs,
      services: useCases,
      notify: deps.notify ?? {
        publicUrl: fallback().publicUrl,
        settings: fallback().notifications,
        webhooks: fallback().webhooks,
      },
    });
    return {
      jobs: {
        store: background.jobs.store,
        submit: (input) => background.jobs.submit(input),
        results: background.results,
        notifications: background.notify.notifications,
        webhooks: background.notify.webhooks,
      },
      background,
    };
  });
}
