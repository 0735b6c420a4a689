"""Updates to signers: one run per response or outcome, one mail per subscriber (issue 14 §3)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('outbox', '0003_headers_at_most_once'),
        ('petitions', '0007_addressee_steps_answers'),
        ('signing', '0007_updates_subscription'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='UpdateRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('response', 'Response'), ('debate_scheduled', 'Debate scheduled'), ('debated', 'Debated')], max_length=20)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('last_subscription', models.BigIntegerField(default=0)),
                ('total', models.PositiveIntegerField(default=0)),
                ('cursor', models.BigIntegerField(default=0)),
                ('next_slot', models.DateTimeField(blank=True, null=True)),
                ('filled_at', models.DateTimeField(blank=True, null=True)),
                ('petition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='update_runs', to='petitions.petition')),
                ('started_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['created', 'id'],
            },
        ),
        migrations.CreateModel(
            name='UpdateMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('mail', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='outbox.outgoingmail')),
                ('subscription', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='signing.subscription')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mails', to='updates.updaterun')),
            ],
        ),
        migrations.AddConstraint(
            model_name='updaterun',
            constraint=models.UniqueConstraint(fields=('petition', 'kind'), name='one_update_run_per_kind'),
        ),
        migrations.AddConstraint(
            model_name='updatemail',
            constraint=models.UniqueConstraint(fields=('run', 'subscription'), name='one_update_mail_each'),
        ),
    ]
