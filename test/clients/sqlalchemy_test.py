#!/usr/bin/python3
"""Tests of tool/examples/sqlalchemy_example.py (SQLAlchemy 1.4, Debian's
python3).

    /usr/bin/python3 test/clients/sqlalchemy_test.py   (UPSERT_EXT overrides)
"""
import io
import json
import os
import sqlite3
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tool", "examples"))
import sqlalchemy_example as ex  # noqa: E402
from sqlalchemy import event, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

EXT = os.environ.get("UPSERT_EXT", ex.DEFAULT_EXT)


class Example(unittest.TestCase):
    def run_main(self, *args):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = ex.main(["--ext", EXT, *args])
        return rc, out.getvalue()

    def test_main_memory(self):
        rc, out = self.run_main()
        self.assertEqual(rc, 0, out)
        self.assertIn("{'inserted': 5000, 'updated': 5000, 'skipped': 0}", out)
        self.assertIn("items: 10000 rows, 10000 as upserted", out)

    def test_main_file(self):
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "t.db")
            rc, out = self.run_main(db)
            self.assertEqual(rc, 0, out)
            # Read the file back with the plain sqlite3 module.
            con = sqlite3.connect(db)
            self.assertEqual(con.execute(
                "SELECT count(*), sum(note='new'), min(id), max(id) FROM items"
            ).fetchone(), (10000, 10000, 1, 10000))
            con.close()


class BulkUpsert(unittest.TestCase):
    """One session.execute(insert(up_table), rows): one executemany."""

    def test_one_executemany_mixed_keys(self):
        engine = ex.make_engine("sqlite://", EXT)
        ex.Base.metadata.create_all(engine)
        calls = []

        @event.listens_for(engine, "before_cursor_execute")
        def _seen(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("INSERT INTO \"temp\".up"):
                calls.append((statement, executemany, len(parameters)))

        with Session(engine) as s:
            # 3000 existing rows, some of which the upsert leaves alone.
            s.add_all(ex.Item(id=i, name="old", note="keep")
                      for i in range(0, 15000, 5))
            s.commit()
            rows = [{"id": i, "name": "n%d" % i, "note": None}
                    for i in range(5000, 15000)]
            counts = ex.bulk_upsert(s, rows)
            s.commit()
            self.assertEqual(calls, [(
                "INSERT INTO \"temp\".up (id, name, note) VALUES (?, ?, ?)",
                True, 10000)])
            self.assertEqual(counts, {"inserted": 8000, "updated": 2000,
                                      "skipped": 0})
            self.assertEqual(s.execute(select(func.count()).select_from(
                ex.Item)).scalar(), 1000 + 10000)
            # Untouched rows kept; updated rows got the NULL note written.
            self.assertEqual(s.execute(select(ex.Item.name, ex.Item.note)
                             .where(ex.Item.id == 10)).one(), ("old", "keep"))
            self.assertEqual(s.execute(select(ex.Item.name, ex.Item.note)
                             .where(ex.Item.id == 5005)).one(),
                             ("n5005", None))
            # A second batch on the same pooled connection: the virtual table
            # exists already (IF NOT EXISTS), counts were reset.
            counts = ex.bulk_upsert(s, [{"id": 1, "name": "x", "note": "y"}])
            self.assertEqual(counts, {"inserted": 1, "updated": 0,
                                      "skipped": 0})
            # A failing row fails the whole statement, and nothing stays.
            with self.assertRaisesRegex(Exception,
                                        "NOT NULL constraint failed: items.name"):
                s.execute(insert(ex.up_table), [
                    {"id": 2, "name": "a", "note": None},
                    {"id": 3, "name": None, "note": None}])
            s.rollback()
            self.assertIsNone(s.get(ex.Item, 2))
        engine.dispose()


class Errors(unittest.TestCase):
    def test_wrong_path(self):
        engine = ex.make_engine("sqlite://", "/nonexistent/upsert")
        with self.assertRaises(RuntimeError) as cm:
            engine.connect()
        msg = str(cm.exception)
        self.assertIn("cannot load the upsert_into extension from "
                      "'/nonexistent/upsert'", msg)
        self.assertIn("cannot open shared object file", msg)
        self.assertIn("build it with `make`", msg)

    def test_wrong_path_from_main(self):
        err = io.StringIO()
        old = sys.stderr
        sys.stderr = err
        try:
            rc = ex.main(["--ext", "/nonexistent/upsert"])
        finally:
            sys.stderr = old
        self.assertEqual(rc, 1)
        self.assertTrue(err.getvalue().startswith(
            "sqlalchemy_example: cannot load the upsert_into extension"),
            err.getvalue())

    def test_loading_disabled(self):
        # What a Python built without extension loading (pyenv's) hands
        # the connect event: a connection without enable_load_extension.
        class NoLoad:
            pass
        with self.assertRaisesRegex(RuntimeError,
                                    "cannot load extensions.*/usr/bin/python3"):
            ex.load_upsert(NoLoad(), EXT)

    def test_loading_disabled_again_after_load(self):
        con = sqlite3.connect(":memory:")
        ex.load_upsert(con, EXT)
        self.assertEqual(con.execute(
            "SELECT count(*) FROM pragma_module_list WHERE name='upsert_into'"
        ).fetchone(), (1,))
        # load_upsert() switches extension loading off again.
        with self.assertRaises(sqlite3.OperationalError):
            con.execute("SELECT load_extension(?)", (EXT,)).fetchone()
        con.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
