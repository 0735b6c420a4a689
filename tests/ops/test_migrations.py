"""Schema changes on large tables: the policy, its tools, and a filled database migrated forward."""

from typing import Any

import pytest
from django.db import NotSupportedError, connection, models
from django.db.migrations import Migration, operations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from undersigned.core.schema import AddIndexSafely, risky_operations
from undersigned.signing.models import Signature

# Migrations that ran before launch, on empty tables; never edit them, never copy them.
REVIEWED = {("signing", "0002_signature_log_salt_signature_verified_entry")}


def test_no_migration_holds_a_long_lock_on_a_large_table() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    risky = [
        problem
        for key, migration in sorted(loader.disk_migrations.items())
        if key not in REVIEWED
        for problem in risky_operations(migration)
    ]
    assert not risky, "\n".join(risky) + "\n(see docs/deploying.md, 'Upgrades')"


def migration(*ops: Any, atomic: bool = True) -> Migration:
    m = Migration("9999_test", "signing")
    m.operations = list(ops)
    m.atomic = atomic
    return m


def test_the_policy_tells_safe_from_blocking_changes() -> None:
    index = models.Index(fields=["language"], name="signature_language")
    assert risky_operations(migration(operations.AddIndex("signature", index)))
    assert risky_operations(migration(AddIndexSafely("signature", index)))  # atomic
    assert not risky_operations(migration(AddIndexSafely("signature", index), atomic=False))
    # A small table may take a plain index.
    small = Migration("9999_test", "petitions")
    small.operations = [operations.AddIndex("petition", index)]
    assert not risky_operations(small)
    nullable = models.CharField(max_length=10, null=True, blank=True)
    assert not risky_operations(migration(operations.AddField("signature", "note", nullable)))
    required = models.CharField(max_length=10)
    assert risky_operations(migration(operations.AddField("signature", "note", required)))
    defaulted = models.CharField(max_length=10, default="")
    assert not risky_operations(migration(operations.AddField("signature", "note", defaulted)))
    fk = models.ForeignKey("petitions.Petition", models.SET_NULL, null=True)
    assert risky_operations(migration(operations.AddField("signature", "campaign", fk)))
    quiet_fk = models.ForeignKey(
        "petitions.Petition", models.SET_NULL, null=True, db_index=False, db_constraint=False
    )
    assert not risky_operations(migration(operations.AddField("signature", "campaign", quiet_fk)))


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "signing_signature"))


@pytest.mark.django_db(transaction=True)
def test_add_index_safely_builds_a_usable_index_on_a_filled_table(petition: Any) -> None:
    version = petition.current_version()
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            text_version=version,
            full_name=f"P {i}",
            email=f"p{i}@example.org",
            email_hash=f"{i:064x}",
            language="ru" if i % 3 else "en",
        )
        for i in range(600)
    )
    op = AddIndexSafely("signature", models.Index(fields=["language"], name="sig_language_t"))
    before = MigrationExecutor(connection).loader.project_state()
    after = before.clone()
    op.state_forwards("signing", after)
    if connection.vendor == "postgresql":
        with pytest.raises(NotSupportedError, match="atomic = False"):
            with connection.schema_editor(atomic=True) as editor:
                op.database_forwards("signing", editor, before, after)
    with connection.schema_editor(atomic=False) as editor:
        op.database_forwards("signing", editor, before, after)
    try:
        assert "sig_language_t" in index_names()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'sig_language_t'::regclass"
                )
                assert cursor.fetchone() == (True,)
        assert Signature.objects.filter(language="en").count() == 200
    finally:
        with connection.schema_editor(atomic=False) as editor:
            op.database_backwards("signing", editor, after, before)
    assert "sig_language_t" not in index_names()


@pytest.mark.django_db(transaction=True)
def test_a_filled_database_migrates_forward_to_the_latest_signing_migration() -> None:
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    latest = next(node for node in leaves if node[0] == "signing")
    parents = executor.loader.graph.node_map[latest].parents
    previous = next(parent for parent in parents if parent[0] == "signing")
    executor.migrate([previous])
    try:
        # The models as the database now is: every app as applied, signing one step back.
        applied = list(MigrationExecutor(connection).loader.applied_migrations)
        old = executor.loader.project_state(applied, at_end=True).apps
        user = old.get_model("auth", "User").objects.create(username="org", password="!")
        petition = old.get_model("petitions", "Petition").objects.create(
            slug="old", organiser_id=user.pk, organiser_name="Org", status="open"
        )
        version = old.get_model("petitions", "TextVersion").objects.create(
            petition_id=petition.pk, number=1, title="Old", body="Text", sha256="0" * 64
        )
        OldSignature = old.get_model("signing", "Signature")
        OldSignature.objects.bulk_create(
            OldSignature(
                petition_id=petition.pk,
                text_version_id=version.pk,
                state="verified" if i % 2 else "unconfirmed",
                full_name=f"Signer {i}",
                email=f"s{i}@example.org",
                email_hash=f"{i:064x}",
            )
            for i in range(1000)
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # Every row made it, readable by today's code.
    signatures = Signature.objects.order_by("email_hash")
    assert signatures.count() == 1000
    assert signatures.filter(state="verified").count() == 500
    assert [s.email for s in signatures[:2]] == ["s0@example.org", "s1@example.org"]
    assert signatures[999].full_name == "Signer 999"
