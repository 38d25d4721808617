-- The first row of each code wins (rows in file order); a code seen before is not added again.
-- The row count tells whether the chunk repeats any code: almost never, so the next query rarely runs.
INSERT INTO parcel_seen (parcel_code, row_no)
SELECT parcel_code, row_no FROM parcel_codes ORDER BY row_no
ON CONFLICT (parcel_code) DO NOTHING
