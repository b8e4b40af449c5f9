/*
** libFuzzer target: the arguments of CREATE VIRTUAL TABLE ... USING
** upsert_into(...), then a short workout of the table that was created.
**
** Each input is the text between the parentheses of
**
**   CREATE VIRTUAL TABLE temp.f USING upsert_into(<input>)
**
** on a fresh in-memory database holding a fixed set of backing tables.
** Only the first statement of that text is prepared and run; nothing else
** of the input is ever executed.  No file can be created: the database is
** :memory: and SQLITE_LIMIT_ATTACHED is 0.
**
** Findings (abort(), besides any ASan/UBSan/leak report):
**   - a failed CREATE whose message does not start with "upsert_into: "
**     (the extension's messages all do; SQLite's parse errors come from
**     prepare and are not checked)
**   - an INSERT that fails with a message neither the extension's nor a
**     constraint's
**   - a multi-row INSERT that fails but leaves a row changed (statement
**     atomicity)
**   - upsert_into_stats() counts that are not one per row of every
**     statement that succeeded and stays (a row of a failed statement, or
**     of a rolled back transaction, is not counted), or not zero after
**     'reset'
**   - a lookup through the key that returns other rows than a scan with
**     the same condition
**   - DROP TABLE that fails, or PRAGMA integrity_check not ok
**
** Build (make fuzz):
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -DSQLITE_CORE \
**     test/fuzz_create.c ext/upsert.c -lsqlite3
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

#define PREFIX "upsert_into: "

/* The backing tables.  users: rowid table with INTEGER PRIMARY KEY, a NOT
** NULL DEFAULT and a UNIQUE column.  t2: WITHOUT ROWID, composite TEXT
** key.  nopk: no PRIMARY KEY, UNIQUE(x).  "we ird": odd names.  t1: a
** partial unique index, a unique index with its own COLLATE, generated
** columns.  And things that are not usable: a view, an expression index,
** a table without any key, a TEMP table shadowing nothing. */
static const char zSchema[] =
  "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
  "  name TEXT NOT NULL DEFAULT 'anon', plan TEXT DEFAULT 'free', n INT,"
  "  CHECK(n IS NOT 13));"
  "CREATE UNIQUE INDEX users_lower ON users(lower(name));"
  "CREATE TABLE t2(a TEXT COLLATE NOCASE, b TEXT, c NOT NULL, d BLOB,"
  "  PRIMARY KEY(a, b)) WITHOUT ROWID;"
  "CREATE TABLE nopk(x, y INT, z REAL DEFAULT 0.5, \"rowid\" TEXT, oid,"
  "  _rowid_, UNIQUE(x));"
  "CREATE TABLE \"we ird\"(\"a\"\"b\" INTEGER PRIMARY KEY,"
  "  [c d] TEXT UNIQUE, `e,f` DEFAULT 1, \"x)y\" \"INT, evil\", \"select\","
  "  'q''z' VARCHAR(10));"
  "CREATE TABLE t1(a INTEGER PRIMARY KEY AUTOINCREMENT, b INT, c TEXT,"
  "  g AS (b*2), h TEXT AS (c || '!') STORED, rowid_ TEXT, oid);"
  "CREATE UNIQUE INDEX t1_b ON t1(b) WHERE b > 10;"
  "CREATE UNIQUE INDEX t1_c ON t1(c COLLATE NOCASE);"
  "CREATE UNIQUE INDEX t1_bc ON t1(b, c);"
  "CREATE TABLE nokey(p, q);"
  "CREATE VIEW v AS SELECT * FROM users;"
  "CREATE TEMP TABLE tt(k PRIMARY KEY, v) ;"
  "INSERT INTO users VALUES(1, 'a@x', 'Ann', 'pro', 1), (2, 'b@x', 'Bob',"
  "  'free', 2);"
  "INSERT INTO t2 VALUES('a', 'b', 1, x'00'), ('A', 'c', 2, NULL);"
  "INSERT INTO nopk(x, y, z) VALUES(1, 2, 3.5), ('1', NULL, NULL);"
  "INSERT INTO \"we ird\" VALUES(1, 'x', 2, 3, 4, 'z');"
  "INSERT INTO t1(a, b, c) VALUES(1, 11, 'a'), (2, 2, 'B');"
  "INSERT INTO tt VALUES(1, 1);";

/* Work done by SQL of the input (where=) is bounded: after this many
** calls of the progress handler, every statement is interrupted. */
#define PROGRESS_OPS   100
#define PROGRESS_LIMIT 20000

typedef struct Fuzz Fuzz;
struct Fuzz {
  sqlite3 *db;
  uint64_t r;                /* PRNG state, from the input bytes */
  int nProgress;             /* Calls of the progress handler */
  int bChecks;               /* False once results are not checkable */
  int bStats;                /* True if the counts can be checked */
  int nCol;                  /* Declared columns of f */
  char **azCol;              /* Their names */
  sqlite3_int64 nCommitted;  /* Rows counted by committed statements */
  sqlite3_int64 nTxn;        /* Rows counted in the open transaction */
};

static void fail(Fuzz *p, const char *zWhat, const char *zDetail){
  fprintf(stderr, "fuzz_create: FINDING: %s\n  %s\n", zWhat,
          zDetail ? zDetail : "");
  if( p && p->db ) fprintf(stderr, "  errmsg: %s\n", sqlite3_errmsg(p->db));
  abort();
}

static int progress(void *pArg){
  Fuzz *p = (Fuzz*)pArg;
  if( ++p->nProgress > PROGRESS_LIMIT ){
    p->bChecks = 0;
    return 1;
  }
  return 0;
}

static unsigned rnd(Fuzz *p){
  /* xorshift64* */
  p->r ^= p->r >> 12;
  p->r ^= p->r << 25;
  p->r ^= p->r >> 27;
  return (unsigned)((p->r * 2685821657736338717ULL) >> 33);
}

/* Bind a value chosen by the PRNG: NULL, integer, real, text or blob,
** from small sets so that keys meet. */
static void bindValue(Fuzz *p, sqlite3_stmt *pStmt, int i){
  static const char *azText[] = {
    "a", "A", "b", "1", "2", "", "x y", "a ", "\xc3\xa9", "a@x", "Ann"
  };
  static const double aReal[] = { 1.5, 2.0, -0.5, 1e300 };
  static const char aBlob[] = { 0, 'a', 'b' };
  switch( rnd(p)%10 ){
    case 0: sqlite3_bind_null(pStmt, i); break;
    case 1: case 2: case 3:
      sqlite3_bind_int64(pStmt, i, (sqlite3_int64)(rnd(p)%5) - 1); break;
    case 4: sqlite3_bind_double(pStmt, i, aReal[rnd(p)%4]); break;
    case 5: case 6: case 7:
      sqlite3_bind_text(pStmt, i, azText[rnd(p)%11], -1, SQLITE_STATIC);
      break;
    case 8:
      sqlite3_bind_blob(pStmt, i, aBlob, (int)(rnd(p)%4), SQLITE_STATIC);
      break;
    default:
      sqlite3_bind_int64(pStmt, i, rnd(p)%2 ? 13 : (sqlite3_int64)1<<62);
      break;
  }
}

static char *sqlOne(sqlite3 *db, const char *zSql){
  sqlite3_stmt *pStmt = 0;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    z = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
  return z;
}

/* The sum of the three counts of upsert_into_stats('f'), or -1. */
static sqlite3_int64 statsSum(Fuzz *p, const char *zArgs){
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 n = -1;
  char *zSql = sqlite3_mprintf(
      "SELECT json_extract(s,'$.inserted') + json_extract(s,'$.updated')"
      " + json_extract(s,'$.skipped'), json_valid(s)"
      " FROM (SELECT upsert_into_stats(%s) AS s)", zArgs);
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( sqlite3_column_int(pStmt, 1)!=1 ){
      fail(p, "upsert_into_stats() is not valid JSON", zArgs);
    }
    n = sqlite3_column_int64(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return n;
}

static void checkStats(Fuzz *p, const char *zWhen){
  sqlite3_int64 n;
  if( !p->bChecks || !p->bStats ) return;
  n = statsSum(p, "'f'");
  if( n<0 && !p->bChecks ) return;
  if( n!=p->nCommitted+p->nTxn ){
    char zMsg[200];
    snprintf(zMsg, sizeof(zMsg), "%s: counts sum to %lld, expected %lld",
             zWhen, (long long)n, (long long)(p->nCommitted+p->nTxn));
    fail(p, "upsert_into_stats() off", zMsg);
  }
}

/* sqlite3_str_finish(), but "" rather than NULL for an empty text */
static char *strFinish(sqlite3_str *p){
  char *z = sqlite3_str_finish(p);
  if( z==0 ) z = sqlite3_mprintf("");
  if( z==0 ) abort();
  return z;
}

/* A text of every row of f in a canonical order, or NULL. */
static char *contents(Fuzz *p){
  sqlite3_str *pSql = sqlite3_str_new(p->db);
  sqlite3_str *pOut = sqlite3_str_new(p->db);
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int i, rc;
  sqlite3_str_appendall(pSql, "SELECT ");
  for(i=0; i<p->nCol; i++){
    sqlite3_str_appendf(pSql, "%squote(\"%w\")", i ? "," : "", p->azCol[i]);
  }
  sqlite3_str_appendall(pSql, " FROM f ORDER BY ");
  for(i=0; i<p->nCol; i++){
    sqlite3_str_appendf(pSql, "%s%d", i ? "," : "", i+1);
  }
  zSql = sqlite3_str_finish(pSql);
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    for(i=0; i<p->nCol; i++){
      sqlite3_str_appendf(pOut, "%s|", sqlite3_column_text(pStmt, i));
    }
    sqlite3_str_appendchar(pOut, 1, '\n');
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    sqlite3_free(sqlite3_str_finish(pOut));
    return 0;
  }
  return strFinish(pOut);
}

static void freeColumns(Fuzz *p){
  int i;
  for(i=0; i<p->nCol; i++) sqlite3_free(p->azCol[i]);
  free(p->azCol);
  p->azCol = 0;
  p->nCol = 0;
}

/* Read the declared columns of f. */
static void readColumns(Fuzz *p){
  sqlite3_stmt *pStmt = 0;
  freeColumns(p);
  if( sqlite3_prepare_v2(p->db,
        "SELECT name FROM pragma_table_info('f', 'temp') ORDER BY cid",
        -1, &pStmt, 0)!=SQLITE_OK ){
    fail(p, "pragma_table_info('f') failed", 0);
  }
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    p->azCol = realloc(p->azCol, sizeof(char*)*(p->nCol+1));
    p->azCol[p->nCol++] = sqlite3_mprintf("%s",
                                          sqlite3_column_text(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
}

/* Run zSql, ignoring the outcome. */
static int run(Fuzz *p, const char *zSql){
  return sqlite3_exec(p->db, zSql, 0, 0, 0);
}

/* The transaction that was open ended (a ROLLBACK of some kind): its
** rows are no longer counted. */
static void noteTxnState(Fuzz *p){
  if( sqlite3_get_autocommit(p->db) ) p->nTxn = 0;
}

/*
** Insert nRow rows in one statement with verb zVerb ("INSERT",
** "INSERT OR IGNORE", ...).
*/
static void insertRows(Fuzz *p, const char *zVerb, int nRow){
  sqlite3_str *pSql;
  sqlite3_stmt *pStmt = 0;
  char *zSql, *zBefore = 0, *zAfter = 0;
  int i, j, rc;
  if( p->nCol==0 ) return;
  pSql = sqlite3_str_new(p->db);
  sqlite3_str_appendf(pSql, "%s INTO f VALUES", zVerb);
  for(j=0; j<nRow; j++){
    sqlite3_str_appendall(pSql, j ? ",(" : "(");
    for(i=0; i<p->nCol; i++) sqlite3_str_appendall(pSql, i ? ",?" : "?");
    sqlite3_str_appendall(pSql, ")");
  }
  zSql = sqlite3_str_finish(pSql);
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    if( p->bChecks ) fail(p, "cannot prepare an INSERT into f", zVerb);
    return;
  }
  for(i=1; i<=nRow*p->nCol; i++) bindValue(p, pStmt, i);
  if( nRow>1 && p->bChecks ) zBefore = contents(p);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_DONE ){
    if( sqlite3_get_autocommit(p->db) ){
      p->nCommitted += nRow;
    }else{
      p->nTxn += nRow;
    }
  }else{
    const char *zErr = sqlite3_errmsg(p->db);
    rc = sqlite3_reset(pStmt);
    noteTxnState(p);
    if( p->bChecks && rc!=SQLITE_NOMEM && rc!=SQLITE_INTERRUPT
     && strncmp(zErr, PREFIX, sizeof(PREFIX)-1)!=0
     && strstr(zErr, "constraint failed")==0 ){
      fail(p, "INSERT error without the prefix", zErr);
    }
    /* A failed statement changes nothing */
    if( zBefore && p->bChecks && !sqlite3_get_autocommit(p->db) ){
      zAfter = contents(p);
      if( zAfter && strcmp(zBefore, zAfter)!=0 ){
        fprintf(stderr, "before:\n%s\nafter:\n%s\n", zBefore, zAfter);
        fail(p, "a failed multi-row INSERT left rows changed", zVerb);
      }
    }
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zBefore);
  sqlite3_free(zAfter);
  checkStats(p, zVerb);
}

/* Rows of zSql (its parameters bound to aVal) as an order-free hash, and
** their number in *pn.  Returns non-zero if the statement failed. */
static int hashRows(
  Fuzz *p, const char *zSql, sqlite3_value **aVal, int nVal,
  uint64_t *pHash, int *pn
){
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  *pHash = 0;
  *pn = 0;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  if( rc!=SQLITE_OK ) return rc;
  for(i=0; i<nVal; i++) sqlite3_bind_value(pStmt, i+1, aVal[i]);
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    uint64_t h = 1469598103934665603ULL;
    for(i=0; i<sqlite3_column_count(pStmt); i++){
      const unsigned char *z;
      int n, j;
      h = (h ^ (uint64_t)sqlite3_column_type(pStmt, i)) * 1099511628211ULL;
      z = sqlite3_column_blob(pStmt, i);
      n = sqlite3_column_bytes(pStmt, i);
      for(j=0; j<n; j++) h = (h ^ z[j]) * 1099511628211ULL;
    }
    *pHash += h;
    (*pn)++;
  }
  rc = sqlite3_finalize(pStmt);
  return rc;
}

/*
** SELECT * FROM f with equality on the columns of mask, values taken from
** a row of f (or random ones), compared with the same condition hidden
** from xBestIndex (so that it is a scan checked by SQLite).
*/
static void selectEq(Fuzz *p, unsigned mask, int iRow){
  sqlite3_str *pA, *pB;
  sqlite3_stmt *pStmt = 0;
  sqlite3_value *aVal[32];
  sqlite3_value *aBind[32];
  char *zA, *zB;
  uint64_t hA, hB;
  int nA, nB, rcA, rcB;
  int i, n = 0;
  if( p->nCol==0 || p->nCol>32 ) return;
  memset(aVal, 0, sizeof(aVal));
  /* Values from row iRow, if there is one */
  zA = sqlite3_mprintf("SELECT * FROM f LIMIT 1 OFFSET %d", iRow);
  if( sqlite3_prepare_v2(p->db, zA, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    for(i=0; i<p->nCol; i++){
      aVal[i] = sqlite3_value_dup(sqlite3_column_value(pStmt, i));
    }
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zA);
  pA = sqlite3_str_new(p->db);
  pB = sqlite3_str_new(p->db);
  sqlite3_str_appendall(pA, "SELECT * FROM f WHERE 1");
  sqlite3_str_appendall(pB, "SELECT * FROM f WHERE 1");
  for(i=0; i<p->nCol; i++){
    if( (mask & (1u<<i))==0 ) continue;
    if( aVal[i]==0 || rnd(p)%8==0 ){
      /* a random value instead */
      sqlite3_stmt *pV = 0;
      sqlite3_value_free(aVal[i]);
      aVal[i] = 0;
      if( sqlite3_prepare_v2(p->db, "SELECT ?", -1, &pV, 0)==SQLITE_OK ){
        bindValue(p, pV, 1);
        if( sqlite3_step(pV)==SQLITE_ROW ){
          aVal[i] = sqlite3_value_dup(sqlite3_column_value(pV, 0));
        }
      }
      sqlite3_finalize(pV);
    }
    aBind[n++] = aVal[i];
    sqlite3_str_appendf(pA, " AND \"%w\"=?%d", p->azCol[i], n);
    sqlite3_str_appendf(pB, " AND coalesce(\"%w\"=?%d, 0)", p->azCol[i], n);
  }
  zA = sqlite3_str_finish(pA);
  zB = sqlite3_str_finish(pB);
  rcA = hashRows(p, zA, aBind, n, &hA, &nA);
  rcB = hashRows(p, zB, aBind, n, &hB, &nB);
  if( p->bChecks && rcA==SQLITE_OK && rcB==SQLITE_OK && (hA!=hB || nA!=nB) ){
    char zMsg[300];
    snprintf(zMsg, sizeof(zMsg), "%s: %d rows, scan: %d rows", zA, nA, nB);
    fail(p, "lookup and scan differ", zMsg);
  }
  if( p->bChecks && rcA!=SQLITE_OK && rcA!=SQLITE_INTERRUPT ){
    const char *zErr = sqlite3_errmsg(p->db);
    if( strncmp(zErr, PREFIX, sizeof(PREFIX)-1) ) fail(p, "SELECT failed", zA);
  }
  for(i=0; i<32; i++) sqlite3_value_free(aVal[i]);
  sqlite3_free(zA);
  sqlite3_free(zB);
}

/* Rows of f, or -1 */
static sqlite3_int64 countRows(Fuzz *p){
  char *z = sqlOne(p->db, "SELECT count(*) FROM f");
  sqlite3_int64 n = z ? atoll(z) : -1;
  sqlite3_free(z);
  return n;
}

/*
** Run zSql, a statement that writes to f.  If it succeeds, it counted
** nRow rows; if it fails, its message is the extension's or a
** constraint's, and f is as it was.
*/
static void runCounted(Fuzz *p, const char *zSql, sqlite3_int64 nRow){
  char *zBefore = p->bChecks ? contents(p) : 0;
  char *zErr = 0;
  int rc = sqlite3_exec(p->db, zSql, 0, 0, &zErr);
  if( rc==SQLITE_OK ){
    p->nCommitted += nRow;
  }else if( p->bChecks && rc!=SQLITE_NOMEM && rc!=SQLITE_INTERRUPT ){
    char *zAfter;
    if( zErr==0 || (strncmp(zErr, PREFIX, sizeof(PREFIX)-1)!=0
                    && strstr(zErr, "constraint failed")==0) ){
      fail(p, "error without the prefix", zSql);
    }
    zAfter = contents(p);
    if( zBefore && zAfter && strcmp(zBefore, zAfter)!=0 ){
      fprintf(stderr, "before:\n%s\nafter:\n%s\n", zBefore, zAfter);
      fail(p, "a failed statement left rows changed", zSql);
    }
    sqlite3_free(zAfter);
  }
  sqlite3_free(zErr);
  sqlite3_free(zBefore);
  checkStats(p, zSql);
}

/* The workout of a table f that was created. */
static void exercise(Fuzz *p){
  static const char *azVerb[] = {
    "INSERT", "INSERT OR IGNORE", "INSERT OR REPLACE"
  };
  sqlite3_int64 n;
  char *z;
  int i, k;

  readColumns(p);
  if( p->bStats && statsSum(p, "'f'")!=0 ){
    fail(p, "a new table has counts", 0);
  }

  /* Rows in each conflict mode, in one transaction */
  run(p, "BEGIN");
  for(k=0; k<3; k++){
    for(i=0; i<3; i++) insertRows(p, azVerb[k], 1);
    insertRows(p, azVerb[k], 2 + rnd(p)%3);
  }
  if( run(p, "COMMIT")==SQLITE_OK ){
    p->nCommitted += p->nTxn;
    p->nTxn = 0;
  }else{
    run(p, "ROLLBACK");
    p->nTxn = 0;
  }
  checkStats(p, "after COMMIT");

  /* And in autocommit mode, a statement at a time: enough rows for many
  ** patterns of NULLs (nulls=keep prepares a statement for each) */
  insertRows(p, azVerb[rnd(p)%3], 1 + rnd(p)%3);
  for(i=0; i<20; i++) insertRows(p, azVerb[rnd(p)%3], 1);

  /* INSERT ... SELECT from the table itself: allowed (SQLite reads every
  ** row first), one count per row read */
  n = countRows(p);
  if( n>=0 ) runCounted(p, "INSERT OR IGNORE INTO f SELECT * FROM f", n);
  n = countRows(p);
  if( n>=0 ) runCounted(p, "INSERT INTO f SELECT * FROM f LIMIT 3", n<3 ? n : 3);

  /* INSERT ... SELECT from each table with f's columns: from the backing
  ** table itself, it is refused (it could read its own rows) */
  if( p->nCol>0 ){
    static const char *azFrom[] = {
      "users", "t2", "nopk", "\"we ird\"", "t1", "temp.tt"
    };
    for(k=0; k<6; k++){
      sqlite3_str *pSql = sqlite3_str_new(p->db);
      sqlite3_stmt *pTest = 0;
      char *zCount;
      sqlite3_str_appendf(pSql, "INSERT OR IGNORE INTO f SELECT ");
      for(i=0; i<p->nCol; i++){
        sqlite3_str_appendf(pSql, "%s\"%w\"", i ? "," : "", p->azCol[i]);
      }
      sqlite3_str_appendf(pSql, " FROM %s", azFrom[k]);
      z = sqlite3_str_finish(pSql);
      if( sqlite3_prepare_v2(p->db, z, -1, &pTest, 0)==SQLITE_OK ){
        sqlite3_finalize(pTest);
        zCount = sqlite3_mprintf("SELECT count(*) FROM %s", azFrom[k]);
        {
          char *zN = sqlOne(p->db, zCount);
          if( zN ) runCounted(p, z, atoll(zN));
          sqlite3_free(zN);
        }
        sqlite3_free(zCount);
      }
      sqlite3_free(z);
    }
  }

  /* UPDATE and DELETE are refused, and change nothing */
  if( p->nCol>0 ){
    z = sqlite3_mprintf("UPDATE f SET \"%w\"=\"%w\"", p->azCol[0],
                        p->azCol[p->nCol-1]);
    runCounted(p, z, 0);
    sqlite3_free(z);
  }
  runCounted(p, "DELETE FROM f", 0);

  /* A transaction rolled back takes its counts back */
  run(p, "BEGIN");
  insertRows(p, "INSERT", 1);
  run(p, "SAVEPOINT s1");
  n = p->nTxn;
  insertRows(p, "INSERT OR REPLACE", 2);
  insertRows(p, "INSERT", 1);
  if( run(p, "ROLLBACK TO s1")==SQLITE_OK ) p->nTxn = n;
  checkStats(p, "after ROLLBACK TO");
  run(p, "ROLLBACK");
  p->nTxn = 0;
  checkStats(p, "after ROLLBACK");

  /* Reads: a scan, the rowid, joins, then lookups */
  z = contents(p);
  sqlite3_free(z);
  z = sqlOne(p->db, "SELECT count(rowid) FROM f");
  sqlite3_free(z);
  n = countRows(p);
  if( n>=0 && p->nCol>0 ){
    char *zJ;
    z = sqlOne(p->db, "SELECT count(*) FROM f AS x, f AS y");
    zJ = sqlite3_mprintf("%lld", n*n);
    if( p->bChecks && z && strcmp(z, zJ)!=0 ){
      fail(p, "a self join does not count n*n rows", z);
    }
    sqlite3_free(z);
    sqlite3_free(zJ);
    zJ = sqlite3_mprintf("SELECT count(*) FROM f AS x JOIN f AS y"
                         " ON y.\"%w\"=x.\"%w\"", p->azCol[0], p->azCol[0]);
    z = sqlOne(p->db, zJ);
    sqlite3_free(z);
    sqlite3_free(zJ);
  }
  if( p->nCol>0 ){
    unsigned all = p->nCol>=32 ? 0xffffffffu : (1u<<p->nCol)-1;
    selectEq(p, all, 0);
    selectEq(p, all, 1);
    for(i=0; i<p->nCol && i<32; i++) selectEq(p, 1u<<i, rnd(p)%3);
    selectEq(p, rnd(p) & all, rnd(p)%3);
  }

  /* A schema change makes SQLite reconnect the table; the counts stay */
  {
    static const char *azTab[] = {
      "users", "t2", "nopk", "\"we ird\"", "t1", "temp.tt"
    };
    char *zAlter = sqlite3_mprintf("ALTER TABLE %s ADD COLUMN zz1 DEFAULT 7",
                                   azTab[rnd(p)%6]);
    run(p, zAlter);
    sqlite3_free(zAlter);
  }
  readColumns(p);
  checkStats(p, "after reconnect");
  insertRows(p, "INSERT", 1);
  z = contents(p);
  sqlite3_free(z);

  /* The counts, reset */
  if( p->bStats ){
    n = statsSum(p, "'f', 'reset'");
    if( p->bChecks && n!=p->nCommitted ){
      fail(p, "upsert_into_stats('f', 'reset') off", 0);
    }
    if( p->bChecks && statsSum(p, "'temp.f'")!=0 ){
      fail(p, "counts not zero after reset", 0);
    }
  }
  /* Errors of upsert_into_stats() */
  {
    static const char *azBad[] = {
      "SELECT upsert_into_stats('f', 'bogus')",
      "SELECT upsert_into_stats('main.f')",
      "SELECT upsert_into_stats(NULL)",
      "SELECT upsert_into_stats('f', NULL)",
      "SELECT upsert_into_stats('\"f')",
    };
    for(k=0; k<(int)(sizeof(azBad)/sizeof(azBad[0])); k++){
      char *zErr = 0;
      if( sqlite3_exec(p->db, azBad[k], 0, 0, &zErr)==SQLITE_OK
       || zErr==0 || strncmp(zErr, PREFIX, sizeof(PREFIX)-1)!=0 ){
        if( p->bChecks ) fail(p, "upsert_into_stats() error", azBad[k]);
      }
      sqlite3_free(zErr);
    }
  }
  freeColumns(p);
}

/* ASan's default quarantine (256 MB) makes every allocation of SQLite
** fault in fresh pages: 3 times slower.  16 MB still holds many inputs'
** worth of freed memory. */
const char *__asan_default_options(void){
  return "quarantine_size_mb=16";
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  Fuzz f;
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  char *zErr = 0;
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  int rc;
  static const char zPre[] = "CREATE VIRTUAL TABLE temp.f USING upsert_into(";

  if( nData>4096 ) return 0;
  memset(&f, 0, sizeof(f));
  for(i=0; i<nData; i++) h = (h ^ aData[i]) * 1099511628211ULL;
  f.r = h ? h : 1;
  f.bChecks = 1;

  if( sqlite3_open(":memory:", &f.db)!=SQLITE_OK ) abort();
  sqlite3_limit(f.db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(f.db, SQLITE_LIMIT_LENGTH, 1000000);
  sqlite3_limit(f.db, SQLITE_LIMIT_SQL_LENGTH, 100000);
  sqlite3_db_config(f.db, SQLITE_DBCONFIG_DEFENSIVE, 1, 0);
  /* No lookaside: every allocation is one ASan sees */
  sqlite3_db_config(f.db, SQLITE_DBCONFIG_LOOKASIDE, 0, 0, 0);
  if( sqlite3_upsert_init(f.db, &zErr, 0)!=SQLITE_OK ) abort();
  if( sqlite3_exec(f.db, zSchema, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "schema: %s\n", zErr);
    abort();
  }

  /* Every count is checkable unless the input's SQL can reach them */
  f.bStats = 1;
  for(i=0; i+17<=nData; i++){
    if( sqlite3_strnicmp((const char*)&aData[i], "upsert_into_stats", 17)==0 ){
      f.bStats = 0;
    }
  }

  zSql = sqlite3_malloc64(sizeof(zPre) + nData + 2);
  if( zSql==0 ) abort();
  memcpy(zSql, zPre, sizeof(zPre)-1);
  memcpy(zSql+sizeof(zPre)-1, aData, nData);
  memcpy(zSql+sizeof(zPre)-1+nData, ")", 2);

  sqlite3_progress_handler(f.db, PROGRESS_OPS, progress, &f);
  /* Only the first statement; the tail is ignored */
  rc = sqlite3_prepare_v2(f.db, zSql, (int)(sizeof(zPre)+nData), &pStmt, 0);
  if( rc==SQLITE_OK && pStmt ){
    rc = sqlite3_step(pStmt);
    if( rc!=SQLITE_DONE ){
      const char *zMsg = sqlite3_errmsg(f.db);
      if( rc!=SQLITE_NOMEM && rc!=SQLITE_INTERRUPT
       && strncmp(zMsg, PREFIX, sizeof(PREFIX)-1)!=0 ){
        fail(&f, "CREATE error without the prefix", zMsg);
      }
    }
    sqlite3_finalize(pStmt);
    if( rc==SQLITE_DONE ){
      exercise(&f);
      /* DROP never runs SQL of the input: no budget needed */
      sqlite3_progress_handler(f.db, 0, 0, 0);
      rc = run(&f, "DROP TABLE temp.f");
      if( rc!=SQLITE_OK ) fail(&f, "DROP TABLE f failed", 0);
      if( f.bStats && statsSum(&f, "'f'")!=-1 ){
        fail(&f, "counts of a dropped table", 0);
      }
    }
  }else{
    sqlite3_finalize(pStmt);
  }
  sqlite3_progress_handler(f.db, 0, 0, 0);
  {
    char *zOk = sqlOne(f.db, "PRAGMA integrity_check");
    char *zOkT = sqlOne(f.db, "PRAGMA temp.integrity_check");
    if( zOk==0 || strcmp(zOk, "ok")!=0 || zOkT==0 || strcmp(zOkT, "ok")!=0 ){
      fail(&f, "integrity_check", zOk);
    }
    sqlite3_free(zOk);
    sqlite3_free(zOkT);
  }
  sqlite3_free(zSql);
  sqlite3_free(zErr);
  if( sqlite3_close(f.db)!=SQLITE_OK ) fail(0, "sqlite3_close: busy", 0);
  return 0;
}
