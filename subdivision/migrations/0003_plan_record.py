import django.db.models.deletion
from django.db import migrations, models


def plans_to_records(apps, schema_editor):
    """Give every plan that created or retired parcels a Record, and move the parcels' lineage onto it."""
    Plan = apps.get_model("subdivision", "Plan")
    Parcel = apps.get_model("parcels", "Parcel")
    Record = apps.get_model("parcels", "Record")
    plan_ids = set(Parcel.objects.exclude(created_by_plan=None).values_list("created_by_plan", flat=True))
    plan_ids |= set(Parcel.objects.exclude(retired_by_plan=None).values_list("retired_by_plan", flat=True))
    for plan in Plan.objects.filter(pk__in=plan_ids):
        record = Record.objects.create(municipality_id=plan.municipality_id, kind="plan",
                                       reference=f"plan {plan.pk}: {plan.title}"[:200], created_at=plan.updated_at)
        plan.record = record
        plan.save(update_fields=["record"])
        Parcel.objects.filter(created_by_plan=plan).update(created_by_record=record)
        Parcel.objects.filter(retired_by_plan=plan).update(retired_by_record=record)


def records_to_plans(apps, schema_editor):
    Plan = apps.get_model("subdivision", "Plan")
    Parcel = apps.get_model("parcels", "Parcel")
    for plan in Plan.objects.exclude(record=None):
        Parcel.objects.filter(created_by_record=plan.record_id).update(created_by_plan=plan)
        Parcel.objects.filter(retired_by_record=plan.record_id).update(retired_by_plan=plan)


class Migration(migrations.Migration):

    dependencies = [
        ("subdivision", "0002_findings_table_and_summary"),
        ("parcels", "0003_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="record",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="plan", to="parcels.record"),
        ),
        migrations.RunPython(plans_to_records, records_to_plans),
    ]
