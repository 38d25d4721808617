"""Parcel.source_digest: what the last import read for a parcel, so a re-import skips unchanged rows.

Any UPDATE that does not set a new digest clears it (admin edits, plan approvals, layer edits, raw
SQL), so a parcel changed by anything but an import is compared in full on the next import.
"""

from django.db import migrations, models

CLEAR_DIGEST = """
CREATE FUNCTION parcels_parcel_clear_source_digest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source_digest IS NOT DISTINCT FROM OLD.source_digest THEN
        NEW.source_digest := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER parcels_parcel_clear_source_digest BEFORE UPDATE ON parcels_parcel
    FOR EACH ROW WHEN (OLD.source_digest IS NOT NULL)
    EXECUTE FUNCTION parcels_parcel_clear_source_digest();
"""
DROP_CLEAR_DIGEST = """
DROP TRIGGER parcels_parcel_clear_source_digest ON parcels_parcel;
DROP FUNCTION parcels_parcel_clear_source_digest();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('parcels', '0005_fewer_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='parcel',
            name='source_digest',
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(CLEAR_DIGEST, DROP_CLEAR_DIGEST),
    ]
