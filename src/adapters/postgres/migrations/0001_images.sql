-- Image bytes are content-addressed: identical uploads share one blob.
CREATE TABLE blobs (
  sha256     text PRIMARY KEY,
  byte_size  bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A blob's bytes in pieces of at most 1 MiB, so that no single query carries (and no process
-- holds, hex-encoded, as postgres.js sends bytea) a whole 25 MB file.
CREATE TABLE blob_chunks (
  sha256 text NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
  seq    integer NOT NULL,
  bytes  bytea NOT NULL,
  PRIMARY KEY (sha256, seq)
);

CREATE TABLE images (
  id         uuid PRIMARY KEY,
  -- Filled once accounts exist; NULL means "no owner yet".
  owner_id   uuid,
  filename   text,
  format     text NOT NULL,
  width      integer NOT NULL CHECK (width > 0),
  height     integer NOT NULL CHECK (height > 0),
  byte_size  bigint NOT NULL,
  sha256     text NOT NULL REFERENCES blobs (sha256),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX images_sha256_idx ON images (sha256);
