-- Quotas count everything a user causes to be stored (issue 18): cached renderings, cached
-- analyses and segmentations count against their image owner's bytes, as derived images always
-- did. Each row carries its owner and size, so a trigger keeps user_usage exact whichever code
-- inserts or deletes it (a delete of the image cascades to them, and their triggers subtract).
ALTER TABLE render_cache ADD COLUMN owner_id uuid REFERENCES users (id);
-- The rendering's bytes; a blob shared by several rows counts once per row, as for images.
ALTER TABLE render_cache ADD COLUMN byte_size bigint NOT NULL DEFAULT 0;
UPDATE render_cache c SET owner_id = i.owner_id, byte_size = b.byte_size
FROM images i, blobs b WHERE i.id = c.image_id AND b.sha256 = c.sha256;
ALTER TABLE render_cache ALTER COLUMN byte_size DROP DEFAULT;

ALTER TABLE analysis_cache ADD COLUMN owner_id uuid REFERENCES users (id);
UPDATE analysis_cache c SET owner_id = i.owner_id FROM images i WHERE i.id = c.image_id;
ALTER TABLE analysis_cache
  ADD COLUMN byte_size bigint GENERATED ALWAYS AS (octet_length(result::text)) STORED;

ALTER TABLE segmentations
  ADD COLUMN byte_size bigint GENERATED ALWAYS AS (octet_length(labels) + octet_length(regions::text)) STORED;

-- What was stored before this migration, added once.
UPDATE user_usage u SET bytes = u.bytes + s.bytes
FROM (
  SELECT owner_id, sum(byte_size) AS bytes FROM (
    SELECT owner_id, byte_size FROM render_cache
    UNION ALL SELECT owner_id, byte_size FROM analysis_cache
    UNION ALL SELECT owner_id, byte_size FROM segmentations
  ) rows WHERE owner_id IS NOT NULL GROUP BY owner_id
) s
WHERE u.user_id = s.owner_id;

CREATE FUNCTION stored_bytes_track_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.owner_id IS NOT NULL THEN
    UPDATE user_usage SET bytes = bytes - OLD.byte_size WHERE user_id = OLD.owner_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.owner_id IS NOT NULL THEN
    INSERT INTO user_usage AS u (user_id, bytes) VALUES (NEW.owner_id, NEW.byte_size)
    ON CONFLICT (user_id) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER render_cache_track_usage AFTER INSERT OR DELETE OR UPDATE ON render_cache
  FOR EACH ROW EXECUTE FUNCTION stored_bytes_track_usage();
CREATE TRIGGER analysis_cache_track_usage AFTER INSERT OR DELETE OR UPDATE ON analysis_cache
  FOR EACH ROW EXECUTE FUNCTION stored_bytes_track_usage();
CREATE TRIGGER segmentations_track_usage AFTER INSERT OR DELETE OR UPDATE ON segmentations
  FOR EACH ROW EXECUTE FUNCTION stored_bytes_track_usage();
