"""Tests of sqlite_upsert.sqlalchemy and sqlite_upsert.pandas (Debian's
python3-sqlalchemy and python3-pandas; each is skipped without them)."""
import sqlite3
import unittest

import sqlite_upsert

try:
    import sqlalchemy
    from sqlalchemy import Column, Integer, String, create_engine, text
    from sqlalchemy.orm import Session, declarative_base
except ImportError:
    sqlalchemy = None
try:
    import pandas
except ImportError:
    pandas = None


@unittest.skipIf(sqlalchemy is None, "SQLAlchemy is missing")
class TestSQLAlchemy(unittest.TestCase):
    def setUp(self):
        from sqlite_upsert import sqlalchemy as su
        self.su = su
        Base = declarative_base()

        class Item(Base):
            __tablename__ = "items"
            id = Column(Integer, primary_key=True)
            name = Column(String, nullable=False)
            note = Column(String)

        self.Item = Item
        self.engine = su.enable(create_engine("sqlite://"))
        Base.metadata.create_all(self.engine)
        self.addCleanup(self.engine.dispose)

    def test_session_model(self):
        with Session(self.engine) as session:
            session.add(self.Item(id=1, name="old", note="kept"))
            session.commit()
            counts = self.su.upsert(session, self.Item,
                                    [{"id": 1, "name": "a"},
                                     {"id": 2, "name": "b"}])
            self.assertEqual(counts, (1, 1, 0))
            self.assertEqual((counts.inserted, counts.updated,
                              counts.skipped), (1, 1, 0))
            session.commit()
            rows = session.execute(text(
                "SELECT id, name, note FROM items ORDER BY id")).all()
        # note is not among the rows' keys: kept on update
        self.assertEqual([tuple(r) for r in rows],
                         [(1, "a", "kept"), (2, "b", None)])

    def test_connection_table_options(self):
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO items VALUES(1, 'old', 'n')"))
            counts = self.su.upsert(conn, self.Item.__table__,
                                    [{"id": 1, "name": "new", "note": "m"},
                                     {"id": 3, "name": "c", "note": None}],
                                    keep=["name"])
            self.assertEqual(counts, (1, 1, 0))
            self.assertEqual(conn.execute(text(
                "SELECT name, note FROM items WHERE id=1")).one(),
                ("old", "m"))
            # The statement run natively: no TEMP table
            self.assertEqual(conn.execute(text(
                "SELECT count(*) FROM temp.sqlite_master")).scalar(), 0)
            # nulls=keep goes through one TEMP table per table and
            # options, used again
            for _ in range(2):
                self.su.upsert(conn, self.Item.__table__,
                               [{"id": 1, "name": "x", "note": None}],
                               nulls="keep")
            self.assertEqual(conn.execute(text(
                "SELECT count(*) FROM temp.sqlite_master")).scalar(), 1)
            self.assertEqual(conn.execute(text(
                "SELECT name, note FROM items WHERE id=1")).one(),
                ("x", "m"))
            self.assertEqual(conn.execute(text(
                "SELECT upsert_into_version()")).scalar(),
                sqlite_upsert.__version__)

    def test_rollback(self):
        with Session(self.engine) as session:
            self.su.upsert(session, self.Item, [{"id": 5, "name": "x"}])
            session.rollback()
            self.assertEqual(session.execute(text(
                "SELECT count(*) FROM items")).scalar(), 0)

    def test_errors(self):
        with self.engine.begin() as conn:
            with self.assertRaisesRegex(ValueError, "no column 'nope'"):
                self.su.upsert(conn, self.Item, [{"id": 1, "nope": 2}])
            with self.assertRaisesRegex(ValueError, "unknown option 'kee'"):
                self.su.upsert(conn, self.Item, [{"id": 1, "name": "a"}],
                               kee=["id"])
            with self.assertRaises(TypeError):
                self.su.upsert(conn, object(), [])
            self.assertEqual(self.su.upsert(conn, self.Item, []), (0, 0, 0))


@unittest.skipIf(pandas is None, "pandas is missing")
class TestPandas(unittest.TestCase):
    def test_to_sql_sqlite3(self):
        import sqlite_upsert.pandas as sp
        con = sqlite3.connect(":memory:")
        self.addCleanup(con.close)
        sqlite_upsert.load(con)
        con.execute("CREATE TABLE items(id INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL, note TEXT)")
        con.execute("INSERT INTO items VALUES(1, 'old', 'kept')")
        df = pandas.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]})
        n = df.to_sql("items", con, if_exists="append", index=False,
                      method=sp.upsert)
        self.assertEqual(n, 3)
        self.assertEqual(
            con.execute("SELECT * FROM items ORDER BY id").fetchall(),
            [(1, "a", "kept"), (2, "b", None), (3, "c", None)])
        df2 = pandas.DataFrame({"id": [2, 4], "name": ["B", "d"]})
        df2.to_sql("items", con, if_exists="append", index=False,
                   method=sp.method_with(update=[]))
        self.assertEqual(
            con.execute("SELECT id, name FROM items ORDER BY id").fetchall(),
            [(1, "a"), (2, "b"), (3, "c"), (4, "d")])

    @unittest.skipIf(sqlalchemy is None, "SQLAlchemy is missing")
    def test_to_sql_sqlalchemy(self):
        import sqlite_upsert.pandas as sp
        from sqlite_upsert import sqlalchemy as su
        engine = su.enable(create_engine("sqlite://"))
        self.addCleanup(engine.dispose)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE items(id INTEGER PRIMARY KEY,"
                              " name TEXT)"))
            conn.execute(text("INSERT INTO items VALUES(1, 'old')"))
            df = pandas.DataFrame({"id": [1, 2], "name": ["a", "b"]})
            n = df.to_sql("items", conn, if_exists="append", index=False,
                          method=sp.upsert)
            self.assertEqual(n, 2)
            self.assertEqual(conn.execute(text(
                "SELECT id, name FROM items ORDER BY id")).all(),
                [(1, "a"), (2, "b")])


if __name__ == "__main__":
    unittest.main()
