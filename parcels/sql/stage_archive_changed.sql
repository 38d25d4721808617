-- The current state of each changed parcel becomes a past version before it is overwritten.
INSERT INTO parcels_parcelversion (parcel_id, version, valid_from, valid_to, change, change_source, changed_by_id,
    plan_no, block_no, parcel_no, district_id, land_use, zone_code, stated_area_m2, area_m2, perimeter_m,
    status, geom)
SELECT p.id, p.version, p.updated_at, %(now)s, p.change, p.change_source, p.changed_by_id,
    p.plan_no, p.block_no, p.parcel_no, p.district_id, p.land_use, p.zone_code, p.stated_area_m2,
    p.area_m2, p.perimeter_m, p.status, p.geom
FROM parcel_match m JOIN parcels_parcel p ON p.id = m.parcel_id
WHERE m.is_changed
RETURNING ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
