-- Whether parcels_parcel's statistics predate a large change: never analysed, or a fifth of it changed since.
SELECT c.reltuples < 0 OR coalesce(s.n_mod_since_analyze > 0.2 * c.reltuples, true)
FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid = 'parcels_parcel'::regclass
