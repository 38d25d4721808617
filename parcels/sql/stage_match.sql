-- Existing parcels by code. A row is changed when any field differs; geometries first by exact
-- equality (PostGIS >= 2.4: same coordinates in the same order), then within a tolerance.
INSERT INTO parcel_match (row_no, parcel_id, is_changed)
SELECT s.row_no, p.id,
    p.plan_no IS DISTINCT FROM s.plan_no OR p.block_no IS DISTINCT FROM s.block_no
    OR p.parcel_no IS DISTINCT FROM s.parcel_no OR p.district_id IS DISTINCT FROM s.district_id
    OR p.land_use IS DISTINCT FROM s.land_use OR p.zone_code IS DISTINCT FROM s.zone_code
    OR p.stated_area_m2 IS DISTINCT FROM s.stated_area
    OR (NOT (p.geom = s.geom)
        -- the same shape through another format's rounding is not a change
        AND NOT (ST_NPoints(p.geom) = ST_NPoints(s.geom)
                 AND ST_HausdorffDistance(p.geom, s.geom) < %(same_geometry_within)s))
FROM parcel_stage s
JOIN parcels_parcel p ON p.municipality_id = %(municipality)s AND p.parcel_code = s.parcel_code
