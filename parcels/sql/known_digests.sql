-- The rows of one chunk that the last import of their parcel read exactly so (the same digest).
-- The municipality comes from the chunk's rows, not as a constant: the planner then judges the code
-- index by the average municipality, not by this one's (possibly stale) statistics, which right after
-- a first import into a new municipality say it has no parcels and make any index on municipality_id
-- look as good (measured: 200 s instead of 2 s to re-import 210k parcels). One probe of the code
-- index per row (LATERAL, LIMIT keeps it from being flattened): the chunk is never the inner side.
-- No condition on status, which the (municipality, status) index would answer, as badly, when the
-- table has never been analysed: a retired parcel has no digest (any change but an import clears it).
SELECT k.i
FROM parcel_known k
CROSS JOIN LATERAL (
    SELECT 1 FROM parcels_parcel p
    WHERE p.municipality_id = k.municipality_id AND p.parcel_code = k.parcel_code
        AND p.source_digest = k.source_digest
    LIMIT 1
) same
