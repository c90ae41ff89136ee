# dbgov 0008 (integrity): signed hash chains of approvals, audit events and the ledger;
# migration authors; triggers that pgtrigger.ignore and replica mode cannot skip
# (dbgov.governance.guards).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from dbgov.governance import guards


class Migration(migrations.Migration):

    dependencies = [
        ('dbgov', '0007_plan_phase'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table', models.CharField(max_length=100, unique=True)),
                ('seq', models.BigIntegerField(default=0)),
                ('digest', models.CharField(blank=True, max_length=64)),
                ('key_id', models.CharField(blank=True, max_length=16)),
                ('signature', models.CharField(blank=True, max_length=64)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'chain head',
            },
        ),
        migrations.AddField(
            model_name='approval',
            name='digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='approval',
            name='key_id',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='approval',
            name='prev_digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='approval',
            name='reviewer_permitted',
            field=models.BooleanField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='approval',
            name='seq',
            field=models.BigIntegerField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='key_id',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ledger',
            name='digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='ledger',
            name='key_id',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='ledger',
            name='prev_digest',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='ledger',
            name='seq',
            field=models.BigIntegerField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ledger',
            name='sql_sha256',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='approval',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name='ledger',
            name='recorded_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.CreateModel(
            name='MigrationAuthor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('app_label', models.CharField(max_length=100)),
                ('name', models.CharField(max_length=200)),
                ('email', models.CharField(blank=True, max_length=254)),
                ('login', models.CharField(blank=True, max_length=150)),
                ('source', models.CharField(choices=[('git', 'git (commit that added the file)'), ('makemigrations', 'dbgov makemigrations --task')], max_length=16)),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['app_label', 'name', 'id'],
                'indexes': [models.Index(fields=['app_label', 'name'], name='dbgov_migauthor_idx')],
            },
        ),
        migrations.RunPython(guards.sign_existing_rows, migrations.RunPython.noop),
        migrations.RunSQL(guards.install_sql(), guards.uninstall_sql()),
    ]
