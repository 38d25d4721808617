-- Rows whose district code is absent or unknown: the district holding a point of the parcel.
UPDATE parcel_stage s SET district_id = (
    SELECT d.id FROM parcels_district d
    WHERE d.municipality_id = %(municipality)s AND ST_Intersects(d.geom, ST_PointOnSurface(s.geom))
    ORDER BY d.id LIMIT 1)
WHERE s.district_id IS NULL
