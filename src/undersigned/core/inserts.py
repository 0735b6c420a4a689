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
from functools import lru_cache
from typing import Any

from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Dependent:
    """A row written only if the new row is; `link` names its field that refers to the new row."""

    row: models.Model
    link: str | None = None


Field = models.Field[Any, Any]


@dataclass(frozen=True)
class _Statement:
    """One INSERT: its SQL, the fields whose values it takes, and where the link goes."""

    sql: str
    fields: tuple[Field, ...]
    link_at: int | None = None  # the index in `fields` of the column that takes the new id

    def values(self, row: models.Model, connection: BaseDatabaseWrapper) -> list[Any]:
        # What Model.save() sends: each field's pre_save (defaults, auto_now_add),
        # then its conversion for the database (sealing, for encrypted fields).
        return [f.get_db_prep_save(f.pre_save(row, True), connection) for f in self.fields]


@dataclass(frozen=True)
class _Plan:
    one_statement: str | None  # PostgreSQL: everything in one WITH
    new_row: _Statement
    dependents: tuple[_Statement, ...]


def _columns(model: type[models.Model]) -> tuple[Field, ...]:
    """The columns an INSERT names: all but an id the database assigns."""
    return tuple(f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField))


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), name
    return str(field.column)


@lru_cache(maxsize=32)
def _plan(
    alias: str,
    model: type[models.Model],
    unique: tuple[str, ...],
    dependents: tuple[tuple[type[models.Model], str | None], ...],
) -> _Plan:
    """The statements for these models, built once per process from their metadata."""
    connection = connections[alias]
    quote = connection.ops.quote_name

    def names(fields: Sequence[Field]) -> str:
        return ", ".join(quote(f.column) for f in fields)

    def marks(count: int) -> str:
        return ", ".join(["%s"] * count)

    # Table and column names come from the models' metadata; values are parameters.
    fields = _columns(model)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    conflict = ", ".join(quote(_column(model, n)) for n in unique)
    insert = (
        f"INSERT INTO {table} ({names(fields)}) VALUES ({marks(len(fields))}) "  # noqa: S608  # nosec B608
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {pk}"
    )
    parts, returned, statements = [f"new_row AS ({insert})"], [f"new_row.{pk}"], []
    for n, (dependent, link) in enumerate(dependents):
        columns = _columns(dependent)
        linked = dependent._meta.get_field(link) if link else None
        link_at = columns.index(linked) if linked is not None else None
        target = f"{quote(dependent._meta.db_table)} ({names(columns)})"
        dependent_pk = quote(dependent._meta.pk.column)
        statements.append(
            _Statement(
                f"INSERT INTO {target} VALUES ({marks(len(columns))}) "  # noqa: S608  # nosec B608
                f"RETURNING {dependent_pk}",
                columns,
                link_at,
            )
        )
        # In one statement the link is the new row's id, every other column a
        # parameter; the dependent is written once for each row new_row
        # returns: none or one.
        selected = ", ".join(f"new_row.{pk}" if i == link_at else "%s" for i in range(len(columns)))
        parts.append(
            f"dependent_{n} AS (INSERT INTO {target} "  # noqa: S608  # nosec B608
            f"SELECT {selected} FROM new_row RETURNING {dependent_pk})"
        )
        returned.append(f"(SELECT {dependent_pk} FROM dependent_{n})")  # noqa: S608  # nosec B608
    one_statement = None
    if connection.vendor == "postgresql":
        one_statement = f"WITH {', '.join(parts)} SELECT {', '.join(returned)} FROM new_row"  # noqa: S608  # nosec B608
    return _Plan(one_statement, _Statement(insert, fields), tuple(statements))


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
    plan = _plan(using, type(row), tuple(unique), tuple((type(d.row), d.link) for d in dependents))
    # Everything but the new id is prepared (sealed, converted) before anything
    # is sent: on SQLite the transaction holds the only write lock.
    params = plan.new_row.values(row, connection)
    dependent_values = [
        statement.values(d.row, connection)
        for statement, d in zip(plan.dependents, dependents, strict=True)
    ]
    if plan.one_statement is not None:
        for statement, values in zip(plan.dependents, dependent_values, strict=True):
            params += [v for i, v in enumerate(values) if i != statement.link_at]
        with connection.cursor() as cursor:
            cursor.execute(plan.one_statement, params)
            found = cursor.fetchone()
        ids = None if found is None else list(found)
    else:
        ids = _in_one_transaction(connection, plan, params, dependent_values, using)
    if ids is None:
        return False
    for written, new_id in zip([row, *(d.row for d in dependents)], ids, strict=True):
        written.pk = new_id
        written._state.adding = False
        written._state.db = using
    for statement, dependent in zip(plan.dependents, dependents, strict=True):
        if statement.link_at is not None:
            setattr(dependent.row, statement.fields[statement.link_at].attname, ids[0])
    return True


def _in_one_transaction(
    connection: BaseDatabaseWrapper,
    plan: _Plan,
    params: list[Any],
    dependent_values: list[list[Any]],
    using: str,
) -> list[Any] | None:
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(plan.new_row.sql, params)
        found = cursor.fetchone()
        if found is None:
            return None
        ids = [found[0]]
        for statement, values in zip(plan.dependents, dependent_values, strict=True):
            if statement.link_at is not None:
                values[statement.link_at] = ids[0]
            cursor.execute(statement.sql, values)
            ids.append(cursor.fetchone()[0])
    return ids
