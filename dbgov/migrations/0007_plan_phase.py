# dbgov 0007 (plan phase): each stored plan migration says whether it runs before or after the deploy.

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dbgov', '0006_throughput'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='planmigration',
            name='frozen',
        ),
        migrations.AddField(
            model_name='planmigration',
            name='phase',
            field=models.CharField(choices=[('pre', 'pre-deploy'), ('post', 'post-deploy')], default='pre', max_length=4),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='planmigration',
            trigger=pgtrigger.compiler.Trigger(name='frozen', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."plan_id" IS DISTINCT FROM (NEW."plan_id") OR OLD."position" IS DISTINCT FROM (NEW."position") OR OLD."app_label" IS DISTINCT FROM (NEW."app_label") OR OLD."name" IS DISTINCT FROM (NEW."name") OR OLD."path" IS DISTINCT FROM (NEW."path") OR OLD."task_key" IS DISTINCT FROM (NEW."task_key") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256") OR OLD."atomic" IS DISTINCT FROM (NEW."atomic") OR OLD."selected" IS DISTINCT FROM (NEW."selected") OR OLD."applied" IS DISTINCT FROM (NEW."applied") OR OLD."error" IS DISTINCT FROM (NEW."error") OR OLD."phase" IS DISTINCT FROM (NEW."phase"))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='ccb0b6167efe07d2cf0a78f0c4ffd0cde01a4c6c', operation='UPDATE', pgid='pgtrigger_frozen_68b2b', table='dbgov_planmigration', when='BEFORE')),
        ),
    ]
