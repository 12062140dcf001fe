-- Accounts. Emails are stored lower-cased, so the unique constraint is case-insensitive.
CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  -- A PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash
  password_hash text NOT NULL,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  -- Set: every token and key of the user stops working at once.
  disabled_at   timestamptz,
  -- Access tokens issued (iat) before this second are refused: set on a password change.
  tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity',
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- What each user stores (originals and derived images), so a quota check reads one row rather
-- than summing the user's images.
CREATE TABLE user_usage (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  bytes   bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  images  integer NOT NULL DEFAULT 0 CHECK (images >= 0)
);

-- API keys are kept only as a SHA-256 of the key; `prefix` is what listings show.
CREATE TABLE api_keys (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       text NOT NULL,
  prefix     text NOT NULL,
  key_hash   text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX api_keys_user_idx ON api_keys (user_id, id);

-- The JWT signing key made when JWT_KEYS is not set (the zero-setup start): kept here so that
-- tokens survive a restart and instances sharing the database agree.
CREATE TABLE signing_keys (
  kid        text PRIMARY KEY,
  secret     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Ownership. NULL owner: a record from before accounts, visible to admins only.
ALTER TABLE images ADD CONSTRAINT images_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id);
CREATE INDEX images_owner_idx ON images (owner_id, id);
ALTER TABLE segmentations
  ADD CONSTRAINT segmentations_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id);
CREATE INDEX segmentations_owner_idx ON segmentations (owner_id, id);

-- Usage follows the images table by trigger, whichever code inserts or deletes an image (uploads,
-- transforms, jobs), in the same transaction. The row lock the update takes also serialises one
-- user's concurrent uploads, so their quota check after the insert sees the others' bytes.
CREATE FUNCTION images_track_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.owner_id IS NOT NULL THEN
      UPDATE user_usage SET bytes = bytes - OLD.byte_size, images = images - 1
      WHERE user_id = OLD.owner_id;
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NEW.owner_id IS NOT NULL THEN
      INSERT INTO user_usage AS u (user_id, bytes, images) VALUES (NEW.owner_id, NEW.byte_size, 1)
      ON CONFLICT (user_id) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes, images = u.images + 1;
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER images_track_usage AFTER INSERT OR DELETE OR UPDATE OF owner_id, byte_size ON images
  FOR EACH ROW EXECUTE FUNCTION images_track_usage();
