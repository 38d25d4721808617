INSERT INTO parcels_parcel (municipality_id, parcel_code, plan_no, block_no, parcel_no, district_id, land_use,
    zone_code, stated_area_m2, area_m2, perimeter_m, status, geom, version, valid_from, updated_at,
    change, change_source, changed_by_id, source_digest)
SELECT %(municipality)s, s.parcel_code, s.plan_no, s.block_no, s.parcel_no, s.district_id, s.land_use, s.zone_code,
    s.stated_area, s.area_m2, s.perimeter_m, 'active', s.geom, 1, %(now)s, %(now)s, 'created', %(source)s, %(by)s,
    s.source_digest
FROM parcel_stage s
WHERE NOT EXISTS (SELECT 1 FROM parcel_match m WHERE m.row_no = s.row_no)
ORDER BY s.row_no
RETURNING ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
