-- The codes written so far by direct COPY (unique: parcel_code_unique held), as the codes seen: from
-- the first repeat on, every chunk is checked against them as a staged import's are.
INSERT INTO parcel_seen (parcel_code, row_no)
SELECT parcel_code, row_no FROM parcel_written
