UPDATE parcels_parcel p SET plan_no = s.plan_no, block_no = s.block_no, parcel_no = s.parcel_no,
    district_id = s.district_id, land_use = s.land_use, zone_code = s.zone_code,
    stated_area_m2 = s.stated_area, area_m2 = s.area_m2, perimeter_m = s.perimeter_m, geom = s.geom,
    version = p.version + 1, updated_at = %(now)s, change = 'updated', change_source = %(source)s,
    changed_by_id = %(by)s, source_digest = s.source_digest
FROM parcel_match m JOIN parcel_stage s ON s.row_no = m.row_no
WHERE m.is_changed AND p.id = m.parcel_id
RETURNING ST_XMin(p.geom), ST_YMin(p.geom), ST_XMax(p.geom), ST_YMax(p.geom)
