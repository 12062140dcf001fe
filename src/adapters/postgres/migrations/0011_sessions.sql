-- The web app's sign-ins: a session cookie carries a random token, kept here only as its SHA-256
-- (like API keys), so a copy of the table signs nobody in. Logging out deletes the row.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user_idx ON sessions (user_id, expires_at);
