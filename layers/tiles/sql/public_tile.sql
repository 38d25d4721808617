-- All public layers of one tile in one statement: each layer's MVT (layer_tile.sql) concatenated.
-- An MVT is a sequence of layer messages, so concatenated layers are a valid tile.
SELECT {layers}
