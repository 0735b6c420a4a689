"""A new row and the rows that go with it, written in one round trip where the database allows.

Signing writes three rows for a new signer (the signature, its confirmation
mail, its abuse source); through the ORM that is five round trips (BEGIN,
three INSERTs, COMMIT), and in a surge the number of round trips, more than
their cost, sets the rate (docs/performance.md). On PostgreSQL this writes
them as one statement, `WITH … INSERT … ON CONFLICT DO NOTHING RETURNING`,
which is its own transaction; elsewhere as the same INSERTs in one
transaction.

The statements are built from each model's own metadata and every value goes
through its field's `pre_save` and `get_db_prep_save`, as `Model.save()`
does: defaults, `auto_now_add`, and the sealing of encrypted fields all apply.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Dependent:
    """A row written only if the new row is; `link` names its field that refers to the new row."""

    row: models.Model
    link: str | None = None

    def link_field(self) -> models.Field | None:  # type: ignore[type-arg]
        if self.link is None:
            return None
        return self.row._meta.get_field(self.link)  # type: ignore[return-value]


def _fields(model: type[models.Model]) -> list[models.Field]:  # type: ignore[type-arg]
    """The columns an INSERT names: all but an id the database assigns."""
    return [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]


def _values(
    row: models.Model,
    fields: Sequence[models.Field],  # type: ignore[type-arg]
    connection: BaseDatabaseWrapper,
) -> list[Any]:
    return [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]


def _quoted(
    fields: Sequence[models.Field],  # type: ignore[type-arg]
    connection: BaseDatabaseWrapper,
) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def _name(connection: BaseDatabaseWrapper, row: models.Model) -> tuple[str, str]:
    """The row's quoted table and id column."""
    meta = row._meta
    return (
        connection.ops.quote_name(meta.db_table),
        connection.ops.quote_name(meta.pk.column),
    )


def insert_if_new(
    row: models.Model,
    *,
    unique: Sequence[str],
    dependents: Sequence[Dependent] = (),
    using: str = "default",
) -> bool:
    """Insert `row` unless a row with the same `unique` fields exists, and with it its dependents.

    Returns True, with the ids set on every instance as `save()` sets them,
    when the rows were written; returns False, having written nothing, when
    such a row already existed (or was being written by a concurrent
    transaction that then committed). Any other refusal of the database
    raises as `save()` would, and then nothing was written either.
    """
    connection = connections[using]
    meta = row._meta
    table, pk_column = _name(connection, row)
    fields = _fields(type(row))
    conflict = ", ".join(
        connection.ops.quote_name(meta.get_field(name).column)  # type: ignore[union-attr,arg-type]
        for name in unique
    )
    # Table and column names come from the models' metadata; values are parameters.
    insert = (
        f"INSERT INTO {table} ({_quoted(fields, connection)}) "  # noqa: S608  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {pk_column}"
    )
    params = _values(row, fields, connection)
    if connection.vendor == "postgresql":
        ids = _in_one_statement(connection, insert, params, pk_column, dependents)
    else:
        ids = _in_one_transaction(connection, insert, params, dependents, using)
    if ids is None:
        return False
    for written, new_id in zip([row, *(d.row for d in dependents)], ids, strict=True):
        written.pk = new_id
        written._state.adding = False
        written._state.db = using
    for dependent in dependents:
        _link(dependent, ids[0])
    return True


def _link(dependent: Dependent, new_id: Any) -> None:
    field = dependent.link_field()
    if field is not None:
        setattr(dependent.row, field.attname, new_id)


def _in_one_statement(
    connection: BaseDatabaseWrapper,
    insert: str,
    params: list[Any],
    pk_column: str,
    dependents: Sequence[Dependent],
) -> list[Any] | None:
    parts = [f"new_row AS ({insert})"]
    returned = [f"new_row.{pk_column}"]
    for n, dependent in enumerate(dependents):
        table, dependent_pk = _name(connection, dependent.row)
        fields = _fields(type(dependent.row))
        linked = dependent.link_field()
        # The link is the new row's id, every other column a parameter; the
        # dependent is written once for each row new_row returns: none or one.
        selected = ", ".join(f"new_row.{pk_column}" if f is linked else "%s" for f in fields)
        parts.append(
            f"dependent_{n} AS (INSERT INTO {table} ({_quoted(fields, connection)}) "  # noqa: S608  # nosec B608
            f"SELECT {selected} FROM new_row RETURNING {dependent_pk})"
        )
        returned.append(f"(SELECT {dependent_pk} FROM dependent_{n})")  # noqa: S608  # nosec B608
        values = _values(dependent.row, fields, connection)
        params += [v for f, v in zip(fields, values, strict=True) if f is not linked]
    sql = f"WITH {', '.join(parts)} SELECT {', '.join(returned)} FROM new_row"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return None if found is None else list(found)


def _in_one_transaction(
    connection: BaseDatabaseWrapper,
    insert: str,
    params: list[Any],
    dependents: Sequence[Dependent],
    using: str,
) -> list[Any] | None:
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(insert, params)
        found = cursor.fetchone()
        if found is None:
            return None
        ids = [found[0]]
        for dependent in dependents:
            table, dependent_pk = _name(connection, dependent.row)
            fields = _fields(type(dependent.row))
            _link(dependent, ids[0])
            cursor.execute(
                f"INSERT INTO {table} ({_quoted(fields, connection)}) "  # noqa: S608  # nosec B608
                f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {dependent_pk}",
                _values(dependent.row, fields, connection),
            )
            ids.append(cursor.fetchone()[0])
    return ids
