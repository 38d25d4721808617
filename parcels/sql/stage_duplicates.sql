-- Rows of this chunk whose code came earlier in the file (an earlier chunk, or earlier in this one),
-- with that first row. Codes seen are kept in the database, not in the importer's memory, so memory
-- stays flat whatever the file's size.
SELECT c.row_no, c.parcel_code, seen.row_no
FROM parcel_codes c JOIN parcel_seen seen ON seen.parcel_code = c.parcel_code
WHERE seen.row_no <> c.row_no
ORDER BY c.row_no
