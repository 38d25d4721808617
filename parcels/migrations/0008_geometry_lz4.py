# Geometries over ~2 kB (the largest parcels) are compressed by PostgreSQL: with lz4 rather than the
# default pglz, several times faster to write and to read back (tiles, WFS), at about the same size.
# A server built without lz4 keeps pglz.

from django.db import migrations

COLUMNS = (("parcels_parcel", "geom"), ("parcels_parcelversion", "geom"))


def _compression(method: str) -> str:
    alters = "\n".join(f"  ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method};"
                       for table, column in COLUMNS)
    return f"""DO $$
BEGIN
{alters}
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'compression {method} unavailable on this server: geometries keep the default';
END $$;"""


class Migration(migrations.Migration):

    dependencies = [
        ("parcels", "0007_partial_indexes"),
    ]

    operations = [migrations.RunSQL(_compression("lz4"), reverse_sql=_compression("pglz"))]
