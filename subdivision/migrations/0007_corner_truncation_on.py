# CORNER_TRUNCATION on by default (issue 12). Stored rule sets are switched on too: until now the field could only
# hold the default of migration 0005 (off because ROAD_WIDTH_MIN and the frontage did not yet know a cut corner,
# not because a municipality chose so). Reversing keeps the rows as they are.

from django.db import migrations, models


def switch_on(apps, schema_editor):
    PlanningRuleSet = apps.get_model("subdivision", "PlanningRuleSet")
    PlanningRuleSet.objects.filter(corner_truncation_required=False).update(corner_truncation_required=True)


class Migration(migrations.Migration):

    dependencies = [
        ('subdivision', '0006_planfeature_kind_building'),
    ]

    operations = [
        migrations.AlterField(
            model_name='planningruleset',
            name='corner_truncation_required',
            field=models.BooleanField(default=True, help_text='Check that corner lots between two streets have their corner cut (CORNER_TRUNCATION)'),
        ),
        migrations.RunPython(switch_on, migrations.RunPython.noop),
    ]
