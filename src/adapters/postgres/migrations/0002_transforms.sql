-- EXIF orientation as stored (1 = upright); width/height are the oriented (display) size.
ALTER TABLE images ADD COLUMN orientation smallint NOT NULL DEFAULT 1 CHECK (orientation BETWEEN 1 AND 8);
-- A derived image remembers its source and the canonical pipeline that made it.
ALTER TABLE images ADD COLUMN source_id uuid REFERENCES images (id) ON DELETE SET NULL;
ALTER TABLE images ADD COLUMN pipeline jsonb;

-- Rendered variants served by GET /v1/images/{id}/render, keyed by the canonical pipeline.
CREATE TABLE render_cache (
  image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  cache_key  text NOT NULL,
  format     text NOT NULL,
  width      integer NOT NULL,
  height     integer NOT NULL,
  sha256     text NOT NULL REFERENCES blobs (sha256),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, cache_key)
);

CREATE INDEX render_cache_sha256_idx ON render_cache (sha256);
