// Jobs: batches of image tasks run off the request, with retries, results and events.
export type { JobService } from "./job-service.ts";
export { jobsRoutes } from "./routes/index.ts";
export type { JobItemRecord, JobRecord } from "./types.ts";
