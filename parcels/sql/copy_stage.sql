COPY parcel_stage (row_no, parcel_code, plan_no, block_no, parcel_no, district_code, land_use, zone_code,
    stated_area, area_m2, perimeter_m, geom, source_digest)
FROM STDIN WITH (FORMAT binary)
