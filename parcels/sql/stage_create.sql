-- One chunk of an import at a time: emptied after each merge, dropped at commit.
CREATE TEMP TABLE parcel_stage (
    row_no integer PRIMARY KEY, parcel_code text, plan_no text, block_no text, parcel_no text,
    district_code text, land_use text, zone_code text, stated_area double precision,
    area_m2 double precision, perimeter_m double precision, geom geometry(MultiPolygon, %(srid)s),
    source_digest bytea,
    district_id bigint
) ON COMMIT DROP;
-- Staged rows that match an existing parcel; narrow, so matching never rewrites the staged geometries.
CREATE TEMP TABLE parcel_match (row_no integer PRIMARY KEY, parcel_id bigint, is_changed boolean) ON COMMIT DROP;
-- The codes of one chunk, checked against every code staged so far before the chunk itself is sent.
-- Byte order ("C") is enough for telling codes apart, and cheaper to index than a language's order.
CREATE TEMP TABLE parcel_codes (row_no integer, parcel_code text COLLATE "C") ON COMMIT DROP;
-- Every code staged so far in this import, with its row: duplicates are found across chunks.
CREATE TEMP TABLE parcel_seen (parcel_code text COLLATE "C" PRIMARY KEY, row_no integer) ON COMMIT DROP
;
-- Codes COPYed straight into parcels_parcel (a first import), unindexed: parcel_code_unique finds a repeat,
-- and only then are these read, once, into parcel_seen to name each repeat's first row.
CREATE TEMP TABLE parcel_written (row_no integer, parcel_code text COLLATE "C") ON COMMIT DROP