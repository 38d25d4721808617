-- One layer of a vector tile, as MVT bytes.
--
-- {rows} is the layer's queryset from the registry (the owning app's selector) compiled by the ORM:
-- identifiers come from the models, values are bound parameters. Its geometry column is "g", in
-- the storage SRID EPSG:3857, so the tile envelope is compared with the column itself and the
-- GiST index answers `g && envelope` (no per-row transform). The envelope is grown by the buffer
-- (margin = buffer / extent): features in the buffer only are included, clipped to it.
-- The inner OFFSET 0 keeps ST_AsMVTGeom from being evaluated twice (once for the NULL test).
-- Parameters, in order: [the simplify tolerance], z, x, y, the queryset's own, z, x, y.
SELECT ST_AsMVT(tile, {layer_name}, {extent}, 'geom'{id_argument})
FROM (
    SELECT * FROM (
        SELECT ST_AsMVTGeom({geometry}, ST_TileEnvelope(%s, %s, %s)::box2d, {extent}, {buffer}, true) AS geom
               {attributes}
        FROM ({rows}) AS r
        WHERE r.g && ST_TileEnvelope(%s, %s, %s, margin => {margin})
        OFFSET 0
    ) AS clipped
    WHERE clipped.geom IS NOT NULL
    LIMIT {max_features}
) AS tile
