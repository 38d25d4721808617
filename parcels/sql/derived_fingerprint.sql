-- What an import looks a parcel's district and zone up in (by code, or by overlay): when these change,
-- every row of the next import is compared in full again (parcels.importing.digest_key).
SELECT
    (SELECT md5(coalesce(string_agg(concat_ws(':', d.id, d.code, md5(ST_AsBinary(d.geom))), ',' ORDER BY d.id), ''))
     FROM parcels_district d WHERE d.municipality_id = %(municipality)s),
    CASE WHEN %(zone_by_overlay)s THEN
        (SELECT md5(coalesce(string_agg(concat_ws(':', z.id, z.zone_code, md5(ST_AsBinary(z.geom))), ','
                                        ORDER BY z.id), ''))
         FROM parcels_zoningdistrict z WHERE z.municipality_id = %(municipality)s)
    END
