-- Notifications of finished jobs (issue 7): preferences, webhooks, the deliveries themselves and
-- the outbox that stands in for SMTP when SMTP_URL is unset.
-- owner_id and job_id refer to users (0005) and jobs (0006); they carry no foreign key here so
-- that this migration does not depend on those tables' exact shape.

CREATE TABLE notification_preferences (
  owner_id   uuid PRIMARY KEY,
  email      text NOT NULL DEFAULT 'always' CHECK (email IN ('always', 'failure', 'never')),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The secret is kept as is: it is the HMAC key of every delivery, so it cannot be hashed.
CREATE TABLE webhooks (
  id         uuid PRIMARY KEY,
  owner_id   uuid NOT NULL,
  url        text NOT NULL,
  events     text[] NOT NULL CHECK (cardinality(events) > 0),
  secret     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);

-- One row per (job, channel, target): a job's email is created once, whoever reports the job
-- finished and however often. `payload` is the job summary at that moment, so a delivery needs
-- nothing else. `sending` rows belong to a dispatcher until `lease_until`; `attempts` counts
-- claims and fences late writers.
CREATE TABLE notifications (
  id              uuid PRIMARY KEY,
  job_id          uuid NOT NULL,
  owner_id        uuid NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
  target          text NOT NULL,
  event           text NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_id, channel, target)
);
CREATE INDEX notifications_due ON notifications (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_leased ON notifications (lease_until) WHERE status = 'sending';

CREATE TABLE email_outbox (
  id              uuid PRIMARY KEY,
  owner_id        uuid,
  notification_id uuid,
  message_id      text NOT NULL UNIQUE,
  sender          text NOT NULL,
  recipient       text NOT NULL,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  attachments     jsonb NOT NULL DEFAULT '[]',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_outbox_owner ON email_outbox (owner_id, id);
