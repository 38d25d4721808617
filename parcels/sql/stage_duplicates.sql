-- Rows whose code came earlier in the file (an earlier chunk, or earlier in this one) are refused,
-- naming the first row: they leave the stage and are returned. Codes seen are kept in the
-- database, not in the importer's memory, so memory stays flat whatever the file's size.
DELETE FROM parcel_stage s
USING (
    SELECT t.row_no, coalesce(seen.row_no, min(t.row_no) OVER (PARTITION BY t.parcel_code)) AS first_row
    FROM parcel_stage t LEFT JOIN parcel_seen seen ON seen.parcel_code = t.parcel_code
) d
WHERE d.row_no = s.row_no AND d.first_row <> s.row_no
RETURNING s.row_no, s.parcel_code, d.first_row
