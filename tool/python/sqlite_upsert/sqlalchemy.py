"""upsert_into for SQLAlchemy (1.4 and 2.0), on SQLite engines.

    from sqlite_upsert import sqlalchemy as su
    engine = su.enable(create_engine("sqlite:///data.db"))
    with Session(engine) as session:
        counts = su.upsert(session, Item, [{"id": 1, "name": "a"}, ...])
        session.commit()
    counts.inserted, counts.updated, counts.skipped

enable(engine) loads the extension on every connection the engine opens.
upsert() writes rows (dicts keyed by column name, all with the keys of the
first) into a model's table or a Table, on the session's connection and
in its transaction: by an executemany of the statement upsert_into would
run (upsert_into_sql()), or, where that could count differently, through
a TEMP upsert_into table (one per table and options, kept for the next
call); the
options are upsert_into's (key=, update=, keep= as lists of column names,
nulls="keep", where="SQL"); columns= defaults to the keys of the first row,
so that a column the rows do not give keeps its value on update.
"""
from sqlalchemy import event

from . import load
from ._upsert import UpsertCounts, getter, run

__all__ = ["enable", "upsert", "UpsertCounts"]


def enable(engine):
    """Load upsert_into on each new DB-API connection of engine (connections
    already in its pool are not changed: call this before using it).
    Returns engine."""
    event.listen(engine, "connect", _on_connect)
    return engine


def _on_connect(dbapi_connection, connection_record):
    load(dbapi_connection)


def _table(model_or_table):
    table = getattr(model_or_table, "__table__", model_or_table)
    if not hasattr(table, "columns") or not hasattr(table, "name"):
        raise TypeError("sqlite_upsert.sqlalchemy.upsert: %r is neither a "
                        "mapped class nor a Table" % (model_or_table,))
    return table


def upsert(session_or_connection, model_or_table, rows, **options):
    """Upsert rows into the table of model_or_table.  Returns UpsertCounts
    (inserted, updated, skipped)."""
    table = _table(model_or_table)
    rows = list(rows)
    connection = session_or_connection
    if hasattr(connection, "get_bind") and hasattr(connection, "connection"):
        connection = connection.connection()       # a Session
    columns = options.pop("columns", None)
    if columns is None and rows:
        columns = list(rows[0].keys())
    if columns is None:
        return UpsertCounts(0, 0, 0)
    known = set(table.columns.keys())
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError("sqlite_upsert.sqlalchemy.upsert: table %r has no "
                         "column %s" % (table.name, ", ".join(map(repr, unknown))))
    cursor = connection.connection.cursor()        # the DB-API connection
    try:
        return run(cursor, table.name, table.schema, columns, rows,
                   options, getter(columns))
    finally:
        cursor.close()
