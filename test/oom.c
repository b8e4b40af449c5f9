/*
** Out-of-memory tests of upsert_into (issue 5).
**
** ext/upsert.c is compiled in with -DSQLITE_CORE, so that every
** allocation it makes goes through SQLite's allocator, and linked with the
** system libsqlite3.  Before sqlite3_initialize(), a failing allocator is
** installed with SQLITE_CONFIG_MALLOC, wrapping the default one.
**
** Each scenario is a statement (or the registration of the extension)
** run on a connection prepared with allocation failures off.  For
** N = 1, 2, 3, ... until a run completes without an injected failure, the
** Nth allocation made while the statement runs fails ("transient"); a
** second pass fails every allocation from the Nth on ("persistent").
** Every run must:
**
**   - not crash;
**   - return SQLITE_NOMEM, or what the statement returns without a
**     failure (SQLite absorbs some failures), with the same output and
**     error message then.  For most scenarios that is SQLITE_OK; a few
**     fail by design (create_bad_key, insert_constraint,
**     insert_reads_backing, reopen_orphan_select), and must then fail
**     with SQLITE_NOMEM or with their own error.  When the message of
**     that error cannot be allocated, SQLite's generic one for the same
**     code ("constraint failed") is accepted;
**   - leave PRAGMA integrity_check "ok";
**   - leave the database in the state before the statement or after it
**     (every table, the schema, and the upsert_into_stats() counts of the
**     scenario's virtual tables), and in the state after it when it
**     succeeded.  In a transaction, SQLite may roll the whole
**     transaction back on SQLITE_NOMEM: the state must then be the one
**     before the transaction;
**   - when it failed and left the state before, succeed when run again
**     with failures off, as it does in a clean run (a failure must not
**     leave the connection or the virtual table unusable);
**   - leak nothing: sqlite3_memory_used() after every connection is
**     closed equals its value before the first was opened.
**
** Usage: oom [-v] [NAME-PREFIX ...]
**   -v          every failing run, not only the first three of a scenario
**   NAME-PREFIX only the scenarios whose name starts so
** OOM_DEBUG=1 in the environment prints whole states on a mismatch.
** Prints one line per scenario and a final
** "oom: N scenarios, M runs, K failures"; exits non-zero on any failure.
*/
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
# include <malloc.h>
#endif
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

/**************************************************************************
** The failing allocator.
*/
static sqlite3_mem_methods gDefMem;   /* The default allocator */
static struct {
  int bArmed;                 /* Count (and fail) allocations */
  int bPersist;               /* Fail every allocation from iFailAt on */
  long iFailAt;               /* Fail this allocation (1-based) */
  long nCall;                 /* Allocations since armed */
  long nFail;                 /* Allocations failed since armed */
} gFault;

static int faultHit(void){
  if( !gFault.bArmed ) return 0;
  gFault.nCall++;
  if( gFault.nCall==gFault.iFailAt
   || (gFault.bPersist && gFault.nCall>gFault.iFailAt) ){
    gFault.nFail++;
    return 1;
  }
  return 0;
}
static void *faultMalloc(int n){
  return faultHit() ? 0 : gDefMem.xMalloc(n);
}
static void *faultRealloc(void *p, int n){
  return faultHit() ? 0 : gDefMem.xRealloc(p, n);
}

/* Arm: fail allocation iFailAt (0: none, only count) */
static void faultArm(long iFailAt, int bPersist){
  gFault.bArmed = 1;
  gFault.bPersist = bPersist;
  gFault.iFailAt = iFailAt>0 ? iFailAt : LONG_MAX;
  gFault.nCall = 0;
  gFault.nFail = 0;
}
static void faultDisarm(void){ gFault.bArmed = 0; }

/**************************************************************************
** Strings of the harness, on the C library's heap so that they never
** touch SQLite's allocator or its accounting.
*/
typedef struct Str Str;
struct Str { char *z; size_t n, nAlloc; };

static void strAppendN(Str *p, const char *z, size_t n){
  if( p->n+n+1>p->nAlloc ){
    p->nAlloc = (p->n+n+1)*2 + 64;
    p->z = realloc(p->z, p->nAlloc);
    if( p->z==0 ){ fprintf(stderr, "oom: harness out of memory\n"); exit(2); }
  }
  memcpy(p->z+p->n, z, n);
  p->n += n;
  p->z[p->n] = 0;
}
static void strAppend(Str *p, const char *z){ strAppendN(p, z, strlen(z)); }
static void strAppendf(Str *p, const char *zFmt, ...){
  char zBuf[1000];
  va_list ap;
  int n;
  va_start(ap, zFmt);
  n = vsnprintf(zBuf, sizeof(zBuf), zFmt, ap);
  va_end(ap);
  if( n>=(int)sizeof(zBuf) ) n = sizeof(zBuf)-1;
  strAppendN(p, zBuf, n);
}
static void strReset(Str *p){ p->n = 0; if( p->z ) p->z[0] = 0; }
static void strFree(Str *p){ free(p->z); memset(p, 0, sizeof(*p)); }
static const char *strZ(const Str *p){ return p->z ? p->z : ""; }
static int strEq(const Str *a, const Str *b){
  return strcmp(strZ(a), strZ(b))==0;
}

/**************************************************************************
** Running SQL.
*/

/* Append column i of the current row of pStmt to p.  Allocates nothing
** inside SQLite: text is read as bytes, never converted. */
static void renderValue(Str *p, sqlite3_stmt *pStmt, int i){
  switch( sqlite3_column_type(pStmt, i) ){
    case SQLITE_INTEGER:
      strAppendf(p, "%lld", sqlite3_column_int64(pStmt, i));
      break;
    case SQLITE_FLOAT:
      strAppendf(p, "%.17g", sqlite3_column_double(pStmt, i));
      break;
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_column_blob(pStmt, i);
      int n = sqlite3_column_bytes(pStmt, i);
      strAppend(p, "'");
      if( z ) strAppendN(p, z, n);
      strAppend(p, "'");
      break;
    }
    case SQLITE_BLOB: {
      const unsigned char *a = sqlite3_column_blob(pStmt, i);
      int n = sqlite3_column_bytes(pStmt, i);
      int j;
      strAppend(p, "x'");
      for(j=0; a && j<n; j++) strAppendf(p, "%02x", a[j]);
      strAppend(p, "'");
      break;
    }
    default:
      strAppend(p, "NULL");
      break;
  }
}

/*
** Run every statement of zSql on db, appending the rows they return to
** pOut (if not NULL), one line each.  Stops at the first error, whose
** message goes to pErr (if not NULL).  Returns the (extended) result code.
*/
static int runSql(sqlite3 *db, const char *zSql, Str *pOut, Str *pErr){
  const char *zTail = zSql;
  int rc = SQLITE_OK;
  while( rc==SQLITE_OK && zTail && zTail[0] ){
    sqlite3_stmt *pStmt = 0;
    rc = sqlite3_prepare_v2(db, zTail, -1, &pStmt, &zTail);
    if( rc!=SQLITE_OK || pStmt==0 ) break;
    while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
      int i, n = sqlite3_column_count(pStmt);
      if( pOut==0 ) continue;
      for(i=0; i<n; i++){
        if( i ) strAppend(pOut, "|");
        renderValue(pOut, pStmt, i);
      }
      strAppend(pOut, "\n");
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    sqlite3_finalize(pStmt);
  }
  if( rc!=SQLITE_OK && pErr ){
    strReset(pErr);
    strAppend(pErr, sqlite3_errmsg(db));
  }
  return rc;
}

static int cmpStr(const void *a, const void *b){
  return strcmp(*(char*const*)a, *(char*const*)b);
}

/* Append the rows of table zSchema.zTab, with the rowid if it has one,
** in sorted order. */
static void dumpTable(sqlite3 *db, const char *zSchema, const char *zTab,
                      Str *pOut){
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  char **az = 0;
  int nRow = 0, nAlloc = 0;
  int i, rc;
  zSql = sqlite3_mprintf("SELECT rowid, * FROM \"%w\".\"%w\"", zSchema, zTab);
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    zSql = sqlite3_mprintf("SELECT * FROM \"%w\".\"%w\"", zSchema, zTab);
    rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
    sqlite3_free(zSql);
  }
  strAppendf(pOut, "table %s.%s\n", zSchema, zTab);
  if( rc!=SQLITE_OK ){
    strAppendf(pOut, "error: %s\n", sqlite3_errmsg(db));
    return;
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    Str row = {0};
    int j;
    for(j=0; j<sqlite3_column_count(pStmt); j++){
      if( j ) strAppend(&row, "|");
      renderValue(&row, pStmt, j);
    }
    if( nRow>=nAlloc ){
      nAlloc = nAlloc*2 + 16;
      az = realloc(az, nAlloc*sizeof(char*));
      if( az==0 ) exit(2);
    }
    az[nRow++] = row.z ? row.z : strdup("");
  }
  if( rc!=SQLITE_DONE ) strAppendf(pOut, "error: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(pStmt);
  if( nRow>1 ) qsort(az, nRow, sizeof(char*), cmpStr);
  for(i=0; i<nRow; i++){
    strAppend(pOut, az[i]);
    strAppend(pOut, "\n");
    free(az[i]);
  }
  free(az);
}

/*
** The state of the database seen by db: the schema of main and temp,
** the rows of every ordinary table, and upsert_into_stats() of every
** name in the comma-separated list zStats (or its error).
*/
static void stateOf(sqlite3 *db, const char *zStats, Str *pOut){
  Str err = {0};
  Str tabs = {0};
  int rc;
  strReset(pOut);
  rc = runSql(db,
      "SELECT 'main', type, name, tbl_name, sql FROM main.sqlite_schema"
      " UNION ALL"
      " SELECT 'temp', type, name, tbl_name, sql FROM temp.sqlite_schema"
      " ORDER BY 1, 2, 3", pOut, &err);
  if( rc ) strAppendf(pOut, "schema error: %s\n", strZ(&err));
  rc = runSql(db,
      "SELECT schema||'.'||name FROM pragma_table_list"
      " WHERE type='table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
      " ORDER BY schema, name", &tabs, &err);
  if( rc ){
    strAppendf(pOut, "table list error: %s\n", strZ(&err));
  }else{
    /* tabs holds lines 'schema.name' */
    char *z = tabs.z;
    while( z && *z ){
      char *zEnd = strchr(z, '\n');
      char *zDot;
      *zEnd = 0;
      z[strlen(z)-1] = 0;            /* closing quote */
      z++;                           /* opening quote */
      zDot = strchr(z, '.');
      *zDot = 0;
      dumpTable(db, z, zDot+1, pOut);
      z = zEnd+1;
    }
  }
  if( zStats ){
    const char *z = zStats;
    while( *z ){
      size_t n = strcspn(z, ",");
      char *zSql = sqlite3_mprintf("SELECT upsert_into_stats('%.*q')",
                                   (int)n, z);
      strAppendf(pOut, "stats %.*s: ", (int)n, z);
      rc = runSql(db, zSql, pOut, &err);
      if( rc ) strAppendf(pOut, "error: %s\n", strZ(&err));
      sqlite3_free(zSql);
      z += n;
      if( *z==',' ) z++;
    }
  }
  strFree(&err);
  strFree(&tabs);
}

/**************************************************************************
** Scenarios.
*/
#define K_SQL    0   /* zSql on a connection prepared by zSetup */
#define K_REOPEN 1   /* zSetup on a file, closed; zSql on a new connection */
#define K_INIT   2   /* sqlite3_upsert_init() itself */

typedef struct Scenario Scenario;
struct Scenario {
  const char *zName;
  int eKind;           /* K_* */
  int bFile;           /* K_SQL: a database file instead of :memory: */
  const char *zSetup;  /* Run first, failures off */
  const char *zTxn;    /* K_SQL: then this, which opens a transaction */
  const char *zSql;    /* The statement under test */
  const char *zStats;  /* K_SQL: upsert_into_stats() names in the state */
};

/* The backing tables.  The triggers log every write to posts, so that
** a partial statement shows in table log too. */
#define POSTS \
  "CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL," \
  "  body TEXT DEFAULT 'none');" \
  "INSERT INTO posts VALUES(1,'a','x'),(2,'b','y'),(3,'c',NULL);" \
  "CREATE TABLE log(n INTEGER PRIMARY KEY, what TEXT);" \
  "CREATE TRIGGER posts_ai AFTER INSERT ON posts" \
  "  BEGIN INSERT INTO log(what) VALUES('ins '||new.id); END;" \
  "CREATE TRIGGER posts_au AFTER UPDATE ON posts" \
  "  BEGIN INSERT INTO log(what) VALUES('upd '||new.id); END;" \
  "CREATE TRIGGER posts_ad AFTER DELETE ON posts" \
  "  BEGIN INSERT INTO log(what) VALUES('del '||old.id); END;" \
  "CREATE TABLE staging(id INTEGER PRIMARY KEY, title TEXT, body TEXT);" \
  "INSERT INTO staging VALUES(2,'B2','y2'),(3,'C2','z2'),(40,'N40','n')," \
  "  (41,'N41',NULL);"
/* plan is NOT NULL without DEFAULT: left out by columns=, its stored
** value is looked up on update */
#define USERS \
  "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE," \
  "  name TEXT NOT NULL, plan TEXT NOT NULL);" \
  "INSERT INTO users VALUES(1,'a@x','Ann','free'),(2,'b@x','Bob','pro');"
#define DOCS \
  "CREATE TABLE docs(id INTEGER PRIMARY KEY, version INT NOT NULL, body);" \
  "INSERT INTO docs VALUES(1,1,'one'),(2,5,'two');"
#define PAIRS \
  "CREATE TABLE pairs(a TEXT, b TEXT COLLATE NOCASE, v INT," \
  "  w TEXT NOT NULL, PRIMARY KEY(a,b)) WITHOUT ROWID;" \
  "INSERT INTO pairs VALUES('x','Y',1,'w1'),('x','z',2,'w2');"

#define UP       "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts);"
#define UP_ALL \
  "CREATE VIRTUAL TABLE temp.up USING upsert_into(users, key=email," \
  "  columns=(id, email, name), update=(name), nulls=keep," \
  "  where=excluded.name <> name)"
#define UP_PAIRS \
  "CREATE VIRTUAL TABLE temp.up USING upsert_into(pairs, key=(b, a)," \
  "  columns=(a, b, v))"
#define PUP \
  "CREATE VIRTUAL TABLE main.pup USING upsert_into(posts, key=id," \
  "  update=(title, body))"
#define COUNTS \
  "INSERT INTO up VALUES(1,'A','X'),(20,'t','b');" \
  "INSERT OR IGNORE INTO up VALUES(1,'q','q');"

/* 100 rows in big, 200 in bigsrc, half of them existing keys */
#define BIG \
  "CREATE TABLE big(id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INT);" \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100)" \
  "  INSERT INTO big SELECT x*2, 'v'||x, x FROM c;" \
  "CREATE TABLE bigsrc(id INTEGER PRIMARY KEY, v TEXT, n INT);" \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<200)" \
  "  INSERT INTO bigsrc SELECT x, 'w'||x, -x FROM c;" \
  "CREATE VIRTUAL TABLE temp.bup USING upsert_into(big);"

/* Files holding persistent virtual tables */
#define R_POSTS \
  "CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body);" \
  "INSERT INTO posts VALUES(1,'a','x'),(2,'b','y'),(3,'c',NULL);" \
  PUP ";" \
  "INSERT INTO pup VALUES(1,'A','X');"
#define R_USERS USERS \
  "CREATE VIRTUAL TABLE main.uup USING upsert_into(users, key=email," \
  "  columns=(email, name, plan), keep=plan);"
#define R_ORPHAN \
  "CREATE TABLE gone(id INTEGER PRIMARY KEY, v);" \
  "CREATE VIRTUAL TABLE main.orphan USING upsert_into(gone);" \
  "DROP TABLE gone;"

static const Scenario aScenario[] = {
  /* Registering the extension */
  { "init", K_INIT, 0, 0, 0, 0, 0 },

  /* CREATE VIRTUAL TABLE, every kind of option */
  { "create", K_SQL, 0, POSTS, 0,
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts)", "up" },
  { "create_key_columns_update", K_SQL, 0, USERS, 0,
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(main.users, key=email,"
    " columns=(email, name), update=(name))", "up" },
  { "create_keep_nulls", K_SQL, 0, POSTS, 0,
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(\"posts\", keep=body,"
    " nulls=keep)", "up" },
  { "create_where", K_SQL, 0, DOCS, 0,
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(docs,"
    " where=excluded.version > version)", "up" },
  { "create_all_options", K_SQL, 0, USERS, 0, UP_ALL, "up" },
  { "create_composite", K_SQL, 0, PAIRS, 0, UP_PAIRS, "up" },
  { "create_persistent", K_SQL, 0, POSTS, 0, PUP, "pup" },
  { "create_bad_key", K_SQL, 0, USERS, 0,
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(users, key=name)", "up" },

  /* INSERT, new and existing keys, every conflict mode */
  { "insert_new", K_SQL, 0, POSTS UP, 0,
    "INSERT INTO up VALUES(10,'new','nb')", "up" },
  { "insert_existing", K_SQL, 0, POSTS UP, 0,
    "INSERT INTO up VALUES(1,'A','X')", "up" },
  { "insert_multi", K_SQL, 0, POSTS UP, 0,
    "INSERT INTO up VALUES(1,'A','X'),(11,'k','kb'),(2,'B',NULL)", "up" },
  { "insert_or_ignore", K_SQL, 0, POSTS UP, 0,
    "INSERT OR IGNORE INTO up VALUES(1,'A','X'),(12,'m','mb')", "up" },
  { "insert_or_replace", K_SQL, 0, POSTS UP, 0,
    "INSERT OR REPLACE INTO up VALUES(2,'R','r'),(13,'n','nb')", "up" },
  { "insert_constraint", K_SQL, 0, POSTS UP, 0,
    "INSERT INTO up VALUES(1,'A','X'),(60,'ok','b'),(61,NULL,'b')", "up" },
  { "insert_txn", K_SQL, 0, POSTS UP,
    "BEGIN; INSERT INTO up VALUES(5,'pre','p');",
    "INSERT INTO up SELECT id, title, body FROM staging", "up" },
  /* New rows first: a failure at a later row (the read check, a new
  ** inner statement) must take them back although INSERT OR IGNORE
  ** opens no statement journal of its own: the opener's job */
  { "insert_txn_ignore", K_SQL, 0, POSTS UP,
    "BEGIN; INSERT INTO up VALUES(6,'pre','p');",
    "INSERT OR IGNORE INTO up SELECT id, title, body FROM staging"
    " ORDER BY id DESC", "up" },
  { "insert_txn_nulls_keep", K_SQL, 0, POSTS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts, nulls=keep);",
    "BEGIN; INSERT INTO up VALUES(6,'pre','p');",
    "INSERT OR IGNORE INTO up SELECT id, title, body FROM staging"
    " ORDER BY id DESC", "up" },
  { "insert_savepoint", K_SQL, 0, POSTS UP,
    "SAVEPOINT s1; INSERT INTO up VALUES(7,'pre','p'); SAVEPOINT s2;",
    "INSERT INTO up SELECT id, title||'!', body FROM staging", "up" },
  { "insert_nulls_keep", K_SQL, 0, POSTS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts, nulls=keep);", 0,
    "INSERT INTO up(id, title) VALUES(1,NULL),(2,'T2'),(51,'t51')", "up" },
  { "insert_where", K_SQL, 0, DOCS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(docs,"
    " where=excluded.version > version);", 0,
    "INSERT INTO up VALUES(1,2,'one v2'),(2,3,'two old'),(3,1,'three')",
    "up" },
  { "insert_update", K_SQL, 0, POSTS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts, update=(title));",
    0, "INSERT INTO up VALUES(1,'A','X'),(14,'o','ob')", "up" },
  { "insert_keep", K_SQL, 0, POSTS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(posts, keep=body);", 0,
    "INSERT INTO up VALUES(2,'B','Y'),(15,'p','pb')", "up" },
  { "insert_key_columns", K_SQL, 0, USERS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(users, key=email,"
    " columns=(email, name));", 0,
    "INSERT INTO up VALUES('a@x','Anna'),('b@x','Bobby')", "up" },
  { "insert_composite", K_SQL, 0, PAIRS UP_PAIRS ";", 0,
    "INSERT INTO up VALUES('x','y',10),('x','Z',20)", "up" },
  { "insert_all_options", K_SQL, 0, USERS UP_ALL ";", 0,
    "INSERT INTO up VALUES(NULL,'a@x','Anne'),(NULL,'b@x','Bob'),"
    "(NULL,'a@x',NULL)", "up" },
  { "insert_persistent", K_SQL, 0, POSTS PUP ";", 0,
    "INSERT INTO pup VALUES(1,'A','X'),(16,'q','qb')", "pup" },
  { "insert_persistent_txn", K_SQL, 0, POSTS PUP ";",
    "BEGIN; INSERT INTO pup VALUES(8,'pre','p');",
    "INSERT INTO pup SELECT id, title, body FROM staging", "pup" },
  { "insert_file", K_SQL, 1, POSTS UP, 0,
    "INSERT INTO up VALUES(1,'A','X'),(17,'r','rb')", "up" },
  { "insert_file_wal", K_SQL, 1, "PRAGMA journal_mode=WAL;" POSTS UP, 0,
    "INSERT INTO up VALUES(1,'A','X'),(18,'s','sb')", "up" },
  /* A schema change makes SQLite reconnect the virtual table first */
  { "insert_after_alter", K_SQL, 0, USERS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(users, key=email,"
    " columns=(email, name), update=(name));"
    "ALTER TABLE users ADD COLUMN extra DEFAULT 'e';", 0,
    "INSERT INTO up VALUES('a@x','Anna'),('b@x','Bobby')", "up" },
  { "insert_where_after_alter", K_SQL, 0, DOCS
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(docs,"
    " where=excluded.version > version);"
    "ALTER TABLE docs ADD COLUMN extra;", 0,
    "INSERT INTO up VALUES(1,2,'one v2',NULL),(2,3,'two old',NULL)", "up" },
  { "insert_reads_backing", K_SQL, 0, POSTS UP, 0,
    "INSERT INTO up SELECT id, title||'!', body FROM posts", "up" },

  /* Bulk */
  { "bulk_insert_select", K_SQL, 0, BIG, 0,
    "INSERT INTO bup SELECT id, v, n FROM bigsrc", "bup" },

  /* SELECT */
  { "select_key", K_SQL, 0, POSTS UP, 0,
    "SELECT * FROM up WHERE id=2", "up" },
  { "select_scan", K_SQL, 0, POSTS UP, 0,
    "SELECT id, title, body FROM up ORDER BY id DESC", "up" },
  { "select_join", K_SQL, 0, POSTS UP, 0,
    "SELECT s.id, u.title FROM staging s LEFT JOIN up u ON u.id=s.id"
    " ORDER BY s.id", "up" },
  { "select_composite_key", K_SQL, 0, PAIRS UP_PAIRS ";", 0,
    "SELECT * FROM up WHERE a='x' AND b='z'", "up" },

  /* The counts */
  { "stats", K_SQL, 0, POSTS UP COUNTS, 0,
    "SELECT upsert_into_stats('up')", "up" },
  { "stats_qualified", K_SQL, 0, POSTS UP COUNTS, 0,
    "SELECT upsert_into_stats('temp.up')", "up" },
  { "stats_reset", K_SQL, 0, POSTS UP COUNTS, 0,
    "SELECT upsert_into_stats('up', 'reset')", "up" },

  /* upsert_into_sql(): a text, and NULL (posts has triggers) */
  { "sql_text", K_SQL, 0, USERS, 0,
    "SELECT upsert_into_sql('main.users', 'key=email', 'columns=(email,"
    " name)', 'where=excluded.name <> name')", 0 },
  { "sql_null", K_SQL, 0, POSTS, 0, "SELECT upsert_into_sql('posts')", 0 },

  /* DROP */
  { "drop_temp", K_SQL, 0, POSTS UP COUNTS, 0, "DROP TABLE up", "up" },
  { "drop_persistent", K_SQL, 0, POSTS PUP ";", 0, "DROP TABLE pup", "pup" },

  /* Reopen a file holding persistent virtual tables */
  { "reopen_insert", K_REOPEN, 1, R_POSTS, 0,
    "INSERT INTO pup VALUES(1,'A2','X2'),(70,'s','t')", 0 },
  { "reopen_insert_key", K_REOPEN, 1, R_USERS, 0,
    "INSERT INTO uup VALUES('a@x','Ann2','gold'),('d@x','Dee','free')", 0 },
  { "reopen_select", K_REOPEN, 1, R_POSTS, 0,
    "SELECT * FROM pup ORDER BY id", 0 },
  { "reopen_select_key", K_REOPEN, 1, R_USERS, 0,
    "SELECT * FROM uup WHERE email='b@x'", 0 },
  { "reopen_stats", K_REOPEN, 1, R_POSTS, 0,
    "SELECT upsert_into_stats('pup')", 0 },
  { "reopen_drop", K_REOPEN, 1, R_POSTS, 0, "DROP TABLE pup", 0 },
  { "reopen_orphan_select", K_REOPEN, 1, R_ORPHAN, 0,
    "SELECT * FROM orphan", 0 },
  { "reopen_drop_orphan", K_REOPEN, 1, R_ORPHAN, 0, "DROP TABLE orphan", 0 },
};
#define N_SCENARIO ((int)(sizeof(aScenario)/sizeof(aScenario[0])))

/* What the init scenario does with the registration afterwards */
#define INIT_SMOKE \
  "CREATE TABLE t(k TEXT PRIMARY KEY, v INT) WITHOUT ROWID;" \
  "CREATE VIRTUAL TABLE temp.up USING upsert_into(t);" \
  "INSERT INTO up VALUES('a',1),('b',2);" \
  "INSERT INTO up VALUES('a',10),('c',3);" \
  "SELECT k, v FROM up ORDER BY k;" \
  "SELECT upsert_into_stats('up');"

/**************************************************************************
** Runs.
*/
typedef struct Run Run;
struct Run {
  int rc;                 /* Result of the statement under test */
  Str out;                /* Its output */
  Str err;                /* Its error message */
  Str s0;                 /* State before the transaction (zTxn) */
  Str s1;                 /* State before the statement */
  Str s2;                 /* State after it */
  long nCall;             /* Allocations made while armed */
  long nFail;             /* Of those, failed */
};

static void runFree(Run *r){
  strFree(&r->out); strFree(&r->err);
  strFree(&r->s0); strFree(&r->s1); strFree(&r->s2);
  memset(r, 0, sizeof(*r));
}

static char gScratch[4096];     /* Directory of the database files */
static char gDbFile[4200];      /* The database file */
static int gVerbose = 0;

/* Where a crash or hang happened */
static volatile const char *gzCur = "";
static volatile const char *gzMode = "";
static volatile long giCur = 0;

static void onSignal(int sig){
  char zBuf[300];
  int n = snprintf(zBuf, sizeof(zBuf),
      "\noom: signal %d (%s) in scenario %s, %s failure at allocation %ld\n",
      sig, sig==SIGALRM ? "timeout" : "crash", (const char*)gzCur,
      (const char*)gzMode, giCur);
  if( write(2, zBuf, n) ){}
  _exit(3);
}

static void deleteDbFiles(void){
  static const char *azSuffix[] = { "", "-journal", "-wal", "-shm" };
  int i;
  for(i=0; i<4; i++){
    char zPath[4300];
    snprintf(zPath, sizeof(zPath), "%s%s", gDbFile, azSuffix[i]);
    unlink(zPath);
  }
}

static const char *rcName(int rc){
  static char azBuf[4][64];
  static int i = 0;
  const char *z = sqlite3_errstr(rc);
  i = (i+1)%4;
  snprintf(azBuf[i], sizeof(azBuf[i]), "%d (%s)", rc, z ? z : "?");
  return azBuf[i];
}

/* The database file that K_REOPEN scenarios start from */
static Str gTemplate;

static int fileRead(const char *zPath, Str *p){
  char aBuf[8192];
  size_t n;
  FILE *f = fopen(zPath, "rb");
  if( f==0 ) return 1;
  strReset(p);
  while( (n = fread(aBuf, 1, sizeof(aBuf), f))>0 ) strAppendN(p, aBuf, n);
  fclose(f);
  return 0;
}
static int fileWrite(const char *zPath, const Str *p){
  FILE *f = fopen(zPath, "wb");
  int rc;
  if( f==0 ) return 1;
  rc = fwrite(p->z, 1, p->n, f)!=p->n;
  return fclose(f) || rc;
}

/* Open a connection with the extension registered, failures off */
static sqlite3 *openDb(const char *zFile, Str *pFail){
  sqlite3 *db = 0;
  char *zErr = 0;
  int rc = sqlite3_open_v2(zFile, &db,
                           SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
  if( rc==SQLITE_OK ){
    sqlite3_extended_result_codes(db, 1);
    rc = sqlite3_upsert_init(db, &zErr, 0);
  }
  if( rc==SQLITE_OK && strcmp(zFile, ":memory:")!=0 ){
    /* Journals are still written; only the fsync() calls go */
    rc = sqlite3_exec(db, "PRAGMA synchronous=OFF", 0, 0, 0);
  }
  if( rc!=SQLITE_OK ){
    strAppendf(pFail, "harness: cannot open %s: %s %s", zFile, rcName(rc),
               zErr ? zErr : "");
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 0;
  }
  return db;
}

static int closeDb(sqlite3 *db, Str *pFail){
  int rc = sqlite3_close(db);
  if( rc!=SQLITE_OK ){
    if( pFail->n==0 ){
      strAppendf(pFail, "sqlite3_close() returned %s: %s", rcName(rc),
                 sqlite3_errmsg(db));
    }
    /* cppcheck-suppress doubleFree ; a failed sqlite3_close() frees nothing */
    sqlite3_close_v2(db);
    return 1;
  }
  return 0;
}

/* Append a failure message, keeping only the first */
static void fail(Str *pFail, const char *zFmt, ...){
  char zBuf[2000];
  va_list ap;
  if( pFail->n ) return;
  va_start(ap, zFmt);
  vsnprintf(zBuf, sizeof(zBuf), zFmt, ap);
  va_end(ap);
  strAppend(pFail, zBuf);
}

/* Append to pOut the lines of a that are not in b, each after zMark */
static void diffLines(Str *pOut, const char *zMark, const Str *a, const Str *b){
  const char *z = strZ(a);
  while( *z ){
    const char *zEnd = strchr(z, '\n');
    size_t n = zEnd ? (size_t)(zEnd-z) : strlen(z);
    const char *y = strZ(b);
    int bFound = 0;
    while( *y && !bFound ){
      const char *yEnd = strchr(y, '\n');
      size_t m = yEnd ? (size_t)(yEnd-y) : strlen(y);
      if( m==n && memcmp(y, z, n)==0 ) bFound = 1;
      y += m + (yEnd!=0);
    }
    if( !bFound ){
      strAppend(pOut, zMark);
      strAppendN(pOut, z, n);
      strAppend(pOut, "\n");
    }
    z += n + (zEnd!=0);
  }
}

/* Show how a state differs from the one or two expected */
static void failState(Str *pFail, const char *zWhat, const Str *pGot,
                      const Str *pWant1, const Str *pWant2){
  Str m = {0};
  if( pFail->n ) return;
  strAppendf(&m, "%s\n", zWhat);
  strAppend(&m, "    vs the expected state (-: missing, +: extra):\n");
  diffLines(&m, "    - ", pWant1, pGot);
  diffLines(&m, "    + ", pGot, pWant1);
  if( getenv("OOM_DEBUG") ){
    strAppendf(&m, "GOT[%s]\nWANT[%s]\n", strZ(pGot), strZ(pWant1));
  }
  if( pWant2 && !strEq(pWant1, pWant2) ){
    strAppend(&m, "    vs the other expected state:\n");
    diffLines(&m, "    - ", pWant2, pGot);
    diffLines(&m, "    + ", pGot, pWant2);
  }
  strAppend(pFail, strZ(&m));
  strFree(&m);
}

/*
** After a run's statement: check the outcome against pRef, the reference
** run.  db is the connection the statement ran on.
*/
static void checkRun(
  const Scenario *p, sqlite3 *db, const Run *pRef, Run *r, int bAuto,
  Str *pFail
){
  Str integ = {0};
  Str err = {0};
  int rc;

  if( r->rc!=SQLITE_NOMEM && r->rc!=pRef->rc ){
    fail(pFail, "returned %s \"%s\"; expected %s or %s",
         rcName(r->rc), strZ(&r->err), rcName(SQLITE_NOMEM),
         rcName(pRef->rc));
  }
  rc = runSql(db, "PRAGMA integrity_check", &integ, &err);
  if( rc!=SQLITE_OK || strcmp(strZ(&integ), "'ok'\n")!=0 ){
    fail(pFail, "integrity_check: %s %s", strZ(&integ), strZ(&err));
  }
  if( p->zTxn && bAuto ){
    /* SQLite rolled the whole transaction back */
    if( r->rc==SQLITE_OK ){
      fail(pFail, "succeeded, but the transaction is gone");
    }else if( !strEq(&r->s2, &r->s0) ){
      failState(pFail, "transaction rolled back, but the state is not the"
                " one before it", &r->s2, &r->s0, 0);
    }
  }else if( r->rc==pRef->rc ){
    if( !strEq(&r->s2, &pRef->s2) ){
      failState(pFail, "returned as a clean run does, but the state differs",
                &r->s2, &pRef->s2, 0);
    }else if( !strEq(&r->out, &pRef->out) ){
      failState(pFail, "returned as a clean run does, but the output differs",
                &r->out, &pRef->out, 0);
    }else if( r->rc!=SQLITE_OK && !strEq(&r->err, &pRef->err)
           && strcmp(strZ(&r->err), sqlite3_errstr(r->rc))!=0 ){
      /* The same error, with its message or, when the message could not
      ** be allocated, SQLite's generic one */
      fail(pFail, "returned %s as a clean run does, but the message is"
           " \"%s\", not \"%s\"", rcName(r->rc), strZ(&r->err),
           strZ(&pRef->err));
    }
  }else if( !strEq(&r->s2, &r->s1) && !strEq(&r->s2, &pRef->s2) ){
    failState(pFail, "failed, leaving a state that is neither the one"
              " before nor the one after", &r->s2, &r->s1, &pRef->s2);
  }
  if( p->zTxn && pRef->rc==SQLITE_OK && !bAuto
   && sqlite3_get_autocommit(db) ){
    fail(pFail, "transaction closed");
  }

  /* A failed statement that left the state before: run it again */
  if( pFail->n==0 && r->rc!=pRef->rc && !(p->zTxn && bAuto)
   && strEq(&r->s2, &r->s1) ){
    Str out = {0}, err2 = {0}, st = {0};
    rc = runSql(db, p->zSql, &out, &err2);
    stateOf(db, p->zStats, &st);
    if( rc!=pRef->rc ){
      fail(pFail, "after a failed run, run again without failures:"
           " returned %s \"%s\", expected %s \"%s\"", rcName(rc),
           strZ(&err2), rcName(pRef->rc), strZ(&pRef->err));
    }else if( !strEq(&st, &pRef->s2) ){
      failState(pFail, "after a failed run, run again without failures:"
                " state differs from a clean run", &st, &pRef->s2, 0);
    }else if( !strEq(&out, &pRef->out) ){
      failState(pFail, "after a failed run, run again without failures:"
                " output differs from a clean run", &out, &pRef->out, 0);
    }
    strFree(&out); strFree(&err2); strFree(&st);
  }
  strFree(&integ);
  strFree(&err);
}

/*
** One run of scenario p, failing allocation iFailAt (0: none), or every
** one from there on if bPersist.  pRef is the reference run, or NULL
** when this is it.  Failures go to pFail.
*/
static void doRun(
  const Scenario *p, long iFailAt, int bPersist, const Run *pRef,
  Run *r, Str *pFail
){
  sqlite3_int64 nBase = sqlite3_memory_used();
  sqlite3 *db = 0;
  int bAuto = 1;
  int bState = pRef==0 || iFailAt==1;  /* Compute the states before */

  giCur = iFailAt;
  if( p->bFile ) deleteDbFiles();

  if( p->eKind==K_INIT ){
    char *zErr = 0;
    int rc;
    rc = sqlite3_open_v2(":memory:", &db,
                         SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
    if( rc!=SQLITE_OK ){ fail(pFail, "harness: cannot open"); goto out; }
    sqlite3_extended_result_codes(db, 1);
    faultArm(iFailAt, bPersist);
    r->rc = sqlite3_upsert_init(db, &zErr, 0);
    faultDisarm();
    r->nCall = gFault.nCall;
    r->nFail = gFault.nFail;
    if( zErr ){ strAppend(&r->err, zErr); sqlite3_free(zErr); zErr = 0; }
    if( r->rc!=SQLITE_OK && r->rc!=SQLITE_NOMEM ){
      fail(pFail, "sqlite3_upsert_init() returned %s \"%s\"",
           rcName(r->rc), strZ(&r->err));
    }
    if( r->rc!=SQLITE_OK ){
      /* What an application does: try again */
      Str reg = {0};
      runSql(db, "SELECT (SELECT count(*) FROM pragma_module_list"
                 " WHERE name='upsert_into'),"
                 " (SELECT count(*) FROM pragma_function_list"
                 " WHERE name IN ('upsert_into_stats','upsert_into_count'))",
             &reg, 0);
      while( reg.n>0 && reg.z[reg.n-1]=='\n' ) reg.z[--reg.n] = 0;
      rc = sqlite3_upsert_init(db, &zErr, 0);
      if( rc!=SQLITE_OK ){
        fail(pFail, "sqlite3_upsert_init() failed with %s, then, without"
             " failures, returned %s \"%s\"", rcName(r->rc), rcName(rc),
             zErr ? zErr : "");
      }
      sqlite3_free(zErr);
      strAppendf(&r->s1, "registered after the failure (module, functions):"
                 " %s", strZ(&reg));
      strFree(&reg);
    }
    rc = runSql(db, INIT_SMOKE, &r->s2, &r->err);
    if( rc ) strAppendf(&r->s2, "error %s: %s\n", rcName(rc), strZ(&r->err));
    if( pRef && !strEq(&r->s2, &pRef->s2) ){
      Str m = {0};
      strAppendf(&m, "sqlite3_upsert_init() returned %s; afterwards the"
                 " extension does not work as after a clean one (%s)",
                 rcName(r->rc), strZ(&r->s1));
      failState(pFail, strZ(&m), &r->s2, &pRef->s2, 0);
      strFree(&m);
    }
    if( pRef==0 && rc ) fail(pFail, "harness: %s", strZ(&r->s2));
    goto out;
  }

  if( p->eKind==K_REOPEN ){
    if( pRef==0 ){
      /* Make the file once, and keep a copy of it for the other runs */
      Str err = {0};
      db = openDb(gDbFile, pFail);
      if( db==0 ) goto out;
      if( runSql(db, p->zSetup, 0, &err) ){
        fail(pFail, "harness: setup: %s", strZ(&err));
        strFree(&err);
        goto out;
      }
      stateOf(db, 0, &r->s1);
      strFree(&err);
      if( closeDb(db, pFail) ){ db = 0; goto out; }
      if( fileRead(gDbFile, &gTemplate) ){
        fail(pFail, "harness: cannot read %s", gDbFile);
        db = 0;
        goto out;
      }
    }else{
      if( fileWrite(gDbFile, &gTemplate) ){
        fail(pFail, "harness: cannot write %s", gDbFile);
        db = 0;
        goto out;
      }
    }
    db = openDb(gDbFile, pFail);
    if( db==0 ) goto out;
  }else{
    Str err = {0};
    db = openDb(p->bFile ? gDbFile : ":memory:", pFail);
    if( db==0 ) goto out;
    if( runSql(db, p->zSetup, 0, &err) ){
      fail(pFail, "harness: setup: %s", strZ(&err));
      strFree(&err);
      goto out;
    }
    if( p->zTxn ){
      if( bState ) stateOf(db, p->zStats, &r->s0);
      if( runSql(db, p->zTxn, 0, &err) ){
        fail(pFail, "harness: setup: %s", strZ(&err));
        strFree(&err);
        goto out;
      }
    }
    if( bState ) stateOf(db, p->zStats, &r->s1);
    strFree(&err);
  }
  if( pRef && bState && p->eKind!=K_REOPEN ){
    if( !strEq(&r->s1, &pRef->s1) || !strEq(&r->s0, &pRef->s0) ){
      failState(pFail, "harness: setup not deterministic", &r->s1,
                &pRef->s1, 0);
      goto out;
    }
  }else if( pRef ){
    /* The setup is deterministic: take the states before from pRef */
    strAppend(&r->s0, strZ(&pRef->s0));
    strAppend(&r->s1, strZ(&pRef->s1));
  }

  faultArm(iFailAt, bPersist);
  r->rc = runSql(db, p->zSql, &r->out, &r->err);
  faultDisarm();
  r->nCall = gFault.nCall;
  r->nFail = gFault.nFail;
  bAuto = sqlite3_get_autocommit(db);
  stateOf(db, p->zStats, &r->s2);

  if( pRef ){
    checkRun(p, db, pRef, r, bAuto, pFail);
  }else{
    Str integ = {0};
    runSql(db, "PRAGMA integrity_check", &integ, 0);
    if( strcmp(strZ(&integ), "'ok'\n")!=0 ){
      fail(pFail, "clean run: integrity_check: %s", strZ(&integ));
    }
    strFree(&integ);
  }

out:
  if( db ) closeDb(db, pFail);
  if( p->bFile ) deleteDbFiles();
  if( sqlite3_memory_used()!=nBase ){
    fail(pFail, "leak: %lld bytes still allocated after every connection"
         " closed", (long long)(sqlite3_memory_used()-nBase));
  }
}

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec/1e9;
}

int main(int argc, char **argv){
  sqlite3_mem_methods mem;
  int nScenario = 0, nRunAll = 0, nFailAll = 0;
  int i;
  double tStart = now();
  const char *zTmp;

#ifdef __GLIBC__
  /* Keep freed memory in the process: returning it to the kernel after
  ** every run costs more than the runs themselves */
  mallopt(M_TRIM_THRESHOLD, 512*1024*1024);
  mallopt(M_MMAP_THRESHOLD, 256*1024*1024);
#endif
  if( sqlite3_config(SQLITE_CONFIG_GETMALLOC, &gDefMem)!=SQLITE_OK ){
    fprintf(stderr, "oom: SQLITE_CONFIG_GETMALLOC failed\n");
    return 2;
  }
  mem = gDefMem;
  mem.xMalloc = faultMalloc;
  mem.xRealloc = faultRealloc;
  if( sqlite3_config(SQLITE_CONFIG_MALLOC, &mem)!=SQLITE_OK
   || sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1)!=SQLITE_OK ){
    fprintf(stderr, "oom: SQLITE_CONFIG_MALLOC failed\n");
    return 2;
  }
  /* No lookaside: every allocation goes through the allocator */
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
  if( sqlite3_initialize()!=SQLITE_OK ){
    fprintf(stderr, "oom: sqlite3_initialize failed\n");
    return 2;
  }

  zTmp = getenv("TMPDIR");
  snprintf(gScratch, sizeof(gScratch), "%s/upsert-oom-XXXXXX",
           zTmp && zTmp[0] ? zTmp : "/tmp");
  if( mkdtemp(gScratch)==0 ){
    fprintf(stderr, "oom: cannot create %s\n", gScratch);
    return 2;
  }
  snprintf(gDbFile, sizeof(gDbFile), "%s/oom.db", gScratch);

  signal(SIGSEGV, onSignal);
  signal(SIGBUS, onSignal);
  signal(SIGABRT, onSignal);
  signal(SIGFPE, onSignal);
  signal(SIGALRM, onSignal);

  for(i=1; i<argc && argv[i][0]=='-'; i++){
    if( strcmp(argv[i], "-v")==0 ){
      gVerbose = 1;
    }else{
      fprintf(stderr, "usage: %s [-v] [NAME-PREFIX ...]\n", argv[0]);
      return 2;
    }
  }

  for(int iS=0; iS<N_SCENARIO; iS++){
    const Scenario *p = &aScenario[iS];
    Run ref;
    Str failRef = {0};
    int nRun = 0, nFail = 0, nShown = 0;
    int aRuns[2] = {0, 0};
    double t0 = now();
    if( i<argc ){
      int j;
      for(j=i; j<argc; j++){
        if( strncmp(p->zName, argv[j], strlen(argv[j]))==0 ) break;
      }
      if( j==argc ) continue;
    }
    nScenario++;
    gzCur = p->zName;
    gzMode = "no";
    alarm(120);

    memset(&ref, 0, sizeof(ref));
    doRun(p, 0, 0, 0, &ref, &failRef);
    nRun++;
    if( failRef.n==0 && ref.nCall==0 ){
      fail(&failRef, "harness: the statement allocates nothing");
    }
    if( failRef.n ){
      printf("! %s: clean run: %s\n", p->zName, strZ(&failRef));
      nFail++;
    }else{
      if( gVerbose ){
        printf("  %s: clean run: %s, %ld allocations\n", p->zName,
               rcName(ref.rc), ref.nCall);
      }
      for(int bPersist=0; bPersist<2; bPersist++){
        long n;
        gzMode = bPersist ? "persistent" : "transient";
        for(n=1; ; n++){
          Run r;
          Str failRun = {0};
          memset(&r, 0, sizeof(r));
          doRun(p, n, bPersist, &ref, &r, &failRun);
          nRun++;
          aRuns[bPersist]++;
          if( r.nFail==0 && failRun.n==0 && r.rc!=ref.rc ){
            fail(&failRun, "no failure injected, yet returned %s",
                 rcName(r.rc));
          }
          if( failRun.n ){
            nFail++;
            if( nShown<3 || gVerbose ){
              printf("! %s: %s failure at allocation %ld (%s): %s\n",
                     p->zName, gzMode, n, rcName(r.rc), strZ(&failRun));
              nShown++;
            }
          }
          strFree(&failRun);
          if( r.nFail==0 ){ runFree(&r); break; }
          runFree(&r);
          if( n>ref.nCall*4+1000 ){
            printf("! %s: %s: no run completed after %ld\n", p->zName,
                   gzMode, n);
            nFail++;
            break;
          }
        }
      }
    }
    alarm(0);
    printf("%-26s %5d runs (%d transient, %d persistent)  %.2fs",
           p->zName, nRun, aRuns[0], aRuns[1], now()-t0);
    if( nFail ) printf("  FAILED: %d", nFail);
    printf("\n");
    fflush(stdout);
    nRunAll += nRun;
    nFailAll += nFail;
    runFree(&ref);
    strFree(&failRef);
  }

  deleteDbFiles();
  rmdir(gScratch);
  if( sqlite3_memory_used()!=0 ){
    printf("! %lld bytes still allocated at the end\n",
           (long long)sqlite3_memory_used());
    nFailAll++;
  }
  printf("time: %.1fs\n", now()-tStart);
  printf("oom: %d scenarios, %d runs, %d failures\n",
         nScenario, nRunAll, nFailAll);
  return nFailAll ? 1 : 0;
}
