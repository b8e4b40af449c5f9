"""Tests of the installed package sqlite_upsert (make test-python runs
them from another directory, in a fresh venv, against the wheel)."""
import os
import sqlite3
import unittest

import sqlite_upsert


class FakeConnection:
    """A connection of a sqlite3 module built without extension loading:
    it has no enable_load_extension (nor load_extension)."""

    def execute(self, sql, *args):
        raise AssertionError("load() ran SQL on a connection that cannot "
                             "load extensions: " + sql)


class TestLoad(unittest.TestCase):
    def setUp(self):
        self.con = sqlite3.connect(":memory:")
        self.addCleanup(self.con.close)

    def test_installed_not_source(self):
        # The package under test is the installed one, with its library.
        self.assertNotIn(os.path.join("tool", "python"),
                         os.path.dirname(sqlite_upsert.__file__))
        path = sqlite_upsert.loadable_path()
        self.assertTrue(os.path.isabs(path))
        self.assertEqual(os.path.basename(path), "upsert")
        self.assertTrue(any(os.path.exists(path + s)
                            for s in (".so", ".dylib", ".dll")), path)

    def test_load_and_version(self):
        sqlite_upsert.load(self.con)
        (v,) = self.con.execute("SELECT upsert_into_version()").fetchone()
        self.assertEqual(v, sqlite_upsert.__version__)
        self.assertRegex(v, r"^\d+\.\d+\.\d+$")

    def test_loading_disabled_after(self):
        sqlite_upsert.load(self.con)
        with self.assertRaises(sqlite3.OperationalError):
            self.con.execute("SELECT load_extension(?)",
                             (sqlite_upsert.loadable_path(),))

    def test_load_twice(self):
        sqlite_upsert.load(self.con)
        sqlite_upsert.load(self.con)
        (n,) = self.con.execute(
            "SELECT count(*) FROM pragma_module_list"
            " WHERE name='upsert_into'").fetchone()
        self.assertEqual(n, 1)

    def test_upsert(self):
        sqlite_upsert.load(self.con)
        con = self.con
        con.execute("CREATE TABLE posts(id INTEGER PRIMARY KEY,"
                    " title TEXT NOT NULL, body TEXT)")
        con.execute("INSERT INTO posts VALUES(1, 'old', 'kept?')")
        con.execute("CREATE VIRTUAL TABLE temp.up USING upsert_into(posts)")
        con.executemany("INSERT INTO up VALUES(?, ?, ?)",
                        [(1, "a", "x"), (2, "b", "y"), (2, "B", "y")])
        con.commit()
        self.assertEqual(
            con.execute("SELECT * FROM posts ORDER BY id").fetchall(),
            [(1, "a", "x"), (2, "B", "y")])
        (stats,) = con.execute("SELECT upsert_into_stats('up')").fetchone()
        self.assertEqual(stats, '{"inserted":1,"updated":2,"skipped":0}')

    def test_no_extension_loading(self):
        with self.assertRaises(sqlite_upsert.LoadExtensionUnavailable) as cm:
            sqlite_upsert.load(FakeConnection())
        msg = str(cm.exception)
        self.assertIsInstance(cm.exception, RuntimeError)
        self.assertNotIsInstance(cm.exception, AttributeError)
        self.assertIn("cannot load extensions", msg)
        self.assertIn("enable_load_extension", msg)
        self.assertIn("/usr/bin/python3", msg)
        self.assertIn("pysqlite3", msg)


if __name__ == "__main__":
    unittest.main()
