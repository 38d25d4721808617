-- The rows of one chunk that the last import of their parcel read exactly so (the same digest).
SELECT k.i
FROM parcel_known k
JOIN parcels_parcel p ON p.municipality_id = %(municipality)s AND p.parcel_code = k.parcel_code
WHERE p.source_digest = k.source_digest AND p.status = 'active'
