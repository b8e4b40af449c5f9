"""The statement the helpers share: rows upserted into one table, by the
statement upsert_into would run, or through a TEMP upsert_into table of
the connection (see run()).  Works on any DB-API connection or cursor of
the sqlite3 module (or one like it) that has the extension loaded."""
import hashlib
import json
from operator import itemgetter
from collections import namedtuple

UpsertCounts = namedtuple("UpsertCounts", "inserted updated skipped")
UpsertCounts.__doc__ = "What upsert_into_stats() counted for one call."

# upsert_into's options, and whether each takes a list of columns
OPTIONS = {"key": True, "columns": True, "update": True, "keep": True,
           "nulls": False, "where": False}


def quote(name):
    """name as an SQL identifier, in double quotes."""
    return '"%s"' % str(name).replace('"', '""')


def option_text(name, value):
    """The text of one option of CREATE VIRTUAL TABLE ... upsert_into()."""
    if name not in OPTIONS:
        raise ValueError("sqlite_upsert: unknown option %r (options: %s)"
                         % (name, ", ".join(OPTIONS)))
    if OPTIONS[name]:
        if isinstance(value, str):
            value = [value]
        return "%s=(%s)" % (name, ",".join(quote(c) for c in value))
    return "%s=%s" % (name, value)


def run(cursor, table, schema, columns, rows, options, get=None):
    """Upsert rows into schema.table with cursor, a DB-API cursor of the
    sqlite3 module (or of one like it).  get(row), if given, is the tuple
    of a row's values in the order of columns; else each row is that
    tuple.  Returns UpsertCounts.

    The native path: upsert_into_sql() gives the statement that a TEMP
    upsert_into table of these arguments would run for each row, and
    executemany() runs it (the rows are bound as they are, or as get()
    makes them, one at a time: no list of them is built).  Its
    upsert_into_count(1) goes up by one for each row updated, and
    upsert_into_count() tells how many it counted.  The cursor's rowcount
    after executemany() is the sum of sqlite3_changes() after each row:
    1 for a row inserted or updated, 0 for one skipped, which is how the
    virtual table counts them.  Where
    that would not hold (nulls=keep, triggers, ON CONFLICT clauses: see
    upsert_into_sql() in ext/upsert.c), upsert_into_sql() returns NULL and
    the rows go through the virtual table (run_vtab())."""
    options = dict(options)
    if columns is not None and "columns" not in options:
        options["columns"] = columns
    rows = rows if isinstance(rows, list) else list(rows)
    args = _args(table, schema, options)
    sql = None
    if columns is not None:
        cursor.execute("SELECT upsert_into_sql(%s), upsert_into_count()"
                       % ", ".join("?" * len(args)), args)
        sql, before = cursor.fetchone()
    if sql is None:
        if get is not None:
            rows = list(map(get, rows))
        return run_vtab(cursor, args, rows)
    params = rows if get is None else map(get, rows)
    cursor.executemany(sql, params)
    changed = cursor.rowcount
    cursor.execute("SELECT upsert_into_count()")
    updated = cursor.fetchone()[0] - before
    return UpsertCounts(changed - updated, updated, len(rows) - changed)


def getter(columns):
    """A function from a dict (or a mapping) to the tuple of its values for
    columns, in that order."""
    get = itemgetter(*columns)
    if len(columns) == 1:
        return lambda r: (get(r),)
    return get


def _args(table, schema, options):
    """The arguments of upsert_into(...) for table and options, as text."""
    target = quote(table) if schema is None else \
        "%s.%s" % (quote(schema), quote(table))
    return [target] + [option_text(k, v) for k, v in sorted(options.items())]


def run_vtab(cursor, args, rows):
    """Upsert rows (sequences in the order of the declared columns) with
    cursor through a TEMP upsert_into table of the arguments args.
    Returns UpsertCounts.

    The TEMP table is named for its arguments and kept for the next call
    with the same ones (its statements stay prepared): no DROP, which a
    rollback could undo, and a rollback that undoes its CREATE is followed
    by IF NOT EXISTS.  The counts are the difference of upsert_into_stats()
    before and after."""
    args = ", ".join(args)
    name = "upsert_py_" + hashlib.sha1(args.encode()).hexdigest()[:16]
    cursor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.%s"
                   " USING upsert_into(%s)" % (quote(name), args))
    cursor.execute("SELECT count(*) FROM pragma_table_info(?, 'temp')",
                   (name,))
    marks = ", ".join("?" * cursor.fetchone()[0])
    before = _stats(cursor, name)
    cursor.executemany("INSERT INTO temp.%s VALUES(%s)"
                       % (quote(name), marks), rows)
    after = _stats(cursor, name)
    return UpsertCounts(*(a - b for a, b in zip(after, before)))


def _stats(cursor, name):
    cursor.execute("SELECT upsert_into_stats(?)", (name,))
    d = json.loads(cursor.fetchone()[0])
    return d["inserted"], d["updated"], d["skipped"]
