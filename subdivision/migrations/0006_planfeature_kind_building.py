# The building kind (issue 12): a footprint on a lot, checked against setbacks; choices only.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subdivision', '0005_corrections_corner_truncation'),
    ]

    operations = [
        migrations.AlterField(
            model_name='planfeature',
            name='kind',
            field=models.CharField(choices=[('lot', 'Lot'), ('road', 'Road'), ('open_space', 'Open space'), ('utility', 'Utility'), ('building', 'Building')], default='lot', max_length=12),
        ),
    ]
