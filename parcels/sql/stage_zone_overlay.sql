-- The zone covering most of each parcel (largest intersection area). Areas in the storage CRS are
-- fine for choosing: the Mercator scale is the same for every piece of one parcel. A parcel wholly
-- inside one zone skips the intersection.
UPDATE parcel_stage s SET zone_code = best.zone_code
FROM (
    SELECT DISTINCT ON (s.row_no) s.row_no, z.zone_code
    FROM parcel_stage s
    JOIN parcels_zoningdistrict z
      ON z.municipality_id = %(municipality)s AND z.geom && s.geom AND ST_Intersects(z.geom, s.geom)
    ORDER BY s.row_no,
             CASE WHEN ST_CoveredBy(s.geom, z.geom) THEN ST_Area(s.geom)
                  ELSE ST_Area(ST_Intersection(z.geom, s.geom)) END DESC,
             z.zone_code
) best
WHERE best.row_no = s.row_no
