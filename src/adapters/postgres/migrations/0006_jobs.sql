-- Background jobs: one task (transform, histogram or segmentation) over a batch of images.
-- Counters live on the job row, updated in the transaction that finishes each item, so the row
-- lock serialises concurrent completions and the final status is written exactly once.
CREATE TABLE jobs (
  id                  uuid PRIMARY KEY,
  -- The user who submitted it; null for a job made by the operator (a script), never by the API.
  owner_id            uuid REFERENCES users (id),
  kind                text NOT NULL CHECK (kind IN ('transform', 'histogram', 'segmentation')),
  -- The validated task spec, e.g. {"transform": {"operations": [...], "format": "webp"}}.
  params              jsonb NOT NULL,
  -- The submitter's email choice for this job (`notify`), over their preference; null: theirs.
  notify              text CHECK (notify IN ('always', 'failure', 'never')),
  status              text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'partially_failed', 'failed', 'canceled')),
  total               integer NOT NULL CHECK (total > 0),
  done                integer NOT NULL DEFAULT 0,
  failed              integer NOT NULL DEFAULT 0,
  canceled            integer NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz,
  cancel_requested_at timestamptz,
  error               text,
  CHECK (done + failed + canceled <= total),
  CHECK ((finished_at IS NULL) = (status IN ('queued', 'running')))
);

CREATE INDEX jobs_owner_idx ON jobs (owner_id, id);

CREATE TABLE job_items (
  id              uuid PRIMARY KEY,
  job_id          uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  position        integer NOT NULL,
  -- No foreign key: an image deleted before its turn makes its item fail, not the job vanish.
  image_id        uuid NOT NULL,
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
  -- Executions started; a retry or a redelivery after a crash is one more.
  attempts        integer NOT NULL DEFAULT 0,
  -- The derived image, segmentation, or (for a histogram) the analysed image.
  result_id       uuid,
  result_kind     text CHECK (result_kind IN ('image', 'segmentation', 'histogram')),
  error           text,
  -- The in-process transport's lease: a claim whose lease ran out (its process died) is taken again.
  locked_until    timestamptz,
  claimed_by      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  UNIQUE (job_id, position),
  -- A result exactly when succeeded: the result is written by the statement that marks it so.
  CHECK ((status = 'succeeded') = (result_id IS NOT NULL AND result_kind IS NOT NULL))
);

-- No two items, of any job, claim the same derived image or segmentation; a histogram's result is
-- its image, which the same job lists at most once (a job's image ids are distinct).
CREATE UNIQUE INDEX job_items_result_idx ON job_items (result_id) WHERE result_kind <> 'histogram';
CREATE UNIQUE INDEX job_items_job_image_idx ON job_items (job_id, image_id);
-- What the in-process transport claims: unfinished items, oldest due first.
CREATE INDEX job_items_due_idx ON job_items (next_attempt_at) WHERE status IN ('queued', 'running');

-- Messages to publish, committed with the state change that causes them; a relay publishes them
-- in id order and stamps published_at once the broker confirmed them.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  topic        text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- What a job's event stream replays: the id is the SSE event id (Last-Event-ID resumes after it).
CREATE TABLE job_events (
  id         bigserial PRIMARY KEY,
  job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  type       text NOT NULL CHECK (type IN ('progress', 'item', 'done')),
  data       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX job_events_job_idx ON job_events (job_id, id);
