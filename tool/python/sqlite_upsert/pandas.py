"""upsert_into for pandas: a DataFrame.to_sql(method=...) callable.

    import sqlite_upsert, sqlite_upsert.pandas
    con = sqlite3.connect("data.db"); sqlite_upsert.load(con)
    df.to_sql("items", con, if_exists="append", index=False,
              method=sqlite_upsert.pandas.upsert)

The table must exist, with its key (a PRIMARY KEY, or a UNIQUE index named
by key=): to_sql would create one without a key.  The frame's columns are
upsert_into's columns=, so others keep their values on update.  With a
SQLAlchemy engine, load the extension with sqlite_upsert.sqlalchemy.enable.
method_with(**options) is the same with upsert_into's options (key=,
update=, keep=, nulls=, where=).  Each call returns inserted + updated,
which to_sql adds up and returns.
"""
from ._upsert import UpsertCounts, run

__all__ = ["upsert", "method_with", "UpsertCounts"]


def _cursor(conn):
    """A DB-API cursor from what to_sql gives a method: a SQLAlchemy
    Connection, or (a sqlite3 connection given to to_sql) a cursor."""
    if hasattr(conn, "exec_driver_sql"):            # SQLAlchemy Connection
        return conn.connection.cursor(), True
    if hasattr(conn, "executemany") and hasattr(conn, "fetchone"):
        return conn, False                          # a DB-API cursor
    return conn.cursor(), True


def method_with(**options):
    """A to_sql method that upserts with upsert_into's options."""
    def method(pd_table, conn, keys, data_iter):
        cursor, own = _cursor(conn)
        try:
            counts = run(cursor, pd_table.name, pd_table.schema,
                              list(keys), list(data_iter), options)
        finally:
            if own:
                cursor.close()
        return counts.inserted + counts.updated
    return method


upsert = method_with()
upsert.__doc__ = "A DataFrame.to_sql method: rows upserted on the key."
