UPDATE parcel_stage s SET district_id = d.id
FROM parcels_district d
WHERE d.municipality_id = %(municipality)s AND s.district_code <> '' AND d.code = s.district_code
