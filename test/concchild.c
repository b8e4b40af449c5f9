/*
** test/concchild.c: one of the writer processes of test/conc.test
** (issue 5, concurrency).
**
**   concchild DB EXT PROC NTXN SEED LOG
**
** Opens the file database DB (test/conc.test created it, chose its journal
** mode, and created t(id INTEGER PRIMARY KEY, v TEXT, gen INT) and
** counter(c INT) holding one row), sets a busy timeout of 5000 ms, loads
** the extension EXT with sqlite3_load_extension(), creates
** temp.up USING upsert_into(t), and commits NTXN transactions, each:
**
**   BEGIN IMMEDIATE (two in three) or BEGIN (deferred, one in three)
**   SELECT c FROM counter                        -> gen = c+1
**   INSERT INTO up SELECT ... FROM json_each(?)  most rows, in one statement
**   INSERT INTO up VALUES(?,?,?)                 the last few rows, one by one
**   SELECT v FROM up WHERE id=?                  reads back one row written
**   UPDATE counter SET c=c+1 RETURNING c         must return gen
**   COMMIT
**
** The rows (50 to 300) have random keys in 1..1500, drawn with repetition
** (so a transaction may write a key twice: the later row wins), values
** "pPROC.sSEQ.kID.<random letters>", and gen = the counter value the
** transaction writes, which orders the transactions as they committed.
** The processes share the key range, so they overwrite each other's rows.
**
** A deferred transaction holds only a read lock when its first write
** comes, so that write (through the virtual table, or the UPDATE) may
** fail with SQLITE_BUSY at once, without the busy handler: the
** transaction is rolled back and run again with the same rows, as an
** application must.  Any SQLITE_BUSY is handled so; any other error ends
** the process with status 1 and a message on stderr.
**
** After each COMMIT returns SQLITE_OK, the transaction is appended to LOG:
**   T <counter> <proc> <seq> <nrows>
**   <id> <v>                          one line per row, in the order written
** and at the end:
**   D <proc> <retries> <busy errors from statements on the virtual table>
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#define CONC_KEYS 1500

static sqlite3 *db;
static int iProc;

static void die(const char *zWhat, const char *zMsg){
  fprintf(stderr, "concchild %d: %s: %s\n", iProc, zWhat, zMsg);
  exit(1);
}

static sqlite3_stmt *prepare(const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    die(zSql, sqlite3_errmsg(db));
  }
  return p;
}

static unsigned long long rngState;
static unsigned int rnd(unsigned int n){
  rngState ^= rngState << 13;
  rngState ^= rngState >> 7;
  rngState ^= rngState << 17;
  return (unsigned int)(rngState % n);
}

/* Step pStmt to its end (or one row when bRow).  Returns SQLITE_OK,
** SQLITE_ROW (bRow and a row is there), or SQLITE_BUSY; dies on any
** other error.  Resets pStmt, except when a row is returned. */
static int step(sqlite3_stmt *pStmt, int bRow, const char *zWhat){
  int rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW && bRow ) return SQLITE_ROW;
  while( rc==SQLITE_ROW ) rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( (rc & 0xff)==SQLITE_BUSY ) return SQLITE_BUSY;
  die(zWhat, sqlite3_errmsg(db));
  return rc;
}

/* Sleep 0 to ms milliseconds, at random */
static void pause_ms(int ms){
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = (long)rnd(ms*1000)*1000;
  nanosleep(&ts, 0);
}

static int exec_busy(const char *zSql){
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc==SQLITE_OK ) return SQLITE_OK;
  if( (rc & 0xff)==SQLITE_BUSY ) return SQLITE_BUSY;
  die(zSql, sqlite3_errmsg(db));
  return rc;
}

int main(int argc, char **argv){
  char *zErr = 0;
  int nTxn, iSeq, nRetry = 0, nVtabBusy = 0;
  FILE *pLog;
  sqlite3_stmt *pGet, *pScan, *pBulk, *pOne, *pRead, *pInc;
  int *aId;
  char **azV;
  sqlite3_str *pJson;

  if( argc!=7 ){
    fprintf(stderr, "usage: %s DB EXT PROC NTXN SEED LOG\n", argv[0]);
    return 2;
  }
  iProc = atoi(argv[3]);
  nTxn = atoi(argv[4]);
  rngState = 0x9E3779B97F4A7C15ULL ^ ((unsigned long long)atoi(argv[5])<<20)
           ^ (unsigned long long)iProc;
  pLog = fopen(argv[6], "w");
  if( pLog==0 ) die("fopen", argv[6]);

  if( sqlite3_open(argv[1], &db)!=SQLITE_OK ) die("open", sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, argv[2], 0, &zErr)!=SQLITE_OK ){
    die("load_extension", zErr ? zErr : sqlite3_errmsg(db));
  }
  /* CREATE VIRTUAL TABLE reads the schema: it may meet a lock too */
  while( exec_busy("CREATE VIRTUAL TABLE temp.up USING upsert_into(t)") ){
    nRetry++;
  }

  pGet = prepare("SELECT c FROM counter");
  pScan = prepare("SELECT count(*), sum(gen) FROM up");
  pBulk = prepare("INSERT INTO up SELECT json_extract(value, '$[0]'),"
                  " json_extract(value, '$[1]'), ?2 FROM json_each(?1)");
  pOne = prepare("INSERT INTO up VALUES(?1, ?2, ?3)");
  pRead = prepare("SELECT v FROM up WHERE id=?1");
  pInc = prepare("UPDATE counter SET c=c+1 RETURNING c");
  aId = malloc(300*sizeof(int));
  azV = malloc(300*sizeof(char*));
  if( aId==0 || azV==0 ) die("malloc", "out of memory");

  for(iSeq=1; iSeq<=nTxn; iSeq++){
    int nRow = 50 + rnd(251);
    int nBulk = nRow - (int)rnd(6);
    int bImmediate = iSeq%3!=0;
    int i;
    char *zJson;

    for(i=0; i<nRow; i++){
      char zTail[32];
      int n = rnd(31), k;
      for(k=0; k<n; k++) zTail[k] = 'a' + rnd(26);
      zTail[n] = 0;
      aId[i] = 1 + rnd(CONC_KEYS);
      azV[i] = sqlite3_mprintf("p%d.s%d.k%d.%s", iProc, iSeq, aId[i], zTail);
      if( azV[i]==0 ) die("malloc", "out of memory");
    }
    pJson = sqlite3_str_new(db);
    sqlite3_str_appendchar(pJson, 1, '[');
    for(i=0; i<nBulk; i++){
      sqlite3_str_appendf(pJson, "%s[%d,\"%s\"]", i ? "," : "", aId[i], azV[i]);
    }
    sqlite3_str_appendchar(pJson, 1, ']');
    zJson = sqlite3_str_finish(pJson);
    if( zJson==0 ) die("malloc", "out of memory");

    for(;;){
      sqlite3_int64 gen;
      int r, rc;
      if( exec_busy(bImmediate ? "BEGIN IMMEDIATE" : "BEGIN") ) goto busy;
      rc = step(pGet, 1, "SELECT c");
      if( rc==SQLITE_BUSY ) goto busy;
      if( rc!=SQLITE_ROW ) die("SELECT c", "no row");
      gen = sqlite3_column_int64(pGet, 0) + 1;
      sqlite3_reset(pGet);
      if( !bImmediate ){
        /* A deferred transaction reads through the virtual table, and
        ** dawdles, before its first write: other writers come in
        ** between, and that write meets their lock */
        rc = step(pScan, 1, "scan");
        if( rc==SQLITE_BUSY ) goto busy;
        if( rc!=SQLITE_ROW ) die("scan", "no row");
        sqlite3_reset(pScan);
        pause_ms(3);
      }

      sqlite3_bind_text(pBulk, 1, zJson, -1, SQLITE_STATIC);
      sqlite3_bind_int64(pBulk, 2, gen);
      if( step(pBulk, 0, "bulk upsert") ){ nVtabBusy++; goto busy; }
      if( sqlite3_changes(db)!=nBulk ) die("bulk upsert", "wrong changes()");
      for(i=nBulk; i<nRow; i++){
        sqlite3_bind_int(pOne, 1, aId[i]);
        sqlite3_bind_text(pOne, 2, azV[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(pOne, 3, gen);
        if( step(pOne, 0, "single-row upsert") ){ nVtabBusy++; goto busy; }
      }

      /* Read back, through the virtual table, the last value written for
      ** the key of a random row of this transaction */
      r = rnd(nRow);
      for(i=nRow-1; aId[i]!=aId[r]; i--){}
      sqlite3_bind_int(pRead, 1, aId[r]);
      rc = step(pRead, 1, "read back");
      if( rc==SQLITE_BUSY ) goto busy;
      if( rc!=SQLITE_ROW ) die("read back", "row not found");
      if( strcmp((const char*)sqlite3_column_text(pRead, 0), azV[i]) ){
        die("read back", "wrong value");
      }
      sqlite3_reset(pRead);

      rc = step(pInc, 1, "UPDATE counter");
      if( rc==SQLITE_BUSY ) goto busy;
      if( rc!=SQLITE_ROW ) die("UPDATE counter", "no row");
      if( sqlite3_column_int64(pInc, 0)!=gen ){
        die("UPDATE counter", "counter moved during the transaction");
      }
      if( step(pInc, 0, "UPDATE counter") ) goto busy;
      if( exec_busy("COMMIT") ) goto busy;

      fprintf(pLog, "T %lld %d %d %d\n", (long long)gen, iProc, iSeq, nRow);
      for(i=0; i<nRow; i++) fprintf(pLog, "%d %s\n", aId[i], azV[i]);
      fflush(pLog);
      break;

     busy:
      nRetry++;
      pause_ms(2);
      sqlite3_reset(pGet);
      if( !sqlite3_get_autocommit(db) ){
        if( sqlite3_exec(db, "ROLLBACK", 0, 0, 0)!=SQLITE_OK ){
          die("ROLLBACK", sqlite3_errmsg(db));
        }
      }
    }
    for(i=0; i<nRow; i++) sqlite3_free(azV[i]);
    sqlite3_free(zJson);
  }
  fprintf(pLog, "D %d %d %d\n", iProc, nRetry, nVtabBusy);
  if( fclose(pLog) ) die("fclose", argv[6]);
  sqlite3_finalize(pGet);
  sqlite3_finalize(pScan);
  sqlite3_finalize(pBulk);
  sqlite3_finalize(pOne);
  sqlite3_finalize(pRead);
  sqlite3_finalize(pInc);
  free(aId);
  free(azV);
  if( sqlite3_close(db)!=SQLITE_OK ) die("close", sqlite3_errmsg(db));
  return 0;
}
