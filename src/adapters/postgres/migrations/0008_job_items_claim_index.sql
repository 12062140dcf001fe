-- The in-process claim orders due items by (next_attempt_at, job_id, position). An index on
-- next_attempt_at alone left Postgres to sort every due item for each claim of one: with all the
-- items of a 10 000-image job due at once, 2.8 ms per claim against 0.04 ms with this index.
CREATE INDEX job_items_claim_idx ON job_items (next_attempt_at, job_id, position)
  WHERE status IN ('queued', 'running');
DROP INDEX job_items_due_idx;
