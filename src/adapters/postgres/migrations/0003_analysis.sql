-- Results of analyses (histograms now; palettes and more later), keyed by their canonical
-- parameters: a repeated request does no pixel work. They go with their image.
CREATE TABLE analysis_cache (
  image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  kind       text NOT NULL,
  params     text NOT NULL,
  result     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, kind, params)
);
