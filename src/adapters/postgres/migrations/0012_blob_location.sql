-- Where a blob's bytes live: in blob_chunks beside its row ('postgres'), or in the object store
-- (S3, MinIO, R2) under blobs/<sha256> ('object'). move-blobs switches it once a copy is verified.
ALTER TABLE blobs ADD COLUMN location text NOT NULL DEFAULT 'postgres'
  CHECK (location IN ('postgres', 'object'));

-- move-blobs walks the blobs of one location.
CREATE INDEX blobs_location_idx ON blobs (location, sha256);
