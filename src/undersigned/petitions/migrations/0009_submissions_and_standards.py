"""Submissions and moderation before publication (issue 14 §1): the statuses, the published
standards, the decisions, and the permission to publish without moderation."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('petitions', '0008_search_words'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Standard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=40, unique=True)),
                ('position', models.PositiveIntegerField(default=0)),
                ('hides_text', models.BooleanField(default=False)),
                ('names_original', models.BooleanField(default=False)),
                ('retired', models.BooleanField(default=False)),
            ],
            options={
                'ordering': ['position', 'code'],
            },
        ),
        migrations.AlterModelOptions(
            name='petition',
            options={'ordering': ['-opened_at', '-created'], 'permissions': [('publish_directly', 'Can publish petitions without moderation (PUBLISHING=reviewed)')]},
        ),
        migrations.AddField(
            model_name='petition',
            name='creator_language',
            field=models.CharField(blank=True, default='', max_length=8),
        ),
        migrations.AddField(
            model_name='petition',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='petition',
            name='support_key',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='petition',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('collecting', 'Gathering supporters'), ('moderation', 'Awaiting moderation'), ('sent_back', 'Sent back for changes'), ('rejected', 'Rejected'), ('open', 'Open'), ('closed', 'Closed'), ('archived', 'Archived')], default='draft', max_length=10),
        ),
        migrations.CreateModel(
            name='Decision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('publish', 'Published'), ('reject', 'Rejected'), ('send_back', 'Sent back for changes')], max_length=10)),
                ('note', models.TextField(blank=True, max_length=2000)),
                ('decided_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('text_sha256', models.CharField(blank=True, max_length=64)),
                ('supporters', models.PositiveIntegerField(default=0)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('duplicate_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='petitions.petition')),
                ('petition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='petitions.petition')),
                ('standard', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='petitions.standard')),
            ],
            options={
                'ordering': ['-decided_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='StandardText',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(choices=[('en', 'English'), ('ru', 'Русский')], max_length=8)),
                ('title', models.CharField(max_length=200)),
                ('text', models.TextField(max_length=4000)),
                ('standard', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='texts', to='petitions.standard')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('standard', 'language'), name='one_standard_text')],
            },
        ),
    ]
