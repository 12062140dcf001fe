-- Image bytes are content-addressed: identical uploads share one blob row.
CREATE TABLE blobs (
  sha256     text PRIMARY KEY,
  bytes      bytea NOT NULL,
  byte_size  bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
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
