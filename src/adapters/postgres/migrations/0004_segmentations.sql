-- A segmentation of an image: its parameters, what it found, and its label map (0 = background),
-- little-endian uint32 per pixel, zlib-compressed. It goes with its image.
CREATE TABLE segmentations (
  id           uuid PRIMARY KEY,
  image_id     uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  owner_id     uuid,
  method       text NOT NULL,
  params       jsonb NOT NULL,
  thresholds   jsonb NOT NULL,
  width        integer NOT NULL,
  height       integer NOT NULL,
  region_count integer NOT NULL,
  regions      jsonb NOT NULL,
  labels       bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX segmentations_image_idx ON segmentations (image_id, id);

-- An analysis restricted to a segmentation's mask goes when that segmentation goes.
ALTER TABLE analysis_cache ADD COLUMN segmentation_id uuid REFERENCES segmentations (id) ON DELETE CASCADE;
