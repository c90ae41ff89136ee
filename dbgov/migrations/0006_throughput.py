# dbgov 0006 (throughput): rehearsal-measured throughput of schema work per server (issue 14).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dbgov', '0005_desk'),
    ]

    operations = [
        migrations.CreateModel(
            name='Throughput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('server', models.CharField(help_text='host:port of the server', max_length=255)),
                ('kind', models.CharField(choices=[('rewrite', 'Table rewrite (bytes/s)'), ('index', 'Index build (rows/s)'), ('validate', 'Constraint validation (bytes/s)'), ('foreign-key', 'Foreign key validation (rows/s)'), ('scan', 'Full scan (bytes/s)')], max_length=16)),
                ('work', models.FloatField(default=0.0, help_text="total work measured, in the kind's unit")),
                ('seconds', models.FloatField(default=0.0, help_text='total time it took')),
                ('inv_t2', models.FloatField(default=0.0)),
                ('w_t2', models.FloatField(default=0.0)),
                ('ww_t2', models.FloatField(default=0.0)),
                ('inv_t', models.FloatField(default=0.0)),
                ('w_t', models.FloatField(default=0.0)),
                ('samples', models.PositiveIntegerField(default=0)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['server', 'kind'],
                'constraints': [models.UniqueConstraint(fields=('server', 'kind'), name='dbgov_throughput_unique')],
            },
        ),
    ]
