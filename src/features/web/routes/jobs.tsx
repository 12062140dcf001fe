/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { isUuid } from "../../../core/lib/uuid.ts";
import type { AppEnv } from "../../../http/env.ts";
import { ApiError } from "../../../platform/api-error.ts";
import type { JobItemRecord, JobRecord } from "../../jobs/index.ts";
import { Layout } from "../layout.tsx";
import { page, viewerEmail } from "../respond.tsx";
import { signedIn } from "../session.ts";

const FINISHED = new Set(["succeeded", "partially_failed", "failed", "canceled"]);
// A job page lists this many items; results.zip has them all.
const ITEMS_SHOWN = 500;

const Status = (props: { status: string; id?: string }) => (
  <span class={`status ${props.status}`} id={props.id}>
    {props.status.replace("_", " ")}
  </span>
);

function resultLink(item: JobItemRecord) {
  if (!item.result_id) return null;
  if (item.result_kind === "image") return <a href={`/images/${item.result_id}`}>new image</a>;
  return <span class="note">{item.result_kind}</span>;
}

function JobsPage(props: { email: string; jobs: JobRecord[] }) {
  return (
    <Layout title="Jobs" page="jobs" email={props.email} current="jobs">
      <section class="panel">
        <h1>Jobs</h1>
        {props.jobs.length === 0 ? (
          <p class="empty">
            No jobs yet: choose images in the <a href="/">gallery</a> and start one.
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Task</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Submitted</th>
              </tr>
            </thead>
            <tbody>
              {props.jobs.map((job) => (
                <tr>
                  <td>
                    <a href={`/jobs/${job.id}`}>{job.id.slice(-12)}</a>
                  </td>
                  <td>{job.kind}</td>
                  <td>
                    <Status status={job.status} />
                  </td>
                  <td>
                    {job.progress.percent} % of {job.progress.total}
                  </td>
                  <td>{new Date(job.created_at).toUTCString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Layout>
  );
}

function JobPage(props: { email: string; job: JobRecord; items: JobItemRecord[] }) {
  const { job } = props;
  const finished = FINISHED.has(job.status);
  return (
    <Layout title={`Job ${job.id.slice(-12)}`} page="job" email={props.email} current="jobs">
      <section class="panel" id="job" data-id={job.id} data-finished={String(finished)}>
        <h1>
          {job.kind} job <Status status={job.status} id="job-status" />
        </h1>
        <div class="bar">
          <progress
            id="job-progress"
            max="100"
            value={job.progress.percent}
            aria-label="Job progress"
          />
          <span id="job-percent">{job.progress.percent} %</span>
        </div>
        <p id="results" hidden={!finished}>
          <a class="button" href={`/v1/jobs/${job.id}/results.zip`} id="results-link">
            Download results.zip
          </a>
        </p>
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Image</th>
              <th>Status</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((item) => (
              <tr id={`item-${item.position}`}>
                <td>{item.position + 1}</td>
                <td>
                  <a href={`/images/${item.image_id}`}>{item.image_id.slice(-12)}</a>
                </td>
                <td class="item-status">
                  <Status status={item.status} /> {item.error}
                </td>
                <td>{resultLink(item)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>
  );
}

/** `/jobs` (the user's jobs) and `/jobs/{id}` (one job, followed live by its event stream). */
export function registerJobPages(web: Hono<AppEnv>) {
  web.get("/jobs", signedIn(), async (c) => {
    const jobs = await c.var.services.jobs.list(c.var.principal, { limit: 100 });
    return page(c, <JobsPage email={await viewerEmail(c)} jobs={jobs.items} />);
  });
  web.get("/jobs/:id", signedIn(), async (c) => {
    const id = c.req.param("id");
    if (!isUuid(id)) throw new ApiError("not_found", `No job with id ${id}`);
    const job = await c.var.services.jobs.get(c.var.principal, id);
    const items = await c.var.services.jobs.items(c.var.principal, id, { limit: ITEMS_SHOWN });
    return page(c, <JobPage email={await viewerEmail(c)} job={job} items={items.items} />);
  });
}
