"""upsert_into, a SQLite extension for bulk upserts in plain SQL.

    import sqlite3, sqlite_upsert
    con = sqlite3.connect("data.db")
    sqlite_upsert.load(con)
    con.execute("CREATE VIRTUAL TABLE temp.up USING upsert_into(posts)")
    con.executemany("INSERT INTO up VALUES(?, ?, ?)", rows)

loadable_path() is the path of the compiled extension in this package,
without its suffix (SQLite adds .so, .dylib or .dll), for any client that
loads extensions by path; load(conn) loads it on a sqlite3 connection.
"""
import os

try:
    from ._version import __version__
except ImportError:  # the source tree, not built: the file VERSION
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..",
                           "VERSION")) as _f:
        __version__ = _f.read().strip()

__all__ = ["loadable_path", "load", "LoadExtensionUnavailable",
           "__version__"]


class LoadExtensionUnavailable(RuntimeError):
    """This Python's sqlite3 module cannot load extensions."""


def loadable_path():
    """The path of the extension in this package, without the suffix."""
    return os.path.normpath(os.path.join(os.path.dirname(__file__), "upsert"))


def load(conn):
    """Load upsert_into on conn, a connection of the sqlite3 module (or of
    a module like it: pysqlite3).  Extension loading is enabled for the
    call and disabled after it.  Raises LoadExtensionUnavailable when the
    module was built without extension loading, and sqlite3's
    OperationalError when SQLite refuses the extension (too old a SQLite:
    the message names both versions)."""
    if not hasattr(conn, "enable_load_extension"):
        raise LoadExtensionUnavailable(
            "sqlite_upsert: this Python's sqlite3 module cannot load "
            "extensions: it has no enable_load_extension() (Python was "
            "built without --enable-loadable-sqlite-extensions, as pyenv "
            "builds it by default); use a Python whose sqlite3 can, e.g. "
            "Debian's /usr/bin/python3, or pysqlite3 "
            "(pip install pysqlite3-binary; "
            "import pysqlite3.dbapi2 as sqlite3)")
    conn.enable_load_extension(True)
    try:
        conn.load_extension(loadable_path())
    finally:
        conn.enable_load_extension(False)
