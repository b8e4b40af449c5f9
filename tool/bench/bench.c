/*
** tool/bench/bench.c: bulk-upsert methods side by side, on the system SQLite,
** with upsert_into loaded from dist/upsert.  See README.md ("Benchmarks").
**
**   make bench                       the default plan (a few minutes)
**   make bench BENCH_FLAGS=-q        a quick run
**   dist/bench -h                    every flag
**
** A scenario is: a table (t4, t10, wr), a storage (mem, file), N rows
** upserted, and the fraction of their keys that exist in the table
** beforehand.  The table holds exactly those existing keys, with "old"
** values; the staging table holds all N keys, with "new" values, in a
** shuffled order.  Every method must leave the table holding every staging
** row, so each run is checked against the state that the native method (3)
** produced in an untimed reference run (itself checked against the staging
** rows).  Staging rows, the table's starting state and the C arrays that
** the per-row methods bind from are built before timing.  A timed run is
** BEGIN, the method, COMMIT, and nothing else: bench_timed() wraps exactly
** that, so callgrind --toggle-collect=bench_timed counts only it.  Wall
** time is the figure; the process's CPU time is shown beside it, as a
** check on a machine that other work shares.
**
** Methods:
**   1  INSERT INTO up SELECT ... FROM staging    (upsert_into, temp vtab)
**   2  INSERT INTO up VALUES(?,...) per row from C arrays  (upsert_into)
**   3  INSERT INTO t SELECT ... FROM staging WHERE true
**        ON CONFLICT(key) DO UPDATE SET ...       (native; the baseline)
**   4  INSERT INTO t VALUES(?,...) ON CONFLICT ... per row from C arrays
**   5  INSERT OR REPLACE INTO t SELECT ... FROM staging
**   6  per row from C arrays: UPDATE t ... WHERE key=?; INSERT if no change
**   7  TEMP VIEW v over t with an INSTEAD OF INSERT trigger that runs the
**      native upsert; INSERT INTO v SELECT ... FROM staging
*/
#define _GNU_SOURCE
#include <sqlite3.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#if defined(__GNUC__)
# define NOINLINE __attribute__((noinline))
#else
# define NOINLINE
#endif

#define NMETHOD 7
#define MAXCOL 10
#define MAXRUN 101
#define MAXLIST 16
#define TEXTSLOT 48            /* bytes per generated text value, with nul */

static const char *azMethod[NMETHOD+1] = {
  0,
  "vtab: INSERT INTO up SELECT",
  "vtab: per-row INSERT INTO up VALUES(?)",
  "native: INSERT..SELECT..ON CONFLICT",
  "native: per-row INSERT..ON CONFLICT",
  "INSERT OR REPLACE..SELECT",
  "per-row UPDATE, INSERT if no change",
  "VIEW + INSTEAD OF trigger, SELECT",
};

/* ---------------------------------------------------------------- tables */

enum { T_INT, T_TEXT, T_REAL };
static const char *azType[] = { "INTEGER", "TEXT", "REAL" };

typedef struct Col { const char *zName; int eType; int bKey; } Col;
typedef struct TableDef {
  const char *zTag;
  const char *zDesc;
  const char *zDef;            /* everything after CREATE TABLE t */
  int nCol;
  Col aCol[MAXCOL];
} TableDef;

static const TableDef aTable[] = {
  { "t4", "id INTEGER PRIMARY KEY + 3 columns",
    "(id INTEGER PRIMARY KEY, qty INTEGER, name TEXT, price REAL)",
    4, { {"id",T_INT,1}, {"qty",T_INT,0}, {"name",T_TEXT,0},
         {"price",T_REAL,0} } },
  { "t10", "id INTEGER PRIMARY KEY + 9 columns",
    "(id INTEGER PRIMARY KEY, c1 INTEGER, c2 TEXT, c3 REAL, c4 INTEGER,"
    " c5 TEXT, c6 REAL, c7 INTEGER, c8 TEXT, c9 INTEGER)",
    10, { {"id",T_INT,1}, {"c1",T_INT,0}, {"c2",T_TEXT,0}, {"c3",T_REAL,0},
          {"c4",T_INT,0}, {"c5",T_TEXT,0}, {"c6",T_REAL,0}, {"c7",T_INT,0},
          {"c8",T_TEXT,0}, {"c9",T_INT,0} } },
  { "wr", "WITHOUT ROWID, PRIMARY KEY(region TEXT, sku TEXT) + 3 columns",
    "(region TEXT, sku TEXT, qty INTEGER, price REAL, note TEXT,"
    " PRIMARY KEY(region, sku)) WITHOUT ROWID",
    5, { {"region",T_TEXT,1}, {"sku",T_TEXT,1}, {"qty",T_INT,0},
         {"price",T_REAL,0}, {"note",T_TEXT,0} } },
};
#define NTABLE ((int)(sizeof(aTable)/sizeof(aTable[0])))

/* ---------------------------------------------------------------- utils */

static double tRestore = 0, tCheck = 0;   /* untimed overheads */

static void die(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  fprintf(stderr, "bench: ");
  vfprintf(stderr, zFmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void *xmalloc(size_t n){
  void *p = malloc(n ? n : 1);
  if( p==0 ) die("out of memory (%zu bytes)", n);
  return p;
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    die("%s\n  in: %s", zErr ? zErr : sqlite3_errmsg(db), zSql);
  }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    die("%s\n  in: %s", sqlite3_errmsg(db), zSql);
  }
  return p;
}

static void step_done(sqlite3 *db, sqlite3_stmt *p){
  int rc = sqlite3_step(p);
  if( rc!=SQLITE_DONE ){
    die("%s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(p));
  }
}

static double now(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec*1e-9;
}

/* CPU time of this process, user and system: steadier than wall time on
** a machine that other work shares. */
static double cpu_now(void){
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec*1e-9;
}

static sqlite3_uint64 mix64(sqlite3_uint64 x){       /* splitmix64 */
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x>>30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x>>27)) * 0x94d049bb133111ebULL;
  return x ^ (x>>31);
}

/* Key id exists in the table before the run, for pct percent existing. */
static int is_existing(sqlite3_int64 id, int pct){
  return (int)(mix64((sqlite3_uint64)id ^ 0x5bd1e995ULL) % 100) < pct;
}

/* ------------------------------------------------------- value generation
** Column j of the row with key id, "new" (staging) or "old" (existing).
** Keys are equal in both; every other value differs, text in its first
** character and usually its length.
*/
typedef struct Val { sqlite3_int64 i; double r; char z[TEXTSLOT]; int n; } Val;

static void gen_value(const TableDef *td, int j, sqlite3_int64 id, int bNew,
                      Val *v){
  const Col *c = &td->aCol[j];
  static const char zAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  if( c->bKey ){
    if( c->eType==T_INT ){
      v->i = id;
    }else if( j==0 ){
      v->n = snprintf(v->z, TEXTSLOT, "region-%02d",
                      (int)(mix64((sqlite3_uint64)id) % 40));
    }else{
      v->n = snprintf(v->z, TEXTSLOT, "sku-%08lld", (long long)id);
    }
    return;
  }
  switch( c->eType ){
    case T_INT:
      v->i = bNew ? id*7 + j : 50000000 + id*3 + j;
      break;
    case T_REAL:
      v->r = bNew ? id*0.25 + j : -(id*0.5) - j;
      break;
    default: {
      int k;
      int n = bNew ? 12 + (int)(mix64((sqlite3_uint64)(id*31 + j)) % 28)
                   : 6 + (int)(mix64((sqlite3_uint64)(id*17 + j)) % 20);
      v->z[0] = bNew ? 'n' : 'o';
      for(k=1; k<n; k++) v->z[k] = zAlpha[(id*7 + k*13 + j) % 36];
      v->z[n] = 0;
      v->n = n;
      break;
    }
  }
}

/* Bind the generated row (id, bNew) to ?1..?nCol of p. */
static void bind_gen(sqlite3_stmt *p, const TableDef *td, sqlite3_int64 id,
                     int bNew){
  int j;
  Val v;
  for(j=0; j<td->nCol; j++){
    gen_value(td, j, id, bNew, &v);
    switch( td->aCol[j].eType ){
      case T_INT:  sqlite3_bind_int64(p, j+1, v.i); break;
      case T_REAL: sqlite3_bind_double(p, j+1, v.r); break;
      default: sqlite3_bind_text(p, j+1, v.z, v.n, SQLITE_TRANSIENT); break;
    }
  }
}

/* ------------------------------------------------------------ C arrays
** The staging rows in staging order, one array per column, so that the
** per-row methods bind from memory, as an application would.
*/
typedef struct Data {
  int n;
  sqlite3_int64 *aId;                 /* key id of each row */
  sqlite3_int64 *ai[MAXCOL];
  double *ar[MAXCOL];
  char *az[MAXCOL];                   /* TEXTSLOT bytes per row */
  int *an[MAXCOL];
} Data;

static Data *data_new(const TableDef *td, int n){
  Data *d = xmalloc(sizeof(*d));
  sqlite3_uint64 s = 0x1234567ULL;
  int i, j;
  memset(d, 0, sizeof(*d));
  d->n = n;
  d->aId = xmalloc(sizeof(sqlite3_int64)*n);
  for(i=0; i<n; i++) d->aId[i] = i+1;
  for(i=n-1; i>0; i--){                       /* Fisher-Yates */
    int k;
    sqlite3_int64 t;
    s = mix64(s);
    k = (int)(s % (sqlite3_uint64)(i+1));
    t = d->aId[i]; d->aId[i] = d->aId[k]; d->aId[k] = t;
  }
  for(j=0; j<td->nCol; j++){
    switch( td->aCol[j].eType ){
      case T_INT:  d->ai[j] = xmalloc(sizeof(sqlite3_int64)*n); break;
      case T_REAL: d->ar[j] = xmalloc(sizeof(double)*n); break;
      default:
        d->az[j] = xmalloc((size_t)TEXTSLOT*n);
        d->an[j] = xmalloc(sizeof(int)*n);
        break;
    }
  }
  for(i=0; i<n; i++){
    Val v;
    for(j=0; j<td->nCol; j++){
      gen_value(td, j, d->aId[i], 1, &v);
      switch( td->aCol[j].eType ){
        case T_INT:  d->ai[j][i] = v.i; break;
        case T_REAL: d->ar[j][i] = v.r; break;
        default:
          memcpy(d->az[j] + (size_t)TEXTSLOT*i, v.z, v.n+1);
          d->an[j][i] = v.n;
          break;
      }
    }
  }
  return d;
}

static void data_free(Data *d){
  int j;
  if( d==0 ) return;
  for(j=0; j<MAXCOL; j++){
    free(d->ai[j]); free(d->ar[j]); free(d->az[j]); free(d->an[j]);
  }
  free(d->aId);
  free(d);
}

/* Bind staging row i from the arrays to ?1..?nCol, without copies. */
static void bind_row(sqlite3_stmt *p, const TableDef *td, const Data *d,
                     int i){
  int j;
  for(j=0; j<td->nCol; j++){
    switch( td->aCol[j].eType ){
      case T_INT:  sqlite3_bind_int64(p, j+1, d->ai[j][i]); break;
      case T_REAL: sqlite3_bind_double(p, j+1, d->ar[j][i]); break;
      default:
        sqlite3_bind_text(p, j+1, d->az[j] + (size_t)TEXTSLOT*i,
                          d->an[j][i], SQLITE_STATIC);
        break;
    }
  }
}

/* ---------------------------------------------------------- SQL per table */

typedef struct Sql {
  char *zCols;        /* id, qty, name, price */
  char *zParams;      /* ?1, ?2, ?3, ?4 */
  char *zKey;         /* id */
  char *zSet;         /* qty=excluded.qty, ... */
  char *zNew;         /* NEW.id, NEW.qty, ... */
  char *zUpdSet;      /* qty=?2, ... */
  char *zUpdWhere;    /* id=?1 AND ... */
  char *zStageDef;    /* (id INTEGER, qty INTEGER, ...) */
  char *zSum;         /* checksum expression over one row */
  char *azRun[NMETHOD+1];   /* the statement each method runs */
  char *zUpdate;      /* method 6 */
  char *zInsert;      /* method 6 */
  char *zTrigger;     /* method 7 setup */
} Sql;

static char *str_finish(sqlite3_str *p){
  char *z = sqlite3_str_finish(p);
  if( z==0 ) die("out of memory");
  return z;
}

static void sql_build(Sql *s, const TableDef *td){
  sqlite3_str *aS[9];
  int i, j, nK = 0, nV = 0;
  for(i=0; i<9; i++) aS[i] = sqlite3_str_new(0);
  for(j=0; j<td->nCol; j++){
    const Col *c = &td->aCol[j];
    const char *zSep = j ? ", " : "";
    sqlite3_str_appendf(aS[0], "%s%s", zSep, c->zName);
    sqlite3_str_appendf(aS[1], "%s?%d", zSep, j+1);
    sqlite3_str_appendf(aS[4], "%sNEW.%s", zSep, c->zName);
    sqlite3_str_appendf(aS[7], "%s%s %s", zSep, c->zName, azType[c->eType]);
    if( c->bKey ){
      sqlite3_str_appendf(aS[2], "%s%s", nK ? ", " : "", c->zName);
      sqlite3_str_appendf(aS[6], "%s%s=?%d", nK ? " AND " : "", c->zName,
                          j+1);
      nK++;
    }else{
      sqlite3_str_appendf(aS[3], "%s%s=excluded.%s", nV ? ", " : "",
                          c->zName, c->zName);
      sqlite3_str_appendf(aS[5], "%s%s=?%d", nV ? ", " : "", c->zName, j+1);
      nV++;
    }
    /* checksum term, weighted by column position; values stay small
    ** enough that sum() cannot overflow at millions of rows */
    sqlite3_str_appendf(aS[8], "%s%d*(", j ? "+" : "", j+1);
    switch( c->eType ){
      case T_INT:  sqlite3_str_appendf(aS[8], "%s)", c->zName); break;
      case T_REAL: sqlite3_str_appendf(aS[8], "CAST(%s*4 AS INTEGER))",
                                       c->zName); break;
      default: sqlite3_str_appendf(aS[8], "length(%s)*131+unicode(%s))",
                                   c->zName, c->zName); break;
    }
  }
  s->zCols = str_finish(aS[0]);
  s->zParams = str_finish(aS[1]);
  s->zKey = str_finish(aS[2]);
  s->zSet = str_finish(aS[3]);
  s->zNew = str_finish(aS[4]);
  s->zUpdSet = str_finish(aS[5]);
  s->zUpdWhere = str_finish(aS[6]);
  { char *z = str_finish(aS[7]);
    s->zStageDef = sqlite3_mprintf("(%s)", z);
    sqlite3_free(z); }
  s->zSum = str_finish(aS[8]);

  s->azRun[0] = 0;
  s->azRun[1] = sqlite3_mprintf(
      "INSERT INTO temp.up(%s) SELECT %s FROM temp.staging",
      s->zCols, s->zCols);
  s->azRun[2] = sqlite3_mprintf(
      "INSERT INTO temp.up(%s) VALUES(%s)", s->zCols, s->zParams);
  s->azRun[3] = sqlite3_mprintf(
      "INSERT INTO main.t(%s) SELECT %s FROM temp.staging WHERE true"
      " ON CONFLICT(%s) DO UPDATE SET %s",
      s->zCols, s->zCols, s->zKey, s->zSet);
  s->azRun[4] = sqlite3_mprintf(
      "INSERT INTO main.t(%s) VALUES(%s) ON CONFLICT(%s) DO UPDATE SET %s",
      s->zCols, s->zParams, s->zKey, s->zSet);
  s->azRun[5] = sqlite3_mprintf(
      "INSERT OR REPLACE INTO main.t(%s) SELECT %s FROM temp.staging",
      s->zCols, s->zCols);
  s->azRun[6] = sqlite3_mprintf(
      "UPDATE main.t SET %s WHERE %s  /* then, if no change: */"
      " INSERT INTO main.t(%s) VALUES(%s)",
      s->zUpdSet, s->zUpdWhere, s->zCols, s->zParams);
  s->azRun[7] = sqlite3_mprintf(
      "INSERT INTO temp.v(%s) SELECT %s FROM temp.staging",
      s->zCols, s->zCols);
  s->zUpdate = sqlite3_mprintf("UPDATE main.t SET %s WHERE %s",
                               s->zUpdSet, s->zUpdWhere);
  s->zInsert = sqlite3_mprintf("INSERT INTO main.t(%s) VALUES(%s)",
                               s->zCols, s->zParams);
  s->zTrigger = sqlite3_mprintf(
      "CREATE TEMP VIEW v AS SELECT %s FROM main.t;"
      "CREATE TEMP TRIGGER v_upsert INSTEAD OF INSERT ON v BEGIN"
      " INSERT INTO t(%s) VALUES(%s) ON CONFLICT(%s) DO UPDATE SET %s;"
      " END;",
      s->zCols, s->zCols, s->zNew, s->zKey, s->zSet);
}

static void sql_free(Sql *s){
  int i;
  sqlite3_free(s->zCols); sqlite3_free(s->zParams); sqlite3_free(s->zKey);
  sqlite3_free(s->zSet); sqlite3_free(s->zNew); sqlite3_free(s->zUpdSet);
  sqlite3_free(s->zUpdWhere); sqlite3_free(s->zStageDef);
  sqlite3_free(s->zSum); sqlite3_free(s->zUpdate); sqlite3_free(s->zInsert);
  sqlite3_free(s->zTrigger);
  for(i=0; i<=NMETHOD; i++) sqlite3_free(s->azRun[i]);
}

/* ---------------------------------------------------------------- bench */

typedef struct Bench {
  sqlite3 *db;
  const TableDef *td;
  Sql sql;
  Data *d;            /* 0 when no per-row method runs */
  int n;
  int bFile;
} Bench;

/* Run method m: BEGIN, the upsert, COMMIT. */
static void run_method(Bench *b, int m){
  sqlite3 *db = b->db;
  const TableDef *td = b->td;
  const Data *d = b->d;
  sqlite3_stmt *p, *p2;
  int i;
  exec(db, "BEGIN");
  switch( m ){
    case 1: case 3: case 5: case 7:
      exec(db, b->sql.azRun[m]);
      break;
    case 2: case 4:
      p = prepare(db, b->sql.azRun[m]);
      for(i=0; i<d->n; i++){
        bind_row(p, td, d, i);
        if( sqlite3_step(p)!=SQLITE_DONE ){
          die("%s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(p));
        }
        sqlite3_reset(p);
      }
      sqlite3_finalize(p);
      break;
    case 6:
      p = prepare(db, b->sql.zUpdate);
      p2 = prepare(db, b->sql.zInsert);
      for(i=0; i<d->n; i++){
        bind_row(p, td, d, i);
        if( sqlite3_step(p)!=SQLITE_DONE ){
          die("%s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(p));
        }
        sqlite3_reset(p);
        if( sqlite3_changes(db)==0 ){
          bind_row(p2, td, d, i);
          if( sqlite3_step(p2)!=SQLITE_DONE ){
            die("%s\n  in: %s", sqlite3_errmsg(db), sqlite3_sql(p2));
          }
          sqlite3_reset(p2);
        }
      }
      sqlite3_finalize(p);
      sqlite3_finalize(p2);
      break;
  }
  exec(db, "COMMIT");
}

/*
** The timed part, and nothing else: callgrind's
** --toggle-collect=bench_timed counts exactly this.  Not static, never
** inlined, so that the symbol exists.
*/
NOINLINE double bench_timed(Bench *b, int m, double *pCpu);
NOINLINE double bench_timed(Bench *b, int m, double *pCpu){
  double c0 = cpu_now();
  double t0 = now();
  run_method(b, m);
  t0 = now() - t0;
  *pCpu = cpu_now() - c0;
  return t0;
}

static void checksum(sqlite3 *db, const char *zTab, const char *zSum,
                     sqlite3_int64 *pnRow, sqlite3_int64 *pnSum){
  double t0 = now();
  char *zSql = sqlite3_mprintf("SELECT count(*), total(%s) FROM %s",
                               zSum, zTab);
  sqlite3_stmt *p = prepare(db, zSql);
  if( sqlite3_step(p)!=SQLITE_ROW ) die("checksum: %s", sqlite3_errmsg(db));
  *pnRow = sqlite3_column_int64(p, 0);
  *pnSum = (sqlite3_int64)sqlite3_column_double(p, 1);
  sqlite3_finalize(p);
  sqlite3_free(zSql);
  tCheck += now()-t0;
}

/*
** Open a database and load the extension.  eTemp: 1 for temp_store=MEMORY
** (the in-memory scenarios: staging and statement journals in memory), 0
** for SQLite's default (the file scenarios, as an application gets them:
** TEMP tables and statement journals that outgrow 64 KiB go to temp files).
*/
static sqlite3 *db_open(const char *zPath, int bFile, int eTemp,
                        const char *zExt){
  sqlite3 *db = 0;
  char *zErr = 0;
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ){
    die("cannot open %s: %s", zPath, sqlite3_errmsg(db));
  }
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExt, 0, &zErr)!=SQLITE_OK ){
    die("cannot load %s: %s (run make first)", zExt, zErr);
  }
  if( eTemp ) exec(db, "PRAGMA temp_store=MEMORY");
  if( bFile ){
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  }
  return db;
}

static void file_remove(const char *zPath){
  char *z;
  unlink(zPath);
  z = sqlite3_mprintf("%s-wal", zPath); unlink(z); sqlite3_free(z);
  z = sqlite3_mprintf("%s-shm", zPath); unlink(z); sqlite3_free(z);
  z = sqlite3_mprintf("%s-journal", zPath); unlink(z); sqlite3_free(z);
}

/* Fill temp.staging with the staging rows (from the arrays). */
static void fill_staging(Bench *b){
  char *z;
  sqlite3_stmt *p;
  int i;
  z = sqlite3_mprintf("DROP TABLE IF EXISTS temp.staging;"
                      "CREATE TEMP TABLE staging%s", b->sql.zStageDef);
  exec(b->db, z);
  sqlite3_free(z);
  exec(b->db, "BEGIN");
  z = sqlite3_mprintf("INSERT INTO temp.staging VALUES(%s)",
                      b->sql.zParams);
  p = prepare(b->db, z);
  for(i=0; i<b->n; i++){
    bind_row(p, b->td, b->d, i);
    step_done(b->db, p);
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  sqlite3_free(z);
  exec(b->db, "COMMIT");
}

/* Fill temp.base, the table's state before a run: old values of the
** existing keys.  Same definition as t, so the copy is a plain transfer. */
static void fill_base(Bench *b, int pct){
  char *z;
  sqlite3_stmt *p;
  sqlite3_int64 id;
  z = sqlite3_mprintf("DROP TABLE IF EXISTS temp.base;"
                      "CREATE TEMP TABLE base%s", b->td->zDef);
  exec(b->db, z);
  sqlite3_free(z);
  exec(b->db, "BEGIN");
  z = sqlite3_mprintf("INSERT INTO temp.base VALUES(%s)", b->sql.zParams);
  p = prepare(b->db, z);
  for(id=1; id<=b->n; id++){
    if( !is_existing(id, pct) ) continue;
    bind_gen(p, b->td, id, 0);
    step_done(b->db, p);
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  sqlite3_free(z);
  exec(b->db, "COMMIT");
}

/* Untimed: put main.t back to its starting state, then create what
** method m needs (the virtual table, the view and its trigger). */
static void restore(Bench *b, int m){
  char *z;
  double t0 = now();
  exec(b->db, "DROP TABLE IF EXISTS temp.up; DROP VIEW IF EXISTS temp.v;");
  exec(b->db, "BEGIN; DROP TABLE IF EXISTS main.t");
  z = sqlite3_mprintf("CREATE TABLE main.t%s", b->td->zDef);
  exec(b->db, z);
  sqlite3_free(z);
  exec(b->db, "INSERT INTO main.t SELECT * FROM temp.base; COMMIT");
  if( b->bFile ) exec(b->db, "PRAGMA main.wal_checkpoint(TRUNCATE)");
  if( m==1 || m==2 ){
    exec(b->db, "CREATE VIRTUAL TABLE temp.up USING upsert_into(main.t)");
  }else if( m==7 ){
    exec(b->db, b->sql.zTrigger);
  }
  tRestore += now()-t0;
}

/* ---------------------------------------------------------------- options */

typedef struct Opts {
  int aN[MAXLIST]; int nN;          /* -n: sizes */
  int aRss[MAXLIST]; int nRss;      /* -R: sizes for the RSS probe */
  int nRun;                         /* -r, or -1 */
  int aMethod[NMETHOD+1];           /* -m: chosen methods */
  int aTab[NTABLE];                 /* -t */
  int aStore[2];                    /* -s: mem, file */
  int aPct[3]; int nPct;            /* -p */
  int bQuick;                       /* -q */
  int bPlan;                        /* none of -n -t -s -p -q: the plan */
  int iCallgrind;                   /* -c METHOD */
  const char *zExt;                 /* -x */
  const char *zDir;                 /* -d */
} Opts;

/* A group of scenarios: one table, storage and size, some fractions. */
typedef struct Group {
  int iStore, iTab, n, nRun, nPct, aPct[3];
} Group;

/*
** The default plan (make bench), sized to finish in about 4 minutes on 2
** idle cores: every table and storage at 100k rows, 50 % existing, the
** in-memory 4-column table also at 0 and 100 %, and again at 1M rows
** (50 % existing, 3 runs).  dist/bench -n 100k runs the whole matrix.
*/
static const Group aPlan[] = {
  { 0, 0,  100000, 5, 3, {0, 50, 100} },
  { 0, 1,  100000, 5, 1, {50} },
  { 0, 2,  100000, 5, 1, {50} },
  { 0, 0, 1000000, 3, 1, {50} },
  { 1, 0,  100000, 5, 1, {50} },
  { 1, 1,  100000, 5, 1, {50} },
  { 1, 2,  100000, 5, 1, {50} },
};
#define NPLAN ((int)(sizeof(aPlan)/sizeof(aPlan[0])))

static int parse_list(const char *z, int *a, int nMax, const char *zFlag){
  int n = 0;
  while( *z ){
    char *zEnd;
    long v = strtol(z, &zEnd, 10);
    if( zEnd==z || v<0 || v>100000000 ) die("bad list for %s: %s", zFlag, z);
    if( *zEnd=='k' || *zEnd=='K' ){ v *= 1000; zEnd++; }
    else if( *zEnd=='m' || *zEnd=='M' ){ v *= 1000000; zEnd++; }
    if( n>=nMax ) die("too many values for %s", zFlag);
    a[n++] = (int)v;
    z = zEnd;
    if( *z==',' ) z++;
    else if( *z ) die("bad list for %s: %s", zFlag, z);
  }
  return n;
}

static void usage(void){
  int m;
  printf(
"usage: dist/bench [flags]\n"
"  with none of -n -t -s -p -q: the default plan (about 4 minutes):\n"
"    mem  t4           100k rows, 0/50/100%% existing, 5 runs\n"
"    mem  t10, wr      100k rows, 50%% existing, 5 runs\n"
"    mem  t4           1M rows, 50%% existing, 3 runs\n"
"    file t4, t10, wr  100k rows, 50%% existing, 5 runs\n"
"  otherwise every combination of:\n"
"  -n LIST   rows, e.g. -n 100000,1000000 or -n 100k,1m (default 100k)\n"
"  -t LIST   tables: t4,t10,wr (default all)\n"
"  -s LIST   storage: mem,file (default both)\n"
"  -p LIST   percent of keys that exist beforehand (default 0,50,100)\n"
"  -r N      runs per method; the median is reported (default 5)\n"
"  -m LIST   methods, e.g. -m 1,3,7 (3, the baseline, always runs)\n"
"  -R LIST   sizes for the peak-RSS probe (default 100k,1m; -R 0 skips)\n"
"  -q        quick: -n 20k -r 3 -R 20k,200k unless given\n"
"  -c M      callgrind mode: method M once, 50k rows, 50%% existing,\n"
"            mem, t4 (-n/-p/-t/-s override); see\n"
"            tool/bench/bench-callgrind.sh\n"
"  -x PATH   the extension (default dist/upsert)\n"
"  -d DIR    directory for file databases (default dist)\n"
"  -l        list the methods\n"
"tables:\n");
  for(m=0; m<NTABLE; m++){
    printf("  %-4s CREATE TABLE t%s\n", aTable[m].zTag, aTable[m].zDef);
  }
  printf("methods:\n");
  for(m=1; m<=NMETHOD; m++) printf("  %d  %s\n", m, azMethod[m]);
}

static void parse_words(const char *z, const char **az, int n, int *aOn,
                        const char *zFlag){
  char buf[256];
  char *zTok, *zSave = 0;
  int i;
  for(i=0; i<n; i++) aOn[i] = 0;
  snprintf(buf, sizeof(buf), "%s", z);
  for(zTok=strtok_r(buf, ",", &zSave); zTok; zTok=strtok_r(0, ",", &zSave)){
    for(i=0; i<n && strcmp(az[i], zTok); i++){}
    if( i==n ) die("unknown value for %s: %s", zFlag, zTok);
    aOn[i] = 1;
  }
}

static void parse_opts(Opts *o, int argc, char **argv){
  int i, m;
  int bN = 0, bR = 0, bP = 0, bT = 0, bS = 0;
  memset(o, 0, sizeof(*o));
  o->nRun = -1;
  for(m=1; m<=NMETHOD; m++) o->aMethod[m] = 1;
  for(i=0; i<NTABLE; i++) o->aTab[i] = 1;
  o->aStore[0] = o->aStore[1] = 1;
  o->zExt = "dist/upsert";
  o->zDir = "dist";
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zArg = (i+1<argc) ? argv[i+1] : 0;
    if( strcmp(z, "-h")==0 || strcmp(z, "--help")==0 ){ usage(); exit(0); }
    if( strcmp(z, "-l")==0 ){
      for(m=1; m<=NMETHOD; m++) printf("%d\t%s\n", m, azMethod[m]);
      exit(0);
    }
    if( strcmp(z, "-q")==0 ){ o->bQuick = 1; continue; }
    if( zArg==0 || z[0]!='-' || z[1]==0 || z[2]!=0 ){
      die("bad argument: %s (see -h)", z);
    }
    i++;
    switch( z[1] ){
      case 'n': o->nN = parse_list(zArg, o->aN, MAXLIST, z); bN = 1; break;
      case 'R': o->nRss = parse_list(zArg, o->aRss, MAXLIST, z); bR = 1;
                if( o->nRss==1 && o->aRss[0]==0 ) o->nRss = 0;
                break;
      case 'r': o->nRun = atoi(zArg);
                if( o->nRun<1 || o->nRun>MAXRUN ) die("-r: 1 to %d", MAXRUN);
                break;
      case 'p': o->nPct = parse_list(zArg, o->aPct, 3, z); bP = 1; break;
      case 'c': o->iCallgrind = atoi(zArg); break;
      case 'x': o->zExt = zArg; break;
      case 'd': o->zDir = zArg; break;
      case 'm': {
        int a[NMETHOD+1], k, nm = parse_list(zArg, a, NMETHOD+1, z);
        for(m=1; m<=NMETHOD; m++) o->aMethod[m] = 0;
        for(k=0; k<nm; k++){
          if( a[k]<1 || a[k]>NMETHOD ) die("no method %d (see -l)", a[k]);
          o->aMethod[a[k]] = 1;
        }
        break;
      }
      case 't': {
        const char *az[NTABLE];
        int k;
        for(k=0; k<NTABLE; k++) az[k] = aTable[k].zTag;
        parse_words(zArg, az, NTABLE, o->aTab, z);
        bT = 1;
        break;
      }
      case 's': {
        const char *az[2] = { "mem", "file" };
        parse_words(zArg, az, 2, o->aStore, z);
        bS = 1;
        break;
      }
      default: die("unknown flag %s (see -h)", z);
    }
  }
  for(i=0; i<o->nPct; i++){
    if( o->aPct[i]>100 ) die("-p: %d is over 100", o->aPct[i]);
  }
  for(i=0; i<o->nN; i++){
    if( o->aN[i]<1 ) die("-n: sizes must be positive");
  }
  if( o->iCallgrind ){
    if( o->iCallgrind<1 || o->iCallgrind>NMETHOD ) die("-c: no such method");
    for(m=1; m<=NMETHOD; m++) o->aMethod[m] = (m==o->iCallgrind);
    if( !bN ){ o->nN = 1; o->aN[0] = 50000; }
    if( !bP ){ o->nPct = 1; o->aPct[0] = 50; }
    if( !bT ){ memset(o->aTab, 0, sizeof(o->aTab)); o->aTab[0] = 1; }
    if( !bS ){ o->aStore[0] = 1; o->aStore[1] = 0; }
    o->nRun = 1;
    o->nRss = 0;
    return;
  }
  o->aMethod[3] = 1;
  o->bPlan = !(bN || bT || bS || bP || o->bQuick);
  if( !bP ){ o->nPct = 3; o->aPct[0] = 0; o->aPct[1] = 50; o->aPct[2] = 100; }
  if( !bN ){ o->nN = 1; o->aN[0] = o->bQuick ? 20000 : 100000; }
  if( o->nRun<0 && o->bQuick ) o->nRun = 3;
  if( !bR ){
    o->nRss = 2;
    o->aRss[0] = o->bQuick ? 20000 : 100000;
    o->aRss[1] = o->bQuick ? 200000 : 1000000;
  }
}

/* The groups of scenarios to run: the plan, or every combination. */
static int make_groups(const Opts *o, Group *a, int nMax){
  int n = 0, iStore, iTab, iN;
  if( o->bPlan ){
    for(n=0; n<NPLAN; n++){
      a[n] = aPlan[n];
      if( o->nRun>0 ) a[n].nRun = o->nRun;
    }
    return n;
  }
  for(iStore=0; iStore<2; iStore++){
    if( !o->aStore[iStore] ) continue;
    for(iTab=0; iTab<NTABLE; iTab++){
      if( !o->aTab[iTab] ) continue;
      for(iN=0; iN<o->nN; iN++){
        if( n>=nMax ) die("too many scenarios");
        a[n].iStore = iStore;
        a[n].iTab = iTab;
        a[n].n = o->aN[iN];
        a[n].nRun = o->nRun>0 ? o->nRun : 5;
        a[n].nPct = o->nPct;
        memcpy(a[n].aPct, o->aPct, sizeof(a[n].aPct));
        n++;
      }
    }
  }
  return n;
}

/* ---------------------------------------------------------------- report */

static int cmp_double(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

static double median(const double *a, int n){
  double t[MAXRUN];
  memcpy(t, a, sizeof(double)*n);
  qsort(t, n, sizeof(double), cmp_double);
  return n%2 ? t[n/2] : (t[n/2-1]+t[n/2])/2;
}

typedef struct Result {
  char zName[96];
  double aRatio[NMETHOD+1];     /* time / time of method 3; 0 = not run */
  double aCpuRatio[NMETHOD+1];  /* the same in CPU time */
  double rNativeRate;
  int nRun;
} Result;

#define MAXRESULT 512
static Result aResult[MAXRESULT];
static int nResult = 0;

static const char *azStore[2] = { "mem", "file" };

/* One scenario: every chosen method, nRun times, interleaved. */
static void scenario(const Opts *o, Bench *b, int pct, int nRun){
  double aT[NMETHOD+1][MAXRUN], aC[NMETHOD+1][MAXRUN];
  sqlite3_int64 nExpRow, nExpSum, nRow, nSum;
  int r, m, nExisting = 0;
  sqlite3_int64 id;
  double tNative, cNative, t0 = now();
  Result *res = &aResult[nResult<MAXRESULT ? nResult++ : MAXRESULT-1];

  for(id=1; id<=b->n; id++) nExisting += is_existing(id, pct);
  fill_base(b, pct);

  /* The expected state: every staging row.  The native method (3), run
  ** once untimed, must produce it; every timed run must match it. */
  checksum(b->db, "temp.staging", b->sql.zSum, &nExpRow, &nExpSum);
  restore(b, 3);
  run_method(b, 3);
  checksum(b->db, "main.t", b->sql.zSum, &nRow, &nSum);
  if( nRow!=nExpRow || nSum!=nExpSum ){
    die("native reference: %lld rows, checksum %lld; expected %lld, %lld",
        (long long)nRow, (long long)nSum,
        (long long)nExpRow, (long long)nExpSum);
  }

  for(r=0; r<nRun; r++){
    for(m=1; m<=NMETHOD; m++){
      if( !o->aMethod[m] ) continue;
      restore(b, m);
      aT[m][r] = bench_timed(b, m, &aC[m][r]);
      checksum(b->db, "main.t", b->sql.zSum, &nRow, &nSum);
      if( nRow!=nExpRow || nSum!=nExpSum ){
        die("method %d (%s), run %d: %lld rows, checksum %lld;"
            " native gives %lld, %lld", m, azMethod[m], r+1,
            (long long)nRow, (long long)nSum,
            (long long)nExpRow, (long long)nExpSum);
      }
    }
  }

  snprintf(res->zName, sizeof(res->zName), "%-4s %-3s %7d %3d%%",
           azStore[b->bFile], b->td->zTag, b->n, pct);
  res->nRun = nRun;
  printf("\n%s, %s\nN=%d, %d%% existing (%d rows), median of %d run%s\n",
         b->bFile ? "file (WAL, synchronous=NORMAL)" : "in-memory",
         b->td->zDesc, b->n, pct, nExisting, nRun, nRun>1 ? "s" : "");
  printf("  #  %-40s %9s %9s %8s %9s %8s\n", "method", "rows/s",
         "wall ms", "x native", "CPU ms", "x native");
  tNative = median(aT[3], nRun);
  cNative = median(aC[3], nRun);
  memset(res->aRatio, 0, sizeof(res->aRatio));
  memset(res->aCpuRatio, 0, sizeof(res->aCpuRatio));
  res->rNativeRate = b->n/tNative;
  for(m=1; m<=NMETHOD; m++){
    double t, c;
    if( !o->aMethod[m] ) continue;
    t = median(aT[m], nRun);
    c = median(aC[m], nRun);
    res->aRatio[m] = t/tNative;
    res->aCpuRatio[m] = c/cNative;
    printf("  %d  %-40s %9.0f %9.1f %7.2fx %9.1f %7.2fx\n", m, azMethod[m],
           b->n/t, t*1000, res->aRatio[m], c*1000, res->aCpuRatio[m]);
  }
  printf("  verified: every run left %lld rows, checksum %lld, as the"
         " native method (%.0f s)\n", (long long)nExpRow, (long long)nExpSum,
         now()-t0);
  fflush(stdout);
}

/* ---------------------------------------------------------------- RSS
** Peak RSS of one method in a fresh process (an exec of this program), so
** that nothing of the parent's memory counts: a file database (WAL,
** synchronous=NORMAL, SQLite's default 2 MB page cache) holding t4 with
** 50 % of the keys, and a staging table of N rows in key order, in the
** same file so that no data is held in memory.  Reported: the child's
** whole-life ru_maxrss (setup included), and its peak during the timed
** part alone (VmHWM after resetting it through /proc/self/clear_refs).
** temp_store decides where statement journals go: SQLite's default
** spills one to a temp file beyond 64 KiB, MEMORY keeps it in memory.
** The virtual table keeps one whenever the statement runs in a
** transaction (see the opener in ext/upsert.c); native SQLite keeps one
** when its statement may abort, which a NOT NULL column is enough for:
** the probe runs both with t.name TEXT and TEXT NOT NULL.
*/
static long status_kb(const char *zField){
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(zField);
  if( f==0 ) return -1;
  while( fgets(line, sizeof(line), f) ){
    if( strncmp(line, zField, n)==0 && line[n]==':' ){
      v = atol(line+n+1);
      break;
    }
  }
  fclose(f);
  return v;
}

static int rss_child(int n, int m, int eTemp, const char *zDir,
                     const char *zExt){
  const TableDef *td = &aTable[0];
  /* eTemp bit 1: t with name NOT NULL, so that the native statement may
  ** abort and keeps a statement journal too (the data has no NULL) */
  int bNotNull = (eTemp & 2)!=0;
  char *zPath = sqlite3_mprintf("%s/bench-rss-%d.db", zDir, (int)getpid());
  Bench b;
  sqlite3_stmt *p;
  sqlite3_int64 id, nRow, nSum, nExpRow, nExpSum;
  long kbBefore, kbPeak = -1;
  FILE *f;
  char *z;

  eTemp &= 1;
  memset(&b, 0, sizeof(b));
  b.td = td; b.n = n; b.bFile = 1;
  sql_build(&b.sql, td);
  file_remove(zPath);
  b.db = db_open(zPath, 1, eTemp, zExt);
  z = sqlite3_mprintf("CREATE TABLE main.staging%s; CREATE TABLE main.t%s",
                      b.sql.zStageDef, bNotNull ?
                      "(id INTEGER PRIMARY KEY, qty INTEGER,"
                      " name TEXT NOT NULL, price REAL)" : td->zDef);
  exec(b.db, z);
  sqlite3_free(z);
  exec(b.db, "BEGIN");
  z = sqlite3_mprintf("INSERT INTO main.staging VALUES(%s)", b.sql.zParams);
  p = prepare(b.db, z);
  sqlite3_free(z);
  for(id=1; id<=n; id++){
    bind_gen(p, td, id, 1);
    step_done(b.db, p);
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  z = sqlite3_mprintf("INSERT INTO main.t VALUES(%s)", b.sql.zParams);
  p = prepare(b.db, z);
  sqlite3_free(z);
  for(id=1; id<=n; id++){
    if( !is_existing(id, 50) ) continue;
    bind_gen(p, td, id, 0);
    step_done(b.db, p);
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  exec(b.db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(b.db);

  /* a fresh connection: an empty page cache */
  b.db = db_open(zPath, 1, eTemp, zExt);
  {
    /* the methods read temp.staging; here it is main.staging */
    char *zRun = b.sql.azRun[m];
    const char *zFrom = "temp.staging";
    char *zAt = zRun ? strstr(zRun, zFrom) : 0;
    if( zAt ){
      b.sql.azRun[m] = sqlite3_mprintf("%.*smain.staging%s",
                                       (int)(zAt-zRun), zRun,
                                       zAt+strlen(zFrom));
      sqlite3_free(zRun);
    }
  }
  if( m==1 ){
    exec(b.db, "CREATE VIRTUAL TABLE temp.up USING upsert_into(main.t)");
  }
  if( m==7 ) exec(b.db, b.sql.zTrigger);
  checksum(b.db, "main.staging", b.sql.zSum, &nExpRow, &nExpSum);

  f = fopen("/proc/self/clear_refs", "w");
  if( f ){
    if( fputs("5", f)<0 ) kbPeak = -2;
    if( fclose(f)!=0 ) kbPeak = -2;
  }else{
    kbPeak = -2;
  }
  kbBefore = status_kb("VmRSS");
  run_method(&b, m);
  if( kbPeak!=-2 ) kbPeak = status_kb("VmHWM");

  checksum(b.db, "main.t", b.sql.zSum, &nRow, &nSum);
  if( nRow!=nExpRow || nSum!=nExpSum ){
    die("rss probe, method %d: %lld rows, checksum %lld; expected %lld, %lld",
        m, (long long)nRow, (long long)nSum,
        (long long)nExpRow, (long long)nExpSum);
  }
  sqlite3_close(b.db);
  file_remove(zPath);
  sqlite3_free(zPath);
  sql_free(&b.sql);
  printf("%ld %ld\n", kbBefore, kbPeak);
  fflush(stdout);
  return 0;
}

static void rss_probe(const Opts *o){
  /* method, temp_store (bit 0: MEMORY; bit 1: name NOT NULL) */
  static const int aProbe[][2] = {
    {1,0}, {1,1}, {3,0}, {3,1}, {1,3}, {3,3}
  };
  int k, i;
  double t0 = now();
  if( o->nRss==0 ) return;
  printf("\nPeak RSS: file database (WAL, synchronous=NORMAL, default 2 MB"
         " page cache),\n%s, 50%% existing, staging rows in key order,"
         " one fresh process each\n", aTable[0].zDesc);
  printf("  #  %-36s %-10s %-14s %8s %12s %12s\n", "method", "temp_store",
         "t.name", "N", "process peak", "peak in run");
  for(k=0; k<(int)(sizeof(aProbe)/sizeof(aProbe[0])); k++){
    int m = aProbe[k][0];
    int eTemp = aProbe[k][1];
    if( !o->aMethod[m] ) continue;
    for(i=0; i<o->nRss; i++){
      int fd[2];
      pid_t pid;
      int st;
      struct rusage ru;
      char buf[128];
      char zN[32], zM[8], zT[8];
      long kbBefore = -1, kbPeak = -1;
      ssize_t nRead;
      size_t nBuf = 0;
      if( pipe(fd) ) die("pipe: %s", strerror(errno));
      snprintf(zN, sizeof(zN), "%d", o->aRss[i]);
      snprintf(zM, sizeof(zM), "%d", m);
      snprintf(zT, sizeof(zT), "%d", eTemp);
      fflush(stdout);
      pid = fork();
      if( pid<0 ) die("fork: %s", strerror(errno));
      if( pid==0 ){
        char *azArg[] = { "bench", "--rss-child", zN, zM, zT,
                          (char*)o->zDir, (char*)o->zExt, 0 };
        close(fd[0]);
        if( dup2(fd[1], 1)<0 ) _exit(127);
        close(fd[1]);
        execv("/proc/self/exe", azArg);
        _exit(127);
      }
      close(fd[1]);
      while( nBuf<sizeof(buf)-1
          && (nRead = read(fd[0], buf+nBuf, sizeof(buf)-1-nBuf))>0 ){
        nBuf += (size_t)nRead;
      }
      buf[nBuf] = 0;
      close(fd[0]);
      if( wait4(pid, &st, 0, &ru)<0 ) die("wait4: %s", strerror(errno));
      if( !WIFEXITED(st) || WEXITSTATUS(st)!=0 ){
        die("rss probe for method %d, N=%d failed", m, o->aRss[i]);
      }
      if( sscanf(buf, "%ld %ld", &kbBefore, &kbPeak)!=2 ){
        die("rss probe: unexpected output: %s", buf);
      }
      printf("  %d  %-36s %-10s %-14s %8d %9.1f MB ", m, azMethod[m],
             (eTemp & 1) ? "MEMORY" : "default",
             (eTemp & 2) ? "TEXT NOT NULL" : "TEXT", o->aRss[i],
             ru.ru_maxrss/1024.0);
      if( kbPeak>=0 ) printf("%9.1f MB\n", kbPeak/1024.0);
      else printf("%12s\n", "n/a");
      fflush(stdout);
    }
  }
  printf("  (%.0f s)\n", now()-t0);
}

/* ---------------------------------------------------------------- main */

/* The 1-minute load average, or -1: printed so that a reader can tell a
** run on a busy machine. */
static double loadavg(void){
  double v = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if( f ){
    if( fscanf(f, "%lf", &v)!=1 ) v = -1;
    fclose(f);
  }
  return v;
}

int main(int argc, char **argv){
  Opts o;
  Group aGroup[MAXRESULT];
  int nGroup, iG, k, m;
  double t0 = now();

  if( argc==7 && strcmp(argv[1], "--rss-child")==0 ){
    return rss_child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                     argv[5], argv[6]);
  }
  parse_opts(&o, argc, argv);
  nGroup = make_groups(&o, aGroup, MAXRESULT);

  printf("upsert_into benchmark: SQLite %s, %s, %ld CPUs, load average %.2f\n",
         sqlite3_libversion(), o.iCallgrind ? "callgrind mode" : "wall time",
         sysconf(_SC_NPROCESSORS_ONLN), loadavg());
  if( !o.iCallgrind ){
    printf("a run is BEGIN, the method, COMMIT; x native = median time"
           " / median time of method 3\n");
  }
  rss_probe(&o);

  for(iG=0; iG<nGroup; iG++){
    const Group *g = &aGroup[iG];
    Bench b;
    char *zPath;
    int iPct;
    memset(&b, 0, sizeof(b));
    b.td = &aTable[g->iTab];
    b.n = g->n;
    b.bFile = g->iStore;
    sql_build(&b.sql, b.td);
    b.d = data_new(b.td, b.n);
    zPath = b.bFile ? sqlite3_mprintf("%s/bench-%d.db", o.zDir, (int)getpid())
                    : sqlite3_mprintf(":memory:");
    if( b.bFile ) file_remove(zPath);
    b.db = db_open(zPath, b.bFile, !b.bFile, o.zExt);
    fill_staging(&b);
    for(iPct=0; iPct<g->nPct; iPct++){
      int pct = g->aPct[iPct];
      if( o.iCallgrind ){
        int nExisting = 0;
        sqlite3_int64 id, nRow, nSum, nExpRow, nExpSum;
        double t, c;
        m = o.iCallgrind;
        for(id=1; id<=b.n; id++) nExisting += is_existing(id, pct);
        fill_base(&b, pct);
        checksum(b.db, "temp.staging", b.sql.zSum, &nExpRow, &nExpSum);
        restore(&b, m);
        t = bench_timed(&b, m, &c);
        checksum(b.db, "main.t", b.sql.zSum, &nRow, &nSum);
        if( nRow!=nExpRow || nSum!=nExpSum ){
          die("method %d: %lld rows, checksum %lld; expected %lld, %lld",
              m, (long long)nRow, (long long)nSum,
              (long long)nExpRow, (long long)nExpSum);
        }
        printf("method %d (%s): %s %s N=%d, %d%% existing (%d rows):"
               " %.1f ms, verified\n", m, azMethod[m], azStore[b.bFile],
               b.td->zTag, b.n, pct, nExisting, t*1000);
      }else{
        scenario(&o, &b, pct, g->nRun);
      }
    }
    sqlite3_close(b.db);
    if( b.bFile ) file_remove(zPath);
    sqlite3_free(zPath);
    data_free(b.d);
    sql_free(&b.sql);
  }

  if( !o.iCallgrind && nResult>0 ){
    int bCpu;
    for(bCpu=0; bCpu<2; bCpu++){
      printf("\nSummary, %s: median time / median time of method 3%s\n",
             bCpu ? "CPU time" : "wall time",
             bCpu ? "" : "; last column: rows/s of method 3");
      printf("  %-22s %4s", "scenario", "runs");
      for(m=1; m<=NMETHOD; m++) if( o.aMethod[m] ) printf(" %6d", m);
      printf(bCpu ? "\n" : " %10s\n", "native");
      for(k=0; k<nResult; k++){
        const double *a = bCpu ? aResult[k].aCpuRatio : aResult[k].aRatio;
        printf("  %-22s %4d", aResult[k].zName, aResult[k].nRun);
        for(m=1; m<=NMETHOD; m++){
          if( o.aMethod[m] ) printf(" %5.2fx", a[m]);
        }
        if( bCpu ) printf("\n");
        else printf(" %10.0f\n", aResult[k].rNativeRate);
      }
    }
    for(m=1; m<=NMETHOD; m++){
      if( o.aMethod[m] ) printf("  %d  %s\n", m, azMethod[m]);
    }
  }
  printf("total %.0f s (of which restoring the table %.0f s, checking %.0f s),"
         " load average %.2f\n", now()-t0, tRestore, tCheck, loadavg());
  return 0;
}
