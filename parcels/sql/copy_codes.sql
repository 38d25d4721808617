COPY parcel_codes (row_no, parcel_code) FROM STDIN WITH (FORMAT binary)
