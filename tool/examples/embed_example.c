/*
** A bulk upsert from C with the extension compiled into the program.
**
**   cc -DSQLITE_CORE tool/examples/embed_example.c ext/upsert.c -lsqlite3 \
**      -o dist/embed_example          (or: make dist/embed_example)
**   dist/embed_example [DBFILE]       (default: an in-memory database)
**
** ext/upsert.c is built with -DSQLITE_CORE, so it calls the SQLite API
** directly, and sqlite3_auto_extension() registers it on every
** connection opened afterwards.  The program seeds 5000 rows, upserts
** 10000 (ids 1..10000: half of them exist) through one prepared
** INSERT INTO up VALUES(?,?,?) in one transaction, prints the counts of
** upsert_into_stats('up') and checks the table.  Exits 0 on success.
*/
#include <stdio.h>
#include <string.h>
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

#define N_SEED   5000
#define N_UPSERT 10000

static int exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  int rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "embed_example: %s\n  in: %s\n",
            zErr ? zErr : sqlite3_errmsg(db), zSql);
  }
  sqlite3_free(zErr);
  return rc;
}

/* The first column of the first row of zSql, as text, into zOut. */
static int query_text(sqlite3 *db, const char *zSql, char *zOut, int nOut){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  zOut[0] = 0;
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const unsigned char *z = sqlite3_column_text(pStmt, 0);
    snprintf(zOut, nOut, "%s", z ? (const char*)z : "NULL");
  }
  rc = sqlite3_finalize(pStmt);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "embed_example: %s\n  in: %s\n", sqlite3_errmsg(db), zSql);
  }
  return rc;
}

int main(int argc, char **argv){
  const char *zDb = argc>1 ? argv[1] : ":memory:";
  sqlite3 *db = 0;
  sqlite3_stmt *pIns = 0;
  char zStats[200], zCheck[200];
  int rc, i;

  /* Every connection opened from now on gets the module. */
  sqlite3_auto_extension((void(*)(void))sqlite3_upsert_init);

  rc = sqlite3_open(zDb, &db);
  if( rc!=SQLITE_OK ){
    /* An init that fails makes the open fail: with a SQLite older than
    ** 3.37.0 the message is "automatic extension loading failed:
    ** upsert_into: needs SQLite 3.37.0 or later, this is SQLite ..." */
    fprintf(stderr, "embed_example: cannot open %s: %s\n", zDb,
            db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
  }
  printf("SQLite %s\n", sqlite3_libversion());

  if( exec(db,
      "CREATE TABLE IF NOT EXISTS items("
      "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);"
      "DELETE FROM items;"
      "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s"
      "  WHERE i<5000)"
      "INSERT INTO items SELECT i, 'old' || i, 0 FROM s;")
   || exec(db, "CREATE VIRTUAL TABLE temp.up USING upsert_into(items)")
  ){
    /* "no such module: upsert_into" here means the extension was not
    ** registered: sqlite3_auto_extension() must run before
    ** sqlite3_open(). */
    sqlite3_close(db);
    return 1;
  }

  /* The bulk upsert: one transaction, one prepared statement. */
  rc = exec(db, "BEGIN");
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "INSERT INTO up VALUES(?,?,?)", -1, &pIns, 0);
  }
  for(i=1; rc==SQLITE_OK && i<=N_UPSERT; i++){
    char zName[32];
    snprintf(zName, sizeof(zName), "item%d", i);
    sqlite3_bind_int(pIns, 1, i);
    sqlite3_bind_text(pIns, 2, zName, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(pIns, 3, i*10);
    if( sqlite3_step(pIns)!=SQLITE_DONE ){
      rc = sqlite3_reset(pIns);
      fprintf(stderr, "embed_example: row %d: %s\n", i, sqlite3_errmsg(db));
    }else{
      rc = sqlite3_reset(pIns);
    }
  }
  sqlite3_finalize(pIns);
  if( rc!=SQLITE_OK ){
    exec(db, "ROLLBACK");
    sqlite3_close(db);
    return 1;
  }
  if( exec(db, "COMMIT") ){ sqlite3_close(db); return 1; }

  if( query_text(db, "SELECT upsert_into_stats('up')", zStats, sizeof(zStats))
   || query_text(db,
        "SELECT count(*) || ' rows, ' || sum(name='item'||id AND qty=id*10)"
        " || ' as upserted' FROM items", zCheck, sizeof(zCheck))
  ){
    sqlite3_close(db);
    return 1;
  }
  printf("upsert_into_stats('up'): %s\n", zStats);
  printf("items: %s\n", zCheck);
  sqlite3_close(db);

  if( strcmp(zStats, "{\"inserted\":5000,\"updated\":5000,\"skipped\":0}")!=0
   || strcmp(zCheck, "10000 rows, 10000 as upserted")!=0
  ){
    fprintf(stderr, "embed_example: FAILED: unexpected counts or content\n");
    return 1;
  }
  printf("embed_example: ok\n");
  return 0;
}
