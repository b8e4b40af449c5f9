"""The statement the helpers share: rows upserted into one table through a
TEMP upsert_into table of the connection (see run()).  Works on
any DB-API connection or cursor of the sqlite3 module (or one like it)
that has the extension loaded."""
import hashlib
import json
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


def run(cursor, table, schema, columns, rows, options):
    """Upsert rows (sequences in the order of columns) into schema.table
    with cursor, a DB-API cursor.  Returns UpsertCounts.

    The TEMP table is named for its arguments and kept for the next call
    with the same ones (its statements stay prepared): no DROP, which a
    rollback could undo, and a rollback that undoes its CREATE is followed
    by IF NOT EXISTS.  The counts are the difference of upsert_into_stats()
    before and after."""
    options = dict(options)
    if columns is not None and "columns" not in options:
        options["columns"] = columns
    target = quote(table) if schema is None else \
        "%s.%s" % (quote(schema), quote(table))
    args = ", ".join([target] + [option_text(k, v)
                                 for k, v in sorted(options.items())])
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
