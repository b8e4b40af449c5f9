#!/usr/bin/python3
"""Bulk upsert on the primary key with SQLAlchemy 1.4 and upsert_into.

    /usr/bin/python3 tool/examples/sqlalchemy_example.py [--ext PATH]
                                                         [--rows N] [DBFILE]

The extension is loaded in a "connect" event, so every pooled connection
has it; the TEMP virtual table is created in the session, and one
session.execute(insert(up_table), list_of_dicts) upserts every row: new keys
are inserted, existing keys updated in place (no DELETE, unlike
INSERT OR REPLACE / session.merge loops).

Run with Debian's /usr/bin/python3 (python3-sqlalchemy): its sqlite3 module
can load extensions.  A Python built without extension loading (pyenv's,
by default) has no enable_load_extension(); load_upsert() says so.
"""
import argparse
import json
import os
import sys

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, \
    create_engine, event, func, insert, select, text
from sqlalchemy.orm import Session, declarative_base

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EXT = os.path.join(HERE, "..", "..", "dist", "upsert")

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    note = Column(Text)


# The virtual table as SQLAlchemy sees it: a plain Table of the same
# columns, in its own MetaData so that create_all() leaves it alone.  No
# Python-side defaults here: a default would be written on update too.
up_table = Table("up", MetaData(),
                 *(Column(c.name, c.type) for c in Item.__table__.columns),
                 schema="temp")


def load_upsert(dbapi_connection, path):
    """Load the extension on a raw sqlite3 connection, with clear errors."""
    if not hasattr(dbapi_connection, "enable_load_extension"):
        raise RuntimeError(
            "this Python's sqlite3 module cannot load extensions (it was "
            "built without SQLITE_ENABLE_LOAD_EXTENSION; pyenv's is, by "
            "default): use Debian's /usr/bin/python3, or a Python built with "
            "PYTHON_CONFIGURE_OPTS=--enable-loadable-sqlite-extensions")
    dbapi_connection.enable_load_extension(True)
    try:
        dbapi_connection.load_extension(path)
    except Exception as e:  # sqlite3.OperationalError
        raise RuntimeError(
            "cannot load the upsert_into extension from %r (%s); build it "
            "with `make` and give the path of dist/upsert, without the "
            "suffix" % (path, e)) from e
    finally:
        dbapi_connection.enable_load_extension(False)


def make_engine(url, ext_path):
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _load(dbapi_connection, connection_record):
        load_upsert(dbapi_connection, ext_path)

    return engine


def bulk_upsert(session, rows):
    """Upsert a list of dicts in one statement; returns the counts."""
    session.execute(text(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.up USING upsert_into(items)"))
    session.execute(text("SELECT upsert_into_stats('up', 'reset')"))
    session.execute(insert(up_table), rows)
    return json.loads(session.execute(
        text("SELECT upsert_into_stats('up')")).scalar())


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext", default=os.environ.get("UPSERT_EXT", DEFAULT_EXT))
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("db", nargs="?", default=":memory:")
    args = ap.parse_args(argv)
    n = args.rows

    import sqlalchemy
    engine = make_engine("sqlite:///" + args.db, args.ext)
    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
    except RuntimeError as e:
        print("sqlalchemy_example: %s" % e, file=sys.stderr)
        return 1
    with Session(engine) as session:
        print("SQLAlchemy %s, SQLite %s" % (sqlalchemy.__version__,
              session.execute(text("SELECT sqlite_version()")).scalar()))
        # Existing rows: every even id, with a note that the upsert keeps
        # only where it gives one.
        session.add_all(Item(id=i, name="old%d" % i, note="seeded")
                        for i in range(2, n + 1, 2))
        session.commit()

        rows = [{"id": i, "name": "item%d" % i, "note": "new"}
                for i in range(1, n + 1)]
        counts = bulk_upsert(session, rows)
        session.commit()
        print("upsert_into_stats('up'):", counts)

        total = session.execute(select(func.count()).select_from(Item)).scalar()
        upserted = session.execute(
            select(func.count()).select_from(Item)
            .where(Item.name == "item" + func.cast(Item.id, Text))
            .where(Item.note == "new")).scalar()
        print("items: %d rows, %d as upserted" % (total, upserted))

    expected = {"inserted": n - n // 2, "updated": n // 2, "skipped": 0}
    if counts != expected or total != n or upserted != n:
        print("sqlalchemy_example: FAILED: expected %s and %d rows"
              % (expected, n), file=sys.stderr)
        return 1
    print("sqlalchemy_example: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
