COPY parcel_known (i, parcel_code, source_digest) FROM STDIN WITH (FORMAT binary)
