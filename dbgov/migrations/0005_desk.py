# dbgov 0005 (desk): rehearsal report fields, every EXPLAIN repetition, the view-all-tasks permission.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dbgov', '0004_governance'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='task',
            options={'ordering': ['key'], 'permissions': [('view_all_tasks', "Can view every task's plans, findings and runs")]},
        ),
        migrations.AddField(
            model_name='explainrun',
            name='table_rows',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='migrationrehearsal',
            name='size_after',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='migrationrehearsal',
            name='size_before',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='queryplan',
            name='repetitions',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
