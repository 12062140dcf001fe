-- Issue 15, items 6 and 7. An item waiting for its next attempt after a failure is `retrying`
-- (it used to be `queued` again, with an error beside it, which read as "never ran"); a
-- notification that only reached the email outbox (no SMTP_URL) is `outboxed`, not `sent`.
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check
  CHECK (status IN ('queued', 'retrying', 'running', 'succeeded', 'failed', 'canceled'));
UPDATE job_items SET status = 'retrying' WHERE status = 'queued' AND attempts > 0;

-- The claim's predicate names the new state: the partial index must say the same to be used.
DROP INDEX job_items_claim_idx;
CREATE INDEX job_items_claim_idx ON job_items (next_attempt_at, job_id, position)
  WHERE status IN ('queued', 'retrying', 'running');

ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'outboxed', 'failed'));
UPDATE notifications n SET status = 'outboxed'
WHERE status = 'sent' AND channel = 'email'
  AND EXISTS (SELECT 1 FROM email_outbox o WHERE o.notification_id = n.id);
