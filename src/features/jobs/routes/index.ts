import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { validationHook } from "../../../http/validation.ts";
import { registerCancelJob } from "./cancel.ts";
import { registerCreateJob } from "./create.ts";
import { registerJobEvents } from "./events.ts";
import { registerGetJob } from "./get.ts";
import { registerListJobItems } from "./items.ts";
import { registerListJobs } from "./list.ts";
import { registerJobResults } from "./results.ts";

/** The jobs resource, mounted at /v1/jobs. */
export function jobsRoutes() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  registerCreateJob(app);
  registerListJobs(app);
  registerGetJob(app);
  registerListJobItems(app);
  registerCancelJob(app);
  registerJobResults(app);
  registerJobEvents(app);
  return app;
}
