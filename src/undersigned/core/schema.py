"""Schema changes that stay safe on a live table of ten million signatures.

On PostgreSQL, `CREATE INDEX` blocks every write to the table until the index
is built (minutes on a large table), and adding a foreign key or a unique
constraint does the same. docs/deploying.md ("Upgrades") gives the practice;
this module gives the tools:

* `AddIndexSafely`: `CREATE INDEX CONCURRENTLY` on PostgreSQL (the migration
  must say `atomic = False`), a plain `CREATE INDEX` on SQLite, where a site
  is small enough for it and no other option exists.
* `risky_operations`: what a migration does to a large table that would hold
  a long lock; tests/ops/test_migrations.py runs it over every migration.
"""

from typing import Any

from django.db import NotSupportedError, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import Migration, operations
from django.db.migrations.state import ProjectState

# Tables that grow with every signature: (app label, model name).
LARGE_TABLES = {
    ("signing", "signature"),
    ("ledger", "logentry"),
    ("ledger", "loghash"),
    ("outbox", "outgoingmail"),
}


class AddIndexSafely(operations.AddIndex):
    """AddIndex without blocking writes on PostgreSQL. Use in a migration with atomic = False."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        self._refuse_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)  # type: ignore[call-arg]

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        self._refuse_in_transaction(schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)  # type: ignore[call-arg]

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} without blocking writes"

    @staticmethod
    def _refuse_in_transaction(schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                "AddIndexSafely builds the index concurrently, which PostgreSQL cannot do "
                "inside a transaction: set `atomic = False` on the migration"
            )


class AddUniqueConstraintSafely(operations.AddConstraint):
    """A partial unique constraint, built without blocking writes on PostgreSQL.

    PostgreSQL implements a UniqueConstraint with a condition as a unique
    partial index, which `CREATE UNIQUE INDEX CONCURRENTLY` builds while the
    table takes writes. Use in a migration with atomic = False.
    """

    constraint: models.BaseConstraint
    model_name: str

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        constraint = self.constraint
        if (
            schema_editor.connection.vendor != "postgresql"
            or not isinstance(constraint, models.UniqueConstraint)
            or constraint.condition is None
        ):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        AddIndexSafely._refuse_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            sql = str(constraint.create_sql(model, schema_editor))
            schema_editor.execute(
                sql.replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1)
            )

    def describe(self) -> str:
        name = self.constraint.name
        return f"Create constraint {name} on {self.model_name} without blocking writes"


def _field_is_risky(field: models.Field[Any, Any]) -> str | None:
    indexed = bool(getattr(field, "db_index", False))
    if isinstance(field, models.ForeignKey) and (indexed or getattr(field, "db_constraint", True)):
        return (
            "adds a foreign key with its index and constraint (both block writes while "
            "built): add it with db_index=False, db_constraint=False, then AddIndexSafely"
        )
    if field.unique or field.primary_key:
        return "adds a unique column (a unique index built under lock)"
    if (
        not field.null
        and not field.has_default()
        and getattr(field, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED
    ):
        return "adds a NOT NULL column without a default (fails or rewrites a filled table)"
    if indexed:
        return "adds an indexed column (the index is built under lock): add the index separately"
    return None


def risky_operations(migration: Migration) -> list[str]:
    """Operations of a migration that would hold a long lock on a large, filled table."""
    created = {
        op.name_lower for op in migration.operations if isinstance(op, operations.CreateModel)
    }
    found = []
    for op in migration.operations:
        model = getattr(op, "model_name_lower", None)
        if model is None or (migration.app_label, model) not in LARGE_TABLES or model in created:
            continue
        where = f"{migration.app_label}.{migration.name}: {op.describe()}"
        if isinstance(op, AddIndexSafely):
            if migration.atomic:
                found.append(f"{where}: needs `atomic = False` on the migration")
        elif isinstance(op, AddUniqueConstraintSafely):
            if migration.atomic:
                found.append(f"{where}: needs `atomic = False` on the migration")
        elif isinstance(op, operations.AddIndex):
            found.append(f"{where}: CREATE INDEX blocks writes; use AddIndexSafely")
        elif isinstance(op, operations.AddConstraint):
            found.append(f"{where}: validating a constraint blocks writes on a large table")
        elif isinstance(op, operations.AddField):
            reason = _field_is_risky(op.field)
            if reason:
                found.append(f"{where}: {reason}")
    return found
