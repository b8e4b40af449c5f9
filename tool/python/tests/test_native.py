"""Differential tests of the helpers' two paths: the statement of
upsert_into_sql() run by executemany (the native path of run()) against
the virtual table (run_vtab()), for every option.  Each case upserts the
same batches into two databases, one by each path, and the counts of
every batch and the whole table after it (rowids too) must be equal.
Cases with nulls=keep, triggers or an ON CONFLICT clause must take the
virtual table (upsert_into_sql() is NULL), the others the native path."""
import random
import sqlite3
import unittest

import sqlite_upsert
from sqlite_upsert import _upsert

# (schema, options, native?)  The schema creates table t; options are
# run()'s (columns= given by each case); native tells which path run()
# must take.
CASES = [
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"update": ["a"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"update": []}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"keep": ["b"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"where": "excluded.b > b OR b IS NULL"}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"where": "excluded.b > b", "update": ["b"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"nulls": "keep"}, False),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, e TEXT NOT NULL UNIQUE, b INT)",
     {"key": ["e"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, e TEXT NOT NULL UNIQUE, b INT)",
     {"key": "e", "keep": ["b"]}, True),
    ("CREATE TABLE t(x TEXT, y INT, b INT, PRIMARY KEY(x, y))"
     " WITHOUT ROWID", {}, True),
    ("CREATE TABLE t(x TEXT, y INT, b INT, PRIMARY KEY(x, y))"
     " WITHOUT ROWID", {"where": "excluded.b <> b"}, True),
    # The row does not give n, NOT NULL without DEFAULT: the statement
    # reads the stored value (upsert_into_fresh(?N+1))
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, n TEXT NOT NULL"
     " DEFAULT 'd', m TEXT NOT NULL)", {"columns": ["id", "a"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, n TEXT NOT NULL"
     " DEFAULT 'd', m TEXT NOT NULL)", {"columns": ["id", "a"],
                                        "update": []}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT DEFAULT 'x', b INT)",
     {"columns": ["id", "b"], "nulls": "keep"}, False),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY)", {}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT UNIQUE"
     " ON CONFLICT IGNORE, b INT)", {}, False),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT UNIQUE"
     " ON CONFLICT REPLACE, b INT)", {}, False),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT);"
     " CREATE TABLE lg(x);"
     " CREATE TRIGGER tu BEFORE UPDATE ON t WHEN new.b > 5"
     " BEGIN SELECT RAISE(IGNORE); END", {}, False),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT);"
     " CREATE TABLE lg(x);"
     " CREATE TEMP TRIGGER ti AFTER INSERT ON t"
     " BEGIN INSERT INTO lg VALUES(new.id); END", {}, False),
    # A self-referencing foreign key with an action: changes() counts only
    # the statement's own rows, on both paths
    ("PRAGMA foreign_keys=ON; CREATE TABLE t(id INTEGER PRIMARY KEY,"
     " a TEXT UNIQUE, b INT, p TEXT REFERENCES t(a) ON UPDATE CASCADE"
     " ON DELETE SET NULL)", {"columns": ["id", "a", "b"]}, True),
    ("CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT, b INT)",
     {}, True),
    ("CREATE TABLE t(\"we\"\"ird ?3\" INTEGER PRIMARY KEY, a TEXT, b INT)",
     {"where": "excluded.a <> '?3'"}, True),
]


def connect(schema):
    con = sqlite3.connect(":memory:")
    sqlite_upsert.load(con)
    con.executescript(schema)
    return con


def batch(rnd, cols, n):
    """n random rows for cols: keys from a small range (so that batches
    update, and repeat keys), NULLs now and then."""
    rows = []
    for _ in range(n):
        row = []
        for c in cols:
            if c in ("id", "y", "we\"ird ?3"):
                row.append(rnd.randint(1, 12))
            elif c in ("x", "e"):
                row.append(rnd.choice("abcdef"))
            elif c == "a":
                row.append(rnd.choice([None, "p", "q", "r", "s"]))
            else:
                row.append(rnd.choice([None, 1, 3, 5, 7, 9]))
        rows.append(tuple(row))
    return rows


def table(con):
    has_rowid = con.execute("SELECT wr=0 FROM pragma_table_list('t')"
                            " WHERE schema='main'").fetchone()[0]
    order = "rowid, *" if has_rowid else "*"
    return con.execute("SELECT %s FROM t ORDER BY 1, 2" % order).fetchall()


class TestNativeAgainstVtab(unittest.TestCase):
    def test_cases(self):
        for i, (schema, options, native) in enumerate(CASES):
            with self.subTest(case=i, schema=schema, options=options):
                self.run_case(i, schema, dict(options), native)

    def run_case(self, i, schema, options, native):
        nat, vt = connect(schema), connect(schema)
        self.addCleanup(nat.close)
        self.addCleanup(vt.close)
        cols = options.pop("columns", None)
        if cols is None:
            cols = [r[1] for r in nat.execute(
                "SELECT * FROM pragma_table_xinfo('t')") if r[6] == 0]
        opts = dict(options, columns=cols)
        args = _upsert._args("t", None, opts)
        sql = nat.execute("SELECT upsert_into_sql(%s)"
                          % ", ".join("?" * len(args)), args).fetchone()[0]
        self.assertEqual(sql is not None, native, sql)
        rnd = random.Random(i)
        for b in range(6):
            rows = batch(rnd, cols, rnd.choice([1, 5, 30]))
            c_nat = c_vt = e_nat = e_vt = None
            try:
                c_nat = _upsert.run(nat.cursor(), "t", None, cols, rows,
                                    options)
            except sqlite3.Error as e:
                e_nat = (type(e), str(e))
            try:
                c_vt = _upsert.run_vtab(vt.cursor(), args, rows)
            except sqlite3.Error as e:
                e_vt = (type(e), str(e))
            self.assertEqual(e_nat, e_vt, (b, rows))
            self.assertEqual(c_nat, c_vt, (b, rows))
            if c_nat is not None:
                self.assertEqual(sum(c_nat), len(rows))
            self.assertEqual(table(nat), table(vt), (b, rows))
            if nat.execute("SELECT count(*) FROM sqlite_schema"
                           " WHERE name='lg'").fetchone()[0]:
                self.assertEqual(
                    nat.execute("SELECT * FROM lg").fetchall(),
                    vt.execute("SELECT * FROM lg").fetchall())
            nat.commit()
            vt.commit()
        # The native path creates no virtual table
        self.assertEqual(nat.execute(
            "SELECT count(*) FROM temp.sqlite_schema"
            " WHERE sql LIKE '%upsert_into%'").fetchone()[0],
            0 if native else 1)

    def test_text_is_the_vtab_statement(self):
        # What the virtual table runs for a row, as the trace sees it (an
        # inner statement's text after "-- ")
        con = connect("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT)")
        self.addCleanup(con.close)
        seen = []
        con.execute("CREATE VIRTUAL TABLE temp.up USING upsert_into(t,"
                    " keep=(b), where=excluded.a <> a)")
        con.set_trace_callback(seen.append)
        con.execute("INSERT INTO up VALUES(1, 'x', 2)")
        con.set_trace_callback(None)
        sql = con.execute("SELECT upsert_into_sql('t', 'keep=(b)',"
                          " 'where=excluded.a <> a')").fetchone()[0]
        # but for the argument the table binds to itself, ?N+1
        self.assertTrue(sql.endswith("upsert_into_count(1)"), sql)
        self.assertIn("-- " + sql.replace("upsert_into_count(1)",
                                          "upsert_into_count(?4)"), seen)

    def test_counts_exact_with_sqlalchemy_session(self):
        try:
            from sqlalchemy import create_engine, text, Table, MetaData
            from sqlite_upsert import sqlalchemy as su
        except ImportError:
            self.skipTest("SQLAlchemy is missing")
        engine = su.enable(create_engine("sqlite://"))
        self.addCleanup(engine.dispose)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE c(id INTEGER PRIMARY KEY,"
                              " name TEXT, v INT)"))
            conn.execute(text("INSERT INTO c VALUES(2, 'old', 1)"))
            t = Table("c", MetaData(), autoload_with=conn)
            rows = [{"id": i, "name": "n%d" % i, "v": i} for i in range(1, 5)]
            self.assertEqual(su.upsert(conn, t, rows), (3, 1, 0))
            self.assertEqual(su.upsert(conn, t, rows, where="excluded.v > v"),
                             (0, 0, 4))
            self.assertEqual(su.upsert(conn, t, rows, nulls="keep"),
                             (0, 4, 0))
            self.assertEqual(su.upsert(conn, t, [{"id": 9}]), (1, 0, 0))
            self.assertEqual(conn.execute(text(
                "SELECT count(*) FROM temp.sqlite_schema")).scalar(), 1)


if __name__ == "__main__":
    unittest.main()
