COPY parcel_written (row_no, parcel_code) FROM STDIN WITH (FORMAT binary)
