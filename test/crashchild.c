/*
** test/crashchild.c: the child process of test/crash.test (issue 5,
** crash safety).
**
**   crashchild DB MODE EXT
**
** Opens the file database DB in journal mode MODE ("delete" or "wal"),
** loads the extension EXT (dist/upsert) with sqlite3_load_extension(), and
** then commits transactions until it is killed.  test/crash.test kills it
** with SIGKILL at a random moment and checks what the database holds.
**
** Schema, created in one transaction if missing:
**   t(id INTEGER PRIMARY KEY, v TEXT, gen INT)    the backing table
**   meta(g INT)                                   one row: the last g
**   temp.up USING upsert_into(t)
**
** Transaction g (g = meta.g + 1, read inside the transaction):
**   1. INSERT INTO up SELECT ... : the rows n in [500*(g-1), 500*(g-1)+2000)
**      with id = ID(n), gen = g, v = V(id, g).  Transaction g-1 wrote the
**      first 1500 of them (updates), the last 500 are new keys.
**   2. when g%3==0, a statement that fails at its last row: it overwrites
**      600 rows (500 just written and 100 new keys) with v='junk',
**      gen=-1, then hands a non-integer id to the INTEGER PRIMARY KEY
**      ("datatype mismatch").  The virtual table must roll back every row
**      that statement wrote; the transaction goes on.
**   3. UPDATE meta SET g=g+1, then COMMIT.
** After each COMMIT returns, "committed G" is written to stdout (unbuffered,
** one write()), so the parent knows what must have survived.
**
** So after G committed transactions, t holds exactly the rows
** n in [0, 500*(G-1)+2000) with gen = min(G, n/500+1) and v = V(id, gen):
** test/crash.test checks that with the same expressions (keep them in
** step with CRASH_ID and CRASH_V below).
**
** Any unexpected error is printed to stderr and ends the process with
** status 1.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

/* ID(n) and V(id, g), as SQL expressions (also in test/crash.test) */
#define CRASH_ID  "((n*48271)%2147483647+1)"
#define CRASH_V(ID, G) \
  "printf('%d.%d.%.*c', " ID ", " G ", (" ID "*7+" G "*13)%100+1, " \
  "char(97+(" ID "+" G ")%26))"

#define CRASH_STEP 500     /* New keys per transaction */
#define CRASH_ROWS 2000    /* Rows upserted per transaction */

static sqlite3 *db;

static void die(const char *zWhat, const char *zMsg){
  fprintf(stderr, "crashchild: %s: %s\n", zWhat, zMsg);
  exit(1);
}

static void run_sql(const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    die(zSql, zErr ? zErr : sqlite3_errmsg(db));
  }
}

static sqlite3_stmt *prepare(const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    die(zSql, sqlite3_errmsg(db));
  }
  return p;
}

int main(int argc, char **argv){
  const char *zDb, *zMode, *zExt;
  char *zErr = 0;
  sqlite3_stmt *pGet, *pUp, *pJunk, *pSet;

  if( argc!=4 || (strcmp(argv[2], "delete") && strcmp(argv[2], "wal")) ){
    fprintf(stderr, "usage: %s DB delete|wal EXT\n", argv[0]);
    return 2;
  }
  zDb = argv[1];
  zMode = argv[2];
  zExt = argv[3];

  if( sqlite3_open(zDb, &db)!=SQLITE_OK ) die("open", sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExt, 0, &zErr)!=SQLITE_OK ){
    die("load_extension", zErr ? zErr : sqlite3_errmsg(db));
  }
  if( strcmp(zMode, "wal")==0 ){
    run_sql("PRAGMA journal_mode=WAL");
  }else{
    run_sql("PRAGMA journal_mode=DELETE");
  }
  run_sql("BEGIN;"
       "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT, gen INT);"
       "CREATE TABLE IF NOT EXISTS meta(g INT);"
       "INSERT INTO meta SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM meta);"
       "COMMIT;");
  run_sql("CREATE VIRTUAL TABLE temp.up USING upsert_into(t)");

  pGet = prepare("SELECT g FROM meta");
  pUp = prepare(
    "WITH RECURSIVE s(n) AS ("
    "  SELECT ?1*500 UNION ALL SELECT n+1 FROM s WHERE n+1 < ?1*500+2000"
    "), r(id, g) AS (SELECT " CRASH_ID ", ?2 FROM s)"
    "INSERT INTO up SELECT id, " CRASH_V("id", "g") ", g FROM r");
  pJunk = prepare(
    "WITH RECURSIVE s(n) AS ("
    "  SELECT ?1*500+1500 UNION ALL SELECT n+1 FROM s WHERE n+1 < ?1*500+2100"
    ")"
    "INSERT INTO up SELECT " CRASH_ID ", 'junk', -1 FROM s"
    " UNION ALL SELECT 'not an integer', 'junk', -1");
  pSet = prepare("UPDATE meta SET g=?1");

  for(;;){
    sqlite3_int64 g;
    int rc;
    char zBuf[64];
    int n;

    run_sql("BEGIN");
    if( sqlite3_step(pGet)!=SQLITE_ROW ) die("SELECT g", sqlite3_errmsg(db));
    g = sqlite3_column_int64(pGet, 0) + 1;
    sqlite3_reset(pGet);

    sqlite3_bind_int64(pUp, 1, g-1);
    sqlite3_bind_int64(pUp, 2, g);
    if( sqlite3_step(pUp)!=SQLITE_DONE ) die("upsert", sqlite3_errmsg(db));
    sqlite3_reset(pUp);
    if( sqlite3_changes(db)!=CRASH_ROWS ){
      die("upsert", "changes() is not 2000");
    }

    if( g%3==0 ){
      sqlite3_bind_int64(pJunk, 1, g-1);
      rc = sqlite3_step(pJunk);
      if( rc==SQLITE_DONE || rc==SQLITE_ROW
       || strstr(sqlite3_errmsg(db), "datatype mismatch")==0 ){
        die("junk statement did not fail as expected", sqlite3_errmsg(db));
      }
      sqlite3_reset(pJunk);
      if( sqlite3_get_autocommit(db) ){
        die("junk statement", "ended the transaction");
      }
    }

    sqlite3_bind_int64(pSet, 1, g);
    if( sqlite3_step(pSet)!=SQLITE_DONE ) die("UPDATE meta", sqlite3_errmsg(db));
    sqlite3_reset(pSet);
    run_sql("COMMIT");

    n = snprintf(zBuf, sizeof(zBuf), "committed %lld\n", (long long)g);
    if( write(1, zBuf, n)!=n ) die("write", "stdout");
  }
  return 0;
}
