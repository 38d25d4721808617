-- A chunk of new parcels straight into the registry: used when nothing needs matching, looking up or
-- overlaying (the municipality had no parcels, districts or zoning when the import began), so the
-- stage and its INSERT ... SELECT are skipped. Columns not named keep their defaults (NULL).
COPY parcels_parcel (municipality_id, status, version, valid_from, updated_at, change, change_source, changed_by_id,
    parcel_code, plan_no, block_no, parcel_no, land_use, zone_code, stated_area_m2, area_m2, perimeter_m, geom, source_digest)
FROM STDIN WITH (FORMAT binary)
