import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Lineage through a parcels-owned Record instead of subdivision.Plan (breaks the app cycle)."""

    dependencies = [
        ("parcels", "0002_initial"),
        ("subdivision", "0002_findings_table_and_summary"),
    ]

    operations = [
        migrations.CreateModel(
            name="Record",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("plan", "Subdivision plan"), ("survey", "Survey or boundary correction"), ("deed", "Deed or court order"), ("other", "Other")], default="plan", max_length=10)),
                ("reference", models.CharField(help_text="The document's number or title", max_length=200)),
                ("created_at", models.DateTimeField()),
                ("municipality", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="records", to="parcels.municipality")),
            ],
            options={"ordering": ["municipality_id", "-created_at"]},
        ),
        migrations.AddField(
            model_name="parcel",
            name="created_by_record",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="created_parcels", to="parcels.record"),
        ),
        migrations.AddField(
            model_name="parcel",
            name="retired_by_record",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="retired_parcels", to="parcels.record"),
        ),
    ]
