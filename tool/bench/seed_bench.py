#!/usr/bin/python3
"""Bulk upsert from SQLAlchemy: the ORM answers, native SQL, upsert_into.

    /usr/bin/python3 tool/bench/seed_bench.py [--rows N] [--runs N]
                                  [--ext PATH] [--json FILE] [--markdown]
    /usr/bin/python3 tool/bench/seed_bench.py --combine FILE... [--markdown]
    /usr/bin/python3 tool/bench/seed_bench.py --callgrind [--rows N]
                                  [--ext PATH]

The benchmark of issue 4, "tool/bench/seed_bench.py": a file database (a fresh
one for every run, in a temporary directory, default rollback journal and
synchronous setting), customer(id INTEGER PRIMARY KEY, name TEXT), and N
rows (10000) upserted in three scenarios: all new, 50/50 (every even id
seeded first), all existing.  The methods, each in one transaction:

  merge     session.merge(Customer(...)) per row, then commit (ORM)
  bulk      query the existing ids (IN, in chunks), then
            session.bulk_insert_mappings + session.bulk_update_mappings
  on_conf   sqlalchemy.dialects.sqlite.insert().on_conflict_do_update,
            executed with a list of dicts (Core executemany)
  native    INSERT ... ON CONFLICT(id) DO UPDATE SET name=excluded.name,
            executemany of tuples through connection.exec_driver_sql (the
            DBAPI cursor's executemany, no SQLAlchemy parameter handling)
  up_core   upsert_into: CREATE VIRTUAL TABLE temp.customer_up USING
            upsert_into(customer), then session.execute(insert(up), dicts),
            as the README recipe (Core executemany)
  up_sql    upsert_into: the same virtual table, executemany of tuples
            through connection.exec_driver_sql: like for like with native
  pkg       sqlite_upsert.sqlalchemy.upsert(conn, Customer, dicts), the
            package's helper from the source tree (tool/python): the
            statement of upsert_into_sql() by executemany, the dicts
            turned into tuples as they are bound, exact counts

The extension is loaded in a "connect" event
(tool/examples/sqlalchemy_example.py) for every method, so the connection
is the same kind for all of them; the pool is warmed before timing, so no
method pays for opening it.  Rows are built before the clock starts (dicts
or tuples, as each method takes them); CREATE VIRTUAL TABLE is timed with
the upsert_into methods.  Two clocks run around the method including its
COMMIT: time.perf_counter (wall time) and time.process_time (CPU time of
this process: no fsync waits, no other processes; SQLite runs in the
process, so it is all there); each gets its own table.  The seconds are the
median of --runs runs, taken round-robin over the methods (a round runs
each method once).  Ratios and speedups are paired: the median over rounds
of the ratio within a round, so that a change in machine load between
rounds (a shared machine) cancels out.  After every run the table is read
back through a separate sqlite3 connection and must hold exactly ids 1..N
with the new names (and pass integrity_check); upsert_into's counts must
match the scenario.  Any mismatch stops the run with exit code 1.  The
targets (issue 4) are reported, not enforced, in wall and in CPU time, for
up_core and up_sql: at least 4x faster than the faster of merge and bulk,
and within 1.2x of native.

--json FILE writes every run's seconds; --combine reads several such files
and reports each figure as the median of the invocations' figures.
--markdown also prints the tables as README.md has them.

--callgrind counts instructions instead (valgrind): for each scenario, a
process per method (4, 6, 5b, 5) and a baseline process that does everything
but the upsert (imports, engine, seeding, building the rows, warming the
pool), each whole under callgrind with PYTHONHASHSEED=0; a method's count
is its process's less the baseline's.  The table is checked afterwards.
"""
import argparse
import gc
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time

try:
    import sqlalchemy
except ImportError:
    sys.exit("seed_bench: SQLAlchemy is missing: run with Debian's "
             "/usr/bin/python3 after `sh tool/deps.sh clients` (as root) or "
             "`apt-get install python3-sqlalchemy`")
from sqlalchemy import (Column, Integer, MetaData, Table, Text, create_engine,
                        event, insert, select, text)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.pool import QueuePool

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EXT = os.path.join(HERE, "..", "..", "dist", "upsert")

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customer"
    id = Column(Integer, primary_key=True)
    name = Column(Text)


# The virtual table as SQLAlchemy sees it: same columns, own MetaData (so
# create_all leaves it alone), no Python-side defaults.
up_table = Table("customer_up", MetaData(),
                 *(Column(c.name, c.type) for c in Customer.__table__.columns),
                 schema="temp")

CREATE_UP = "CREATE VIRTUAL TABLE temp.customer_up USING upsert_into(customer)"
NATIVE_SQL = ("INSERT INTO customer(id, name) VALUES(?, ?) "
              "ON CONFLICT(id) DO UPDATE SET name=excluded.name")
UP_SQL = "INSERT INTO temp.customer_up(id, name) VALUES(?, ?)"
IN_CHUNK = 10000           # ids per IN (...) query; SQLite allows 32766 '?'

SCENARIOS = [("all-new", 0.0), ("50-50", 0.5), ("all-existing", 1.0)]


class CheckFailed(Exception):
    pass


def load_upsert(dbapi_connection, path):
    """Load the extension on a raw sqlite3 connection, with clear errors."""
    if not hasattr(dbapi_connection, "enable_load_extension"):
        raise RuntimeError(
            "this Python's sqlite3 module cannot load extensions: run "
            "Debian's /usr/bin/python3 (pyenv's Python has no "
            "enable_load_extension by default)")
    dbapi_connection.enable_load_extension(True)
    try:
        dbapi_connection.load_extension(path)
    except Exception as e:  # sqlite3.OperationalError
        raise RuntimeError("cannot load the upsert_into extension from %r "
                           "(%s): run make" % (path, e)) from e
    finally:
        dbapi_connection.enable_load_extension(False)


def make_engine(dbfile, ext_path):
    # SQLAlchemy 1.4 gives a file database a NullPool (a new connection,
    # and so a new extension load, per checkout); a one-connection
    # QueuePool, warmed before timing, keeps that out of every figure.
    engine = create_engine("sqlite:///" + dbfile, poolclass=QueuePool,
                           pool_size=1, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _load(dbapi_connection, connection_record):
        load_upsert(dbapi_connection, ext_path)

    return engine


# --- the methods: each gets the engine and the rows, and commits once ---

def m_merge(engine, dicts, tuples):
    with Session(engine) as s:
        for r in dicts:
            s.merge(Customer(id=r["id"], name=r["name"]))
        s.commit()


def m_bulk(engine, dicts, tuples):
    with Session(engine) as s:
        ids = [r["id"] for r in dicts]
        existing = set()
        for i in range(0, len(ids), IN_CHUNK):
            existing.update(s.scalars(select(Customer.id).where(
                Customer.id.in_(ids[i:i + IN_CHUNK]))))
        s.bulk_insert_mappings(
            Customer, [r for r in dicts if r["id"] not in existing])
        s.bulk_update_mappings(
            Customer, [r for r in dicts if r["id"] in existing])
        s.commit()


def m_on_conflict(engine, dicts, tuples):
    stmt = sqlite_insert(Customer.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=[Customer.id],
                                      set_={"name": stmt.excluded.name})
    with engine.begin() as conn:
        conn.execute(stmt, dicts)


def m_native(engine, dicts, tuples):
    with engine.begin() as conn:
        conn.exec_driver_sql(NATIVE_SQL, tuples)


def m_up_core(engine, dicts, tuples):
    with Session(engine) as s:
        s.execute(text(CREATE_UP))
        s.execute(insert(up_table), dicts)
        stats = s.execute(text("SELECT upsert_into_stats('customer_up')"))
        stats = json.loads(stats.scalar())
        s.execute(text("DROP TABLE temp.customer_up"))
        s.commit()
    return stats


def m_up_sql(engine, dicts, tuples):
    with engine.begin() as conn:
        conn.exec_driver_sql(CREATE_UP)
        conn.exec_driver_sql(UP_SQL, tuples)
        stats = json.loads(conn.exec_driver_sql(
            "SELECT upsert_into_stats('customer_up')").scalar())
        conn.exec_driver_sql("DROP TABLE temp.customer_up")
    return stats


def m_pkg(engine, dicts, tuples):
    # The package's helper, from the source tree (tool/python), imported
    # before the clock starts (import_pkg()); the engine has loaded the
    # extension already (make_engine)
    from sqlite_upsert import sqlalchemy as su
    with engine.begin() as conn:
        c = su.upsert(conn, Customer, dicts)
    return {"inserted": c.inserted, "updated": c.updated,
            "skipped": c.skipped}


def import_pkg():
    """Import sqlite_upsert from the source tree, once."""
    src = os.path.join(HERE, "..", "python")
    if src not in sys.path:
        sys.path.insert(0, src)
    from sqlite_upsert import sqlalchemy  # noqa: F401


# (key, label, function, uses upsert_into)
METHODS = [
    ("merge", "1 session.merge per row (ORM)", m_merge, False),
    ("bulk", "2 query ids + bulk_insert/update_mappings", m_bulk, False),
    ("on_conf", "3 sqlite.insert().on_conflict_do_update", m_on_conflict,
     False),
    ("native", "4 native ON CONFLICT, exec_driver_sql", m_native, False),
    ("up_core", "5 upsert_into, insert(up) + dicts (Core)", m_up_core, True),
    ("up_sql", "5b upsert_into, exec_driver_sql", m_up_sql, True),
    ("pkg", "6 sqlite_upsert.sqlalchemy.upsert (dicts)", m_pkg, True),
]


def seeded_ids(n, frac):
    """The ids present before the upsert: none, every even id, or all."""
    if frac == 0.0:
        return []
    if frac == 1.0:
        return list(range(1, n + 1))
    return list(range(2, n + 1, 2))


def new_name(i):
    return "customer %d (new)" % i


def verify(dbfile, n, n_seeded, stats, key):
    """Read the table back on a fresh connection: ids 1..n, new names."""
    con = sqlite3.connect(dbfile)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchall()
        rows = con.execute("SELECT id, name FROM customer ORDER BY id") \
                  .fetchall()
    finally:
        con.close()
    if ok != [("ok",)]:
        raise CheckFailed("%s: integrity_check: %r" % (key, ok[:5]))
    expected = [(i, new_name(i)) for i in range(1, n + 1)]
    if rows != expected:
        bad = next((i for i, (a, b) in enumerate(zip(rows, expected))
                    if a != b), min(len(rows), len(expected)))
        raise CheckFailed(
            "%s: table has %d rows, expected %d; first difference: %r, "
            "expected %r" % (
                key, len(rows), n,
                rows[bad] if bad < len(rows) else None,
                expected[bad] if bad < n else None))
    if stats is not None:
        want = {"inserted": n - n_seeded, "updated": n_seeded, "skipped": 0}
        if stats != want:
            raise CheckFailed("%s: upsert_into_stats %r, expected %r"
                              % (key, stats, want))


def prepare(dbfile, ext, n, frac):
    """A fresh database, seeded; returns (engine, seed, dicts, tuples)."""
    import_pkg()
    engine = make_engine(dbfile, ext)
    Base.metadata.create_all(engine)
    seed = seeded_ids(n, frac)
    if seed:                            # (an empty list would execute once)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO customer(id, name) VALUES(?, ?)",
                [(i, "customer %d (old)" % i) for i in seed])
    dicts = [{"id": i, "name": new_name(i)} for i in range(1, n + 1)]
    tuples = [(i, new_name(i)) for i in range(1, n + 1)]
    engine.connect().close()            # the pool holds a loaded connection
    gc.collect()                        # no garbage of earlier runs to pay for
    return engine, seed, dicts, tuples


def remove_db(dbfile):
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(dbfile + suffix):
            os.remove(dbfile + suffix)


def run_once(tmpdir, ext, n, frac, method, serial):
    """One run of one method on a fresh, seeded database.

    Returns (wall seconds, CPU seconds of this process), both taken around
    the method including its COMMIT."""
    key, _, fn, _ = method
    dbfile = os.path.join(tmpdir, "seed%d.db" % serial)
    engine = None
    try:
        engine, seed, dicts, tuples = prepare(dbfile, ext, n, frac)
        c0 = time.process_time()
        t0 = time.perf_counter()
        stats = fn(engine, dicts, tuples)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
    finally:
        if engine is not None:
            engine.dispose()
    verify(dbfile, n, len(seed), stats, "%s (seeded %d)" % (key, len(seed)))
    remove_db(dbfile)
    return dt, dc


# --- figures: from the raw times of one invocation, or several ---

CLOCKS = [("wall", "wall time (time.perf_counter)"),
          ("cpu", "CPU time of the process (time.process_time)")]
UP_KEYS = [m[0] for m in METHODS if m[3]]


def figures(times):
    """Medians, paired ratios to native and paired speedups over 1/2.

    times: {clock: {scenario: {key: [seconds per round]}}}.  A paired
    figure is the median over rounds of the ratio within a round, so that
    a change in machine load between rounds cancels out."""
    fig = {}
    for clock, _ in CLOCKS:
        t = times[clock]
        f = fig[clock] = {"sec": {}, "ratio": {}, "speed": {}, "speed3": {}}
        for scen, _ in SCENARIOS:
            ts = t[scen]
            orm = [min(a, b) for a, b in zip(ts["merge"], ts["bulk"])]
            f["sec"][scen] = {k: statistics.median(v) for k, v in ts.items()}
            f["ratio"][scen] = {
                k: statistics.median(a / b for a, b in zip(v, ts["native"]))
                for k, v in ts.items()}
            f["speed"][scen] = {
                k: statistics.median(o / u for o, u in zip(orm, ts[k]))
                for k in UP_KEYS}
            f["speed3"][scen] = {
                k: statistics.median(o / u for o, u in zip(ts["on_conf"],
                                                           ts[k]))
                for k in UP_KEYS}
    return fig


def median_figures(figs):
    """Each figure the median of its value in several invocations."""
    def walk(xs):
        if isinstance(xs[0], dict):
            return {k: walk([x[k] for x in xs]) for k in xs[0]}
        return statistics.median(xs)
    return walk(figs)


def fmt_s(x):
    if x >= 10:
        return "%.2f" % x
    if x >= 1:
        return "%.3f" % x
    return "%.4f" % x


def fmt_r(x):
    return "%.0fx" % x if x >= 100 else "%.2fx" % x


def print_table(fig, clock, title):
    f = fig[clock]
    print()
    print(title)
    w = max(len(m[1]) for m in METHODS)
    head = "%-*s" % (w, "method")
    for scen, _ in SCENARIOS:
        head += " | %8s %6s" % (scen[:8], "ratio")
    print(head)
    print("-" * len(head))
    for key, label, _, _ in METHODS:
        line = "%-*s" % (w, label)
        for scen, _ in SCENARIOS:
            line += " | %8s %6s" % (fmt_s(f["sec"][scen][key]),
                                    fmt_r(f["ratio"][scen][key]))
        print(line)


def print_markdown(fig, clock):
    """The table as README.md has it (seconds to 2 significant digits)."""
    f = fig[clock]
    print()
    print("| method | " + " | ".join("%s s | ratio" % s for s, _ in SCENARIOS)
          + " |")
    print("|---|" + "---:|" * (2 * len(SCENARIOS)))
    labels = {"merge": "1 `session.merge` per row",
              "bulk": "2 query ids + bulk mappings",
              "on_conf": "3 `on_conflict_do_update`, dicts",
              "native": "4 native upsert, `exec_driver_sql`",
              "up_core": "5 upsert_into, `insert(up)` + dicts",
              "up_sql": "5b upsert_into, `exec_driver_sql`",
              "pkg": "6 `sqlite_upsert.sqlalchemy.upsert`, dicts"}

    def sig2(x):                        # 2.62, 0.050, 0.0075
        return "%.*f" % (max(2, 1 - math.floor(math.log10(x))), x)
    for key, _, _, _ in METHODS:
        print("| %s | " % labels[key] + " | ".join(
            "%s | %s" % (sig2(f["sec"][s][key]), fmt_r(f["ratio"][s][key]))
            for s, _ in SCENARIOS) + " |")
    for key in UP_KEYS:
        print("| speedup of %s over the faster of 1, 2 | " % labels[key][:2]
              .strip() + " | ".join(" | %.1fx" % f["speed"][s][key]
                                    for s, _ in SCENARIOS) + " |")
    for key in UP_KEYS:
        print("| speedup of %s over 3 | " % labels[key][:2]
              .strip() + " | ".join(" | %.1fx" % f["speed3"][s][key]
                                    for s, _ in SCENARIOS) + " |")


def print_targets(fig):
    """The targets of issue 4, in wall and in CPU time; True if all met."""
    print()
    print("Targets (issue 4): upsert_into >= 4x faster than the fastest of "
          "1 and 2; <= 1.2x native")
    met_all = True
    for clock, _ in CLOCKS:
        f = fig[clock]
        for scen, _ in SCENARIOS:
            for key in UP_KEYS:
                speed = f["speed"][scen][key]
                ratio = f["ratio"][scen][key]
                a, b = speed >= 4.0, ratio <= 1.2
                met_all = met_all and a and b
                print("  %-4s %-12s %-7s %6.1fx faster than 1/2: %-6s  "
                      "%5.2fx native: %-6s  (%.1fx faster than 3)"
                      % (clock, scen, key, speed, "met" if a else "MISSED",
                         ratio, "met" if b else "MISSED",
                         f["speed3"][scen][key]))
    return met_all


def report(fig, what, markdown):
    for clock, name in CLOCKS:
        print_table(fig, clock, "Seconds of %s (%s), and ratio to 4 (native "
                    "executemany: median of the ratios within each round)"
                    % (name, what))
        if markdown:
            print_markdown(fig, clock)
    return print_targets(fig)


# --- callgrind: instructions of the whole process, minus a baseline ---

CG_KEYS = ["native", "pkg", "up_sql", "up_core"]


def callgrind_child(ext, n, key, scen, dbfile):
    """Under valgrind: prepare, run one method (none for "base"), print
    upsert_into's counts as JSON.  The parent checks the table."""
    frac = dict(SCENARIOS)[scen]
    engine, _, dicts, tuples = prepare(dbfile, ext, n, frac)
    stats = None
    if key != "base":
        stats = dict((m[0], m[2]) for m in METHODS)[key](engine, dicts,
                                                          tuples)
    engine.dispose()
    print(json.dumps(stats))
    return 0


def callgrind_ir(path):
    """The total of the collected events (Ir): "totals:" or "summary:"."""
    total = summary = None
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                total = int(line.split()[1])
            elif line.startswith("summary:"):
                summary = int(line.split()[1])
    return total if total is not None else summary


def callgrind_main(args):
    """Each of CG_KEYS and a baseline (the same process without the
    upsert: imports, engine, seeding, rows, pool) in its own process under
    callgrind; a method's instructions are its process's less the
    baseline's of the same scenario.  PYTHONHASHSEED=0 keeps runs alike."""
    import shutil
    import subprocess
    if shutil.which("valgrind") is None:
        print("seed_bench: valgrind is missing (Debian: apt-get install "
              "valgrind)", file=sys.stderr)
        return 1
    n = args.rows
    env = dict(os.environ, PYTHONHASHSEED="0")
    print("seed_bench --callgrind: Python %s, SQLAlchemy %s, SQLite %s, "
          "%d rows; instructions of the whole process less a baseline "
          "without the upsert"
          % (platform.python_version(), sqlalchemy.__version__,
             sqlite3.sqlite_version, n))
    ir = {}
    with tempfile.TemporaryDirectory(prefix="seed_bench_cg.") as tmpdir:
        for scen, frac in SCENARIOS:
            for key in ["base"] + CG_KEYS:
                dbfile = os.path.join(tmpdir, "cg.db")
                out = os.path.join(tmpdir, "cg.out")
                cmd = ["valgrind", "--tool=callgrind",
                       "--callgrind-out-file=" + out,
                       sys.executable, os.path.abspath(__file__),
                       "--rows", str(n), "--ext", args.ext,
                       "--cg-child", key, scen, dbfile]
                p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE,
                                   universal_newlines=True)
                if p.returncode != 0:
                    print("seed_bench: %s %s under callgrind failed:\n%s"
                          % (key, scen, p.stderr[-3000:]), file=sys.stderr)
                    return 1
                if key != "base":
                    stats = json.loads(p.stdout.strip().splitlines()[-1])
                    try:
                        verify(dbfile, n, len(seeded_ids(n, frac)), stats,
                               "%s (%s)" % (key, scen))
                    except CheckFailed as e:
                        print("seed_bench: FAILED: wrong table after %s" % e,
                              file=sys.stderr)
                        return 1
                ir[(scen, key)] = callgrind_ir(out)
                remove_db(dbfile)
                os.remove(out)
            print("  %s done" % scen, file=sys.stderr)
    print()
    print("Instructions of the upsert (method's process less the baseline), "
          "per row, and ratio to 4 (native); every table checked")
    head = "%-8s %-12s %14s %14s %10s %8s" % (
        "method", "scenario", "process", "upsert", "per row", "ratio")
    print(head)
    print("-" * len(head))
    for key in CG_KEYS:
        for scen, _ in SCENARIOS:
            d = ir[(scen, key)] - ir[(scen, "base")]
            nat = ir[(scen, "native")] - ir[(scen, "base")]
            print("%-8s %-12s %14d %14d %10.0f %7.2fx"
                  % (key, scen, ir[(scen, key)], d, d / n, d / nat))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="bulk upsert from SQLAlchemy: merge, bulk mappings, "
        "on_conflict_do_update, native executemany, upsert_into")
    ap.add_argument("--rows", type=int, default=10000,
                    help="rows upserted per run (10000)")
    ap.add_argument("--runs", type=int, default=5,
                    help="runs per scenario and method; median reported (5)")
    ap.add_argument("--ext", default=os.environ.get("UPSERT_EXT", DEFAULT_EXT),
                    help="the extension, without suffix (dist/upsert)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write every run's wall and CPU seconds to FILE")
    ap.add_argument("--combine", nargs="+", metavar="FILE",
                    help="run nothing: report the --json files of several "
                    "invocations, each figure the median of theirs")
    ap.add_argument("--markdown", action="store_true",
                    help="also print the tables as README.md has them")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions of 4, 6, 5b and 5 under valgrind "
                    "instead of timing (one run per scenario)")
    ap.add_argument("--cg-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rows < 2 or args.runs < 1:
        ap.error("--rows must be at least 2 and --runs at least 1")
    n = args.rows

    if args.cg_child:
        return callgrind_child(args.ext, n, *args.cg_child)
    if args.callgrind:
        try:
            return callgrind_main(args)
        except RuntimeError as e:
            print("seed_bench: %s" % e, file=sys.stderr)
            return 1

    if args.combine:
        figs = []
        for path in args.combine:
            with open(path) as f:
                d = json.load(f)
            print("%s: %s" % (path, d["header"]))
            figs.append(figures(d["times"]))
        met_all = report(median_figures(figs), "each figure the median of "
                         "%d invocations' figures" % len(figs), args.markdown)
        print("seed_bench: targets %s"
              % ("all met" if met_all else "not all met"))
        return 0

    header = ("Python %s, SQLAlchemy %s, SQLite %s, %d rows, median of %d "
              "runs, load average %.2f at start"
              % (platform.python_version(), sqlalchemy.__version__,
                 sqlite3.sqlite_version, n, args.runs, os.getloadavg()[0]))
    print("seed_bench: " + header)
    # times[clock][scenario][key]: seconds, one per round
    times = {clock: {scen: {m[0]: [] for m in METHODS}
                     for scen, _ in SCENARIOS} for clock, _ in CLOCKS}
    try:
        with tempfile.TemporaryDirectory(prefix="seed_bench.") as tmpdir:
            serial = 0
            for scen, frac in SCENARIOS:
                for _ in range(args.runs):
                    for m in METHODS:
                        serial += 1
                        dt, dc = run_once(tmpdir, args.ext, n, frac, m,
                                          serial)
                        times["wall"][scen][m[0]].append(dt)
                        times["cpu"][scen][m[0]].append(dc)
                print("  %s done" % scen, file=sys.stderr)
    except CheckFailed as e:
        print("seed_bench: FAILED: wrong table after %s" % e, file=sys.stderr)
        return 1
    except RuntimeError as e:
        print("seed_bench: %s" % e, file=sys.stderr)
        return 1
    header += ", %.2f at end" % os.getloadavg()[0]
    print("seed_bench: load average %.2f at end" % os.getloadavg()[0])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "times": times}, f)

    met_all = report(figures(times), "median of %d runs" % args.runs,
                     args.markdown)
    print("seed_bench: ok (every run checked); targets %s"
          % ("all met" if met_all else "not all met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
