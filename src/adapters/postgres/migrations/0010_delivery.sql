-- The signed-URL key made when URL_SIGNING_KEYS is not set: kept here so that signed URLs (in
-- pages, emails, CDN caches) survive a restart and every instance sharing the database agrees.
-- Apart from signing_keys, whose every row is a JWT key.
CREATE TABLE url_signing_keys (
  kid        text PRIMARY KEY,
  secret     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every deleted image is announced (on commit) to the instances keeping its renderings and
-- analyses in memory, whichever statement deleted it (a DELETE, a user's cascade).
CREATE FUNCTION images_announce_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pictor_image_deleted', OLD.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER images_announce_delete AFTER DELETE ON images
  FOR EACH ROW EXECUTE FUNCTION images_announce_delete();
