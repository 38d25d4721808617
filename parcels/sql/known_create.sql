-- One chunk's codes and digests, asked about in known_digests.sql (parcels.importing._KnownDigests).
CREATE TEMP TABLE IF NOT EXISTS parcel_known (i integer, municipality_id bigint, parcel_code text, source_digest bytea) ON COMMIT DROP
