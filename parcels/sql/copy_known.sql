COPY parcel_known (i, municipality_id, parcel_code, source_digest) FROM STDIN WITH (FORMAT binary)
