"""Writing thousands of rows at once (an import's devices and their audit entries).

SQLAlchemy's executemany converts each row on its own: it builds the row's parameters, runs every
column's converter and evaluates the defaults row by row. For a batch of 500 devices that work took
longer than the database's own insert (measured in bench.imports). `insert_rows` applies the same
converters a column at a time, then sends the rows as SQLAlchemy's own statement in one executemany on
SQLite, and through COPY on PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, insert, select

from core.extensions import db


def insert_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (each a dict of the same columns) into `table` in the session's transaction, at once.
    A column left out gets its default, evaluated once for all the rows (a creation time is
    then the batch's)."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    columns = []  # each column's values, converted for the database
    for name in names:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
        if name in rows[0]:
            columns.append([processor(row[name]) for row in rows])
        else:
            # The statement also names the columns left out that have a default in Python. SQLAlchemy
            # wraps a callable default to take the execution context, which none of ours reads.
            default = table.c[name].default
            value = processor(default.arg if default.is_scalar else default.arg(None))
            columns.append([value] * len(rows))
    connection = db.session.connection()
    if dialect.name == "postgresql":
        _copy(connection, table, names, columns)
        return
    parameters = (list(zip(*columns)) if compiled.positional
                  else [dict(zip(names, values)) for values in zip(*columns)])
    connection.exec_driver_sql(compiled.string, parameters)


def _copy(connection, table: Table, names: list[str], columns: list[list]) -> None:
    """On PostgreSQL, the rows through COPY, the server's bulk load, in the session's transaction: an
    executemany sends, and the server runs, one INSERT per row (measured in bench.imports)."""
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in zip(*columns):
            copy.write_row(row)


def reserved_ids(table: Table, count: int) -> list[int] | None:
    """`count` new ids for `table`, taken from its sequence in one statement, to give the rows before
    they are written, on PostgreSQL; None on SQLite, which has no sequence: its caller reads the ids
    back. COPY returns nothing, and reading the ids back cost a statement per batch."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    sequence = func.pg_get_serial_sequence(table.name, table.c.id.name)
    return list(db.session.connection().scalars(
        select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
