/*
** tool/bench/bench-sync.c: a re-import of a feed into a table that holds
** most of it already, by four methods, on the system SQLite with
** upsert_into loaded from dist/upsert.  See doc/sync.md ("Benchmark").
**
**   dist/bench-sync [-n ROWS] [-s append|scattered] [-m METHOD] [-d DIR]
**
** The table: items(id INTEGER PRIMARY KEY, name, price, qty, updated) with
** an index on updated, ROWS rows (default 1,000,000), in a WAL file
** database.  The feed: every row of the table again, in key order, where
** 1 % of them changed (price, qty and updated), then 0.5 % new rows.  The
** changed rows are, by -s:
**
**   append     the most recent 1 % of keys (an append-mostly feed, where
**              recent records are the ones that change)
**   scattered  1 % of keys chosen uniformly (a hash of the key)
**
** Methods (-m; default all four, each on a fresh copy of the table):
**
**   1  upsert_into(items, unchanged=skip), INSERT INTO up VALUES(?,...)
**   2  upsert_into(items), the same
**   3  native INSERT ... ON CONFLICT(id) DO UPDATE SET every column
**   4  native, the same with a hand-written WHERE that skips unchanged
**      rows: WHERE name IS NOT excluded.name OR price IS NOT ...
**
** Each binds the feed's rows one by one from C arrays built beforehand, in
** one transaction.  sync_timed() wraps exactly BEGIN, the rows and COMMIT,
** so callgrind --toggle-collect=sync_timed counts only that.  Reported:
** wall time, pages written (SQLITE_DBSTATUS_CACHE_WRITE: every dirty page
** written, cache spills included), and the bytes the WAL grew by
** (wal_autocheckpoint is off during the run, so the WAL holds them all;
** the checkpoint that copies them into the database later is not timed).
** Every method must leave the same table: its checksum is compared with
** the expected one, computed from the feed.
*/
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#if defined(__GNUC__)
# define NOINLINE __attribute__((noinline))
#else
# define NOINLINE
#endif

#define NMETHOD 4

static const char *azMethod[NMETHOD+1] = {
  0,
  "upsert_into, unchanged=skip",
  "upsert_into",
  "native ON CONFLICT DO UPDATE",
  "native, hand-written WHERE",
};

static const char zCreate[] =
  "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
  " price REAL NOT NULL, qty INTEGER NOT NULL, updated TEXT NOT NULL);"
  "CREATE INDEX items_updated ON items(updated);";

static const char zNative[] =
  "INSERT INTO items VALUES(?1,?2,?3,?4,?5) ON CONFLICT(id) DO UPDATE SET"
  " name=excluded.name, price=excluded.price, qty=excluded.qty,"
  " updated=excluded.updated";

static const char zWhere[] =
  " WHERE name IS NOT excluded.name OR price IS NOT excluded.price"
  " OR qty IS NOT excluded.qty OR updated IS NOT excluded.updated";

/* The feed, as C arrays */
typedef struct Feed {
  int n;                     /* Rows */
  sqlite3_int64 *aId;
  double *aPrice;
  sqlite3_int64 *aQty;
  char (*aName)[16];
  const char **azUpdated;
  int nChanged, nNew;
} Feed;

static void die(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  fprintf(stderr, "bench-sync: ");
  vfprintf(stderr, zFmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void *xmalloc(size_t n){
  void *p = malloc(n);
  if( p==0 ) die("out of memory");
  return p;
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    die("%s: %s", zSql, zErr);
  }
}

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec*1e-9;
}

/* splitmix64: the scattered shape's choice of changed keys */
static sqlite3_uint64 mix64(sqlite3_uint64 x){
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x>>30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x>>27)) * 0x94d049bb133111ebULL;
  return x ^ (x>>31);
}

/* The table's values of key i, changed or not */
static double base_price(sqlite3_int64 i){ return (i%1000)/4.0 + 1; }
static sqlite3_int64 base_qty(sqlite3_int64 i){ return i%97; }

static int is_changed(sqlite3_int64 i, int n, int bScatter){
  if( bScatter ) return mix64((sqlite3_uint64)i)%100==0;
  return i > n - n/100;
}

static void feed_build(Feed *f, int n, int bScatter){
  int nNew = n/200;
  int i;
  f->n = n + nNew;
  f->aId = xmalloc(sizeof(*f->aId)*f->n);
  f->aPrice = xmalloc(sizeof(*f->aPrice)*f->n);
  f->aQty = xmalloc(sizeof(*f->aQty)*f->n);
  f->aName = xmalloc(sizeof(*f->aName)*f->n);
  f->azUpdated = xmalloc(sizeof(*f->azUpdated)*f->n);
  f->nChanged = 0;
  f->nNew = nNew;
  for(i=0; i<f->n; i++){
    sqlite3_int64 id = i+1;
    int bChange = id<=n && is_changed(id, n, bScatter);
    f->aId[i] = id;
    snprintf(f->aName[i], sizeof(f->aName[i]), "item %lld", id);
    f->aPrice[i] = base_price(id) + (bChange || id>n);
    f->aQty[i] = base_qty(id) + (bChange || id>n);
    f->azUpdated[i] = (bChange || id>n) ? "2026-12-01" : "2026-11-01";
    f->nChanged += bChange;
  }
}

static void feed_free(Feed *f){
  free(f->aId);
  free(f->aPrice);
  free(f->aQty);
  free(f->aName);
  free(f->azUpdated);
}

/* The table as the feed leaves it, as the checksum query sums it */
static const char zSum[] =
  "SELECT count(*), sum(id*qty), total(price*id),"
  " sum(updated='2026-12-01'), sum(length(name)) FROM items";

static void checksum(sqlite3 *db, char *zOut, int nOut){
  sqlite3_stmt *p;
  if( sqlite3_prepare_v2(db, zSum, -1, &p, 0)!=SQLITE_OK ){
    die("%s", sqlite3_errmsg(db));
  }
  if( sqlite3_step(p)!=SQLITE_ROW ) die("%s", sqlite3_errmsg(db));
  snprintf(zOut, nOut, "%s %s %s %s %s", sqlite3_column_text(p, 0),
           sqlite3_column_text(p, 1), sqlite3_column_text(p, 2),
           sqlite3_column_text(p, 3), sqlite3_column_text(p, 4));
  sqlite3_finalize(p);
}

/* The base table of n rows, in zPath, built once and kept */
static void base_build(const char *zPath, int n){
  struct stat st;
  sqlite3 *db;
  sqlite3_stmt *p;
  sqlite3_int64 i;
  char *zTmp, *zSide;
  if( stat(zPath, &st)==0 ) return;
  zTmp = sqlite3_mprintf("%s.tmp", zPath);
  remove(zTmp);
  if( sqlite3_open(zTmp, &db)!=SQLITE_OK ) die("cannot open %s", zTmp);
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, zCreate);
  exec(db, "BEGIN");
  if( sqlite3_prepare_v2(db, "INSERT INTO items VALUES(?,?,?,?,?)", -1,
                         &p, 0)!=SQLITE_OK ){
    die("%s", sqlite3_errmsg(db));
  }
  for(i=1; i<=n; i++){
    char zName[16];
    snprintf(zName, sizeof(zName), "item %lld", i);
    sqlite3_bind_int64(p, 1, i);
    sqlite3_bind_text(p, 2, zName, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(p, 3, base_price(i));
    sqlite3_bind_int64(p, 4, base_qty(i));
    sqlite3_bind_text(p, 5, "2026-11-01", -1, SQLITE_STATIC);
    if( sqlite3_step(p)!=SQLITE_DONE ) die("%s", sqlite3_errmsg(db));
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  exec(db, "COMMIT");
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);
  if( rename(zTmp, zPath)!=0 ) die("cannot rename %s", zTmp);
  zSide = sqlite3_mprintf("%s-wal", zTmp);
  remove(zSide);
  sqlite3_free(zSide);
  zSide = sqlite3_mprintf("%s-shm", zTmp);
  remove(zSide);
  sqlite3_free(zSide);
  sqlite3_free(zTmp);
}

static void file_copy(const char *zFrom, const char *zTo){
  FILE *in = fopen(zFrom, "rb");
  FILE *out = fopen(zTo, "wb");
  static char a[1<<16];
  size_t n;
  if( in==0 || out==0 ) die("cannot copy %s to %s", zFrom, zTo);
  while( (n = fread(a, 1, sizeof(a), in))>0 ){
    if( fwrite(a, 1, n, out)!=n ) die("cannot write %s", zTo);
  }
  fclose(in);
  if( fclose(out)!=0 ) die("cannot write %s", zTo);
}

static long long file_size(const char *zPath){
  struct stat st;
  return stat(zPath, &st)==0 ? (long long)st.st_size : 0;
}

/* Every row of f through p */
static void feed_rows(sqlite3 *db, sqlite3_stmt *p, const Feed *f){
  int i;
  for(i=0; i<f->n; i++){
    sqlite3_bind_int64(p, 1, f->aId[i]);
    sqlite3_bind_text(p, 2, f->aName[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(p, 3, f->aPrice[i]);
    sqlite3_bind_int64(p, 4, f->aQty[i]);
    sqlite3_bind_text(p, 5, f->azUpdated[i], -1, SQLITE_STATIC);
    if( sqlite3_step(p)!=SQLITE_DONE ) die("%s", sqlite3_errmsg(db));
    sqlite3_reset(p);
  }
}

/* BEGIN, the feed, COMMIT: what is timed and counted */
static NOINLINE void sync_timed(sqlite3 *db, sqlite3_stmt *p, const Feed *f){
  exec(db, "BEGIN");
  feed_rows(db, p, f);
  exec(db, "COMMIT");
}

static void run(int m, const char *zBase, const char *zWork, const Feed *f,
                const char *zExt, const char *zExpect, const char *zShape){
  sqlite3 *db;
  sqlite3_stmt *p;
  char *zWal = sqlite3_mprintf("%s-wal", zWork);
  char *zShm = sqlite3_mprintf("%s-shm", zWork);
  char zSum[256];
  const char *zSql = 0;
  char *zFree = 0;
  double t0, t1;
  int nCur = 0, nHi = 0;
  long long nWal0, nWal1;

  remove(zWal);
  remove(zShm);
  file_copy(zBase, zWork);
  if( sqlite3_open(zWork, &db)!=SQLITE_OK ) die("cannot open %s", zWork);
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA wal_autocheckpoint=0");
  if( m<=2 ){
    char *zErr = 0;
    sqlite3_enable_load_extension(db, 1);
    if( sqlite3_load_extension(db, zExt, 0, &zErr)!=SQLITE_OK ){
      die("cannot load %s: %s", zExt, zErr);
    }
    exec(db, m==1 ? "CREATE VIRTUAL TABLE temp.up USING upsert_into(items,"
                    " unchanged=skip)"
                  : "CREATE VIRTUAL TABLE temp.up USING upsert_into(items)");
    zSql = "INSERT INTO up VALUES(?1,?2,?3,?4,?5)";
  }else if( m==3 ){
    zSql = zNative;
  }else{
    zSql = zFree = sqlite3_mprintf("%s%s", zNative, zWhere);
  }
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    die("%s: %s", zSql, sqlite3_errmsg(db));
  }
  /* Read the table once, so that every method starts with what the OS
  ** caches of the file alike */
  exec(db, "SELECT count(*) FROM items");
  nWal0 = file_size(zWal);
  sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &nCur, &nHi, 1);
  t0 = now();
  sync_timed(db, p, f);
  t1 = now();
  sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &nCur, &nHi, 0);
  nWal1 = file_size(zWal);
  sqlite3_finalize(p);
  sqlite3_free(zFree);
  checksum(db, zSum, sizeof(zSum));
  if( strcmp(zSum, zExpect)!=0 ){
    die("method %d left the table %s, expected %s", m, zSum, zExpect);
  }
  if( m==1 ){
    sqlite3_stmt *pS;
    char zWant[128];
    snprintf(zWant, sizeof(zWant),
             "{\"inserted\":%d,\"updated\":%d,\"skipped\":%d}",
             f->nNew, f->nChanged, f->n - f->nNew - f->nChanged);
    if( sqlite3_prepare_v2(db, "SELECT upsert_into_stats('up')", -1, &pS, 0)
        || sqlite3_step(pS)!=SQLITE_ROW
        || strcmp((const char*)sqlite3_column_text(pS, 0), zWant)!=0 ){
      die("method 1 counted %s, expected %s",
          sqlite3_column_text(pS, 0), zWant);
    }
    sqlite3_finalize(pS);
  }
  sqlite3_close(db);
  printf("%s\t%d\t%s\t%.3f\t%d\t%lld\tverified\n", zShape, m, azMethod[m],
         t1-t0, nCur, nWal1-nWal0);
  fflush(stdout);
  remove(zWork);
  remove(zWal);
  remove(zShm);
  sqlite3_free(zWal);
  sqlite3_free(zShm);
}

static void usage(void){
  fprintf(stderr,
    "usage: dist/bench-sync [-n ROWS] [-s append|scattered] [-m METHOD]"
    " [-d DIR]\n"
    "  -n ROWS    rows of the table (default 1000000)\n"
    "  -s SHAPE   which rows changed: append (the newest 1 %%) or"
    " scattered\n"
    "             (default: both)\n"
    "  -m METHOD  1 to 4 (default: all):\n");
  for(int m=1; m<=NMETHOD; m++) fprintf(stderr, "               %d  %s\n",
                                        m, azMethod[m]);
  fprintf(stderr,
    "  -d DIR     where the databases go (default dist/syncdb)\n"
    "Prints one line per run, tab-separated: shape, method, name,"
    " seconds,\npages written, WAL bytes, \"verified\".\n");
  exit(2);
}

int main(int argc, char **argv){
  int n = 1000000;
  int m0 = 1, m1 = NMETHOD;
  int s0 = 0, s1 = 1;
  const char *zDir = "dist/syncdb";
  const char *zExt = getenv("UPSERT_EXT") ? getenv("UPSERT_EXT")
                                          : "dist/upsert";
  char *zBase, *zWork;
  int i, s, m;
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "-n")==0 && i+1<argc ){
      n = atoi(argv[++i]);
      if( n<200 ) die("-n must be 200 or more");
    }else if( strcmp(argv[i], "-m")==0 && i+1<argc ){
      m0 = m1 = atoi(argv[++i]);
      if( m0<1 || m0>NMETHOD ) usage();
    }else if( strcmp(argv[i], "-s")==0 && i+1<argc ){
      i++;
      if( strcmp(argv[i], "append")==0 ) s0 = s1 = 0;
      else if( strcmp(argv[i], "scattered")==0 ) s0 = s1 = 1;
      else usage();
    }else if( strcmp(argv[i], "-d")==0 && i+1<argc ){
      zDir = argv[++i];
    }else{
      usage();
    }
  }
  mkdir(zDir, 0777);
  zBase = sqlite3_mprintf("%s/base-%d.db", zDir, n);
  zWork = sqlite3_mprintf("%s/work.db", zDir);
  base_build(zBase, n);
  for(s=s0; s<=s1; s++){
    Feed f;
    char zExpect[256];
    sqlite3 *db;
    feed_build(&f, n, s);
    /* The expected table: the feed's rows, written natively in memory */
    if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) die("cannot open");
    exec(db, zCreate);
    {
      sqlite3_stmt *p;
      if( sqlite3_prepare_v2(db, "INSERT INTO items VALUES(?,?,?,?,?)", -1,
                             &p, 0)!=SQLITE_OK ){
        die("%s", sqlite3_errmsg(db));
      }
      feed_rows(db, p, &f);
      sqlite3_finalize(p);
    }
    checksum(db, zExpect, sizeof(zExpect));
    sqlite3_close(db);
    for(m=m0; m<=m1; m++){
      run(m, zBase, zWork, &f, zExt, zExpect, s ? "scattered" : "append");
    }
    feed_free(&f);
  }
  sqlite3_free(zBase);
  sqlite3_free(zWork);
  return 0;
}
