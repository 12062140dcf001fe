-- The rate limits' fixed windows, shared by every API instance on this database (with
-- DATABASE_URL and no REDIS_URL): one row per limited key while its window lasts. The embedded
-- database keeps its counters in memory and never writes here.
CREATE TABLE rate_limit_windows (
  key text PRIMARY KEY,
  count integer NOT NULL,
  reset_at timestamptz NOT NULL
);
