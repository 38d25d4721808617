-- The registry's deferrable foreign keys (parcels_parcel's own), by name for SET CONSTRAINTS.
SELECT conname FROM pg_constraint
WHERE conrelid = 'parcels_parcel'::regclass AND contype = 'f' AND condeferrable
ORDER BY conname
