-- Matched rows found unchanged field by field whose digest the parcel does not hold yet (it was
-- edited since, or imported from another file): keep this import's digest, so the next import of the
-- same rows skips them. The digest is not the parcel's state: no new version.
UPDATE parcels_parcel p SET source_digest = s.source_digest
FROM parcel_match m JOIN parcel_stage s ON s.row_no = m.row_no
WHERE NOT m.is_changed AND p.id = m.parcel_id AND p.source_digest IS DISTINCT FROM s.source_digest
