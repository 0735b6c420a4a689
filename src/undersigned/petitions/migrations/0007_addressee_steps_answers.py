"""Petitions name their addressee; thresholds become steps; responses and outcomes (issue 14 §2)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import undersigned.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0005_witnessing'),
        ('petitions', '0006_tally_verified_paper'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='petition',
            name='addressee',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='petition',
            name='addressee_email',
            field=undersigned.core.fields.EncryptedTextField(blank=True, purpose='petition.addressee_email'),
        ),
        migrations.AddField(
            model_name='petition',
            name='debate_threshold',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='petition',
            name='response_threshold',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='Response',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('answered_by', models.CharField(max_length=200)),
                ('responded_on', models.DateField()),
                ('text', models.TextField(max_length=20000)),
                ('sha256', models.CharField(editable=False, max_length=64)),
                ('published_at', models.DateTimeField(auto_now_add=True)),
                ('verified', models.BigIntegerField()),
                ('log_entry', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='ledger.logentry')),
                ('petition', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='response', to='petitions.petition')),
                ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='Outcome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('debate_scheduled', 'Debate scheduled'), ('debated', 'Debated')], max_length=20)),
                ('happens_on', models.DateField()),
                ('link', models.URLField(blank=True, max_length=500)),
                ('note', models.TextField(blank=True, max_length=2000)),
                ('sha256', models.CharField(editable=False, max_length=64)),
                ('published_at', models.DateTimeField(auto_now_add=True)),
                ('verified', models.BigIntegerField()),
                ('log_entry', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='ledger.logentry')),
                ('petition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outcomes', to='petitions.petition')),
                ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['published_at', 'id'],
                'constraints': [models.UniqueConstraint(fields=('petition', 'kind'), name='unique_outcome_kind')],
            },
        ),
        migrations.CreateModel(
            name='StepReached',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.CharField(choices=[('response', 'The addressee is asked to respond'), ('debate', 'Considered for a debate')], max_length=10)),
                ('threshold', models.PositiveIntegerField()),
                ('verified', models.BigIntegerField()),
                ('reached_at', models.DateTimeField(auto_now_add=True)),
                ('addressee_notified', models.BooleanField(default=False)),
                ('petition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps_reached', to='petitions.petition')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('petition', 'step'), name='unique_step_reached')],
            },
        ),
    ]
