from django.db import migrations


class Migration(migrations.Migration):
    """Parcels no longer point into subdivision: lineage is on parcels.Record (data moved by subdivision 0003)."""

    dependencies = [
        ("parcels", "0003_record"),
        ("subdivision", "0003_plan_record"),
    ]

    operations = [
        migrations.RemoveField(model_name="parcel", name="created_by_plan"),
        migrations.RemoveField(model_name="parcel", name="retired_by_plan"),
    ]
