/*
** libFuzzer target: differential upsert.  The input bytes choose a schema,
** a set of options and a sequence of operations.  The schema is created
** twice, as t_vt and t_nat, and
**
**   CREATE VIRTUAL TABLE temp.up USING upsert_into(t_vt, <options>)
**
** t_vt lives on one connection, t_nat on another (each its own in-memory
** database), so that each side has a transaction of its own.  Each row
** goes through "up" and, as the hand-written native statement it stands
** for, into t_nat:
**
**   INSERT [OR FAIL | OR ROLLBACK] INTO t_nat(<cols>) VALUES(...)
**     ON CONFLICT(<key>) DO UPDATE SET c=excluded.c, ... [WHERE <where=>]
**   ... DO NOTHING when nothing is updated
**   INSERT OR IGNORE / OR REPLACE INTO t_nat(<cols>) VALUES(...)
**
** where <cols> are the declared columns, less, under nulls=keep, the
** non-key columns whose value is NULL (also left out of the SET list); a
** NOT NULL column without DEFAULT so left out is given its stored value,
** read by a SELECT on the key beforehand (README, Options), or NULL for a
** new key.
**
** A statement of one or more rows, in any mode, is run natively row by
** row in a savepoint, and the first error decides what the statement
** does (natStmt(); SQLITE-QUIRKS.md): a conflict inside DO UPDATE, a
** RAISE(ABORT) and a STRICT type error abort it whatever the mode, a
** RAISE(FAIL) fails it, a RAISE(ROLLBACK) rolls the transaction back,
** any other constraint error takes the mode (under a plain INSERT, the
** column's ON CONFLICT clause).  Where a virtual table cannot do that
** (README, Limitations), the documented behaviour is the expected one: a
** RAISE(FAIL) outside OR FAIL aborts the statement, a STRICT type error
** always aborts it, and under OR FAIL, OR ROLLBACK and OR IGNORE such an
** error has the code SQLITE_ERROR (under OR IGNORE a RAISE(ROLLBACK)
** too).  Schemas 4 and 5 take header bytes of their own (see
** schemaDdl()): column-level ON CONFLICT clauses, a second UNIQUE column
** with few values that updates break, STRICT, and triggers that log or
** RAISE(ABORT|FAIL|ROLLBACK|IGNORE) on some value.  Left out, because the
** virtual table differs there and the README does not say so (pinned by
** test/diffopt.test 0.1 to 0.4): a column-level ON CONFLICT FAIL; a
** clause other than ABORT on the key, but for the PRIMARY KEY of a
** WITHOUT ROWID table; a RAISE(FAIL) outside OR FAIL in a one-row INSERT
** ... VALUES in a transaction (such rows go as INSERT ... SELECT); a
** multi-row OR FAIL statement on an AUTOINCREMENT table (it runs as a
** plain INSERT).
**
** Findings (abort(), besides any ASan/UBSan/leak report):
**   - a row (or a multi-row statement) that succeeds on one side and
**     fails on the other, or fails with another message (the vtab's
**     "upsert_into: " prefix and the table name aside)
**   - t_vt and t_nat differ (every column, generated ones and the rowid
**     included; the rows their triggers log; sqlite_sequence)
**   - one side is in a transaction and the other is not
**   - upsert_into_stats('up') differs from the counts found natively: a
**     row whose statement changed nothing is skipped, else updated if its
**     key existed before it (inserted under OR REPLACE), else inserted;
**     rows of failed statements and of rolled back transactions or
**     savepoints are not counted
**   - SELECT through "up" (a scan, and a lookup on the key) differs from
**     the same SELECT on t_vt
**   - PRAGMA integrity_check not ok
**
** -DFUZZ_DIFF_NO_SEQ leaves sqlite_sequence out of the comparison, to fuzz
** on past a known finding there (see the README, Fuzzing).
**
** Input layout: 10 header bytes (schema, for schemas 4 and 5 three
** variant bytes, key, columns=, update=/keep=, where=, nulls=), then
** operations, each an opcode byte followed by one byte per value.  A
** missing byte reads as 0.  The input's length modulo 3 chooses the
** database encoding (UTF-8, UTF-16le, UTF-16be), so that every input of
** the corpus is tried in each.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

#define MAXCOL 8
#define MAXOP  48
#define MAXROW 4

/* Value domains */
#define DOM_IKEY  0   /* integer key: few values */
#define DOM_TKEY  1   /* text key: few values, case differences */
#define DOM_ANY   2   /* anything */
#define DOM_INT   3   /* small integers, some that break a CHECK or a
                      ** partial index */
#define DOM_SMALL 4   /* a second UNIQUE column: four values, and now and
                      ** then one a STRICT INT column refuses */

typedef struct SCol { const char *zName; int bNeed; int eDom; } SCol;
typedef struct SKey {
  int n;                     /* Columns in the key */
  int ai[3];                 /* Their indexes in SDef.aCol[] */
  const char *azColl[3];     /* Collation of the key's index, or NULL */
  int bPk;                   /* True for the PRIMARY KEY */
} SKey;
typedef struct SDef {
  const char *zDdl;          /* %T is the table, %L its log table */
  const char *zContent;      /* Select list of every column, ordered */
  int bLog;                  /* Has a log table written by triggers */
  int bSeq;                  /* AUTOINCREMENT */
  int bVar;                  /* zDdl has the placeholders of schemaDdl() */
  int bRowid;                /* A rowid table */
  int nCol;
  SCol aCol[MAXCOL];         /* The writable columns, in table order */
  int nKey;
  SKey aKey[5];              /* Usable keys */
} SDef;

static const SDef aSchema[] = {
  /* 0: rowid table, INTEGER PRIMARY KEY AUTOINCREMENT, NOT NULL DEFAULT,
  ** CHECK, a generated column, triggers */
  { "CREATE TABLE %T(k INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  a TEXT NOT NULL DEFAULT 'd', b REAL, c, d INT CHECK(d IS NOT 13),"
    "  g AS (coalesce(a, '') || '!'));"
    "CREATE TABLE %L(op, k, x, y);"
    "CREATE TRIGGER %T_ai AFTER INSERT ON %T BEGIN"
    "  INSERT INTO %L VALUES('i', new.k, new.a, new.b); END;"
    "CREATE TRIGGER %T_au AFTER UPDATE ON %T BEGIN"
    "  INSERT INTO %L VALUES('u', new.k, old.a, new.a); END;"
    "CREATE TRIGGER %T_ad AFTER DELETE ON %T BEGIN"
    "  INSERT INTO %L VALUES('d', old.k, old.a, NULL); END;",
    "rowid, quote(k), quote(a), quote(b), quote(c), quote(d), quote(g)",
    1, 1, 0, 1,
    5, { {"k", 0, DOM_IKEY}, {"a", 0, DOM_TKEY}, {"b", 0, DOM_ANY},
         {"c", 0, DOM_ANY}, {"d", 0, DOM_INT} },
    1, { {1, {0}, {0}, 1} } },
  /* 1: WITHOUT ROWID, composite key, one of it NOCASE, a NOT NULL column
  ** without DEFAULT */
  { "CREATE TABLE %T(k1 TEXT COLLATE NOCASE, k2 INT, a NOT NULL,"
    "  b TEXT DEFAULT 'x', c BLOB, PRIMARY KEY(k1, k2)) WITHOUT ROWID;",
    "quote(k1), quote(k2), quote(a), quote(b), quote(c)",
    0, 0, 0, 0,
    5, { {"k1", 0, DOM_TKEY}, {"k2", 0, DOM_IKEY}, {"a", 1, DOM_ANY},
         {"b", 0, DOM_ANY}, {"c", 0, DOM_ANY} },
    1, { {2, {0, 1}, {"NOCASE", 0}, 1} } },
  /* 2: UNIQUE columns usable as key=, beside an INTEGER PRIMARY KEY: a
  ** NOT NULL one, a NOCASE column, a pair, an index whose COLLATE is not
  ** its column's, and a partial index (enforced, not a key) */
  { "CREATE TABLE %T(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
    "  name TEXT, n INT NOT NULL DEFAULT 0, t TEXT COLLATE NOCASE UNIQUE,"
    "  note, UNIQUE(name, n));"
    "CREATE UNIQUE INDEX %T_note ON %T(note COLLATE NOCASE);"
    "CREATE UNIQUE INDEX %T_part ON %T(n) WHERE n > 100;",
    "rowid, quote(id), quote(email), quote(name), quote(n), quote(t),"
    " quote(note)",
    0, 0, 0, 1,
    6, { {"id", 0, DOM_IKEY}, {"email", 1, DOM_TKEY}, {"name", 0, DOM_TKEY},
         {"n", 0, DOM_INT}, {"t", 0, DOM_TKEY}, {"note", 0, DOM_TKEY} },
    5, { {1, {0}, {0}, 1}, {1, {1}, {0}, 0}, {1, {4}, {"NOCASE"}, 0},
         {2, {2, 3}, {0, 0}, 0}, {1, {5}, {"NOCASE"}, 0} } },
  /* 3: no PRIMARY KEY (key= needed), odd names */
  { "CREATE TABLE %T(\"x y\" INT, \"select\" TEXT, \"q\"\"z\","
    "  w REAL DEFAULT 0.5, v TEXT NOT NULL DEFAULT 'v',"
    "  UNIQUE(\"x y\"), UNIQUE(\"select\", \"q\"\"z\"));"
    "CREATE UNIQUE INDEX \"%T p\" ON %T(w) WHERE w > 10;",
    "rowid, quote(\"x y\"), quote(\"select\"), quote(\"q\"\"z\"), quote(w),"
    " quote(v)",
    0, 0, 0, 1,
    5, { {"x y", 0, DOM_IKEY}, {"select", 0, DOM_TKEY},
         {"q\"z", 0, DOM_TKEY}, {"w", 0, DOM_INT}, {"v", 0, DOM_ANY} },
    2, { {1, {0}, {0}, 0}, {2, {1, 2}, {0, 0}, 0} } },
  /* 4: rowid table, INTEGER PRIMARY KEY, a second UNIQUE column of few
  ** values, a NOT NULL column with a DEFAULT; ON CONFLICT clauses, STRICT
  ** and RAISE triggers as schemaDdl() chooses; a trigger that logs each
  ** new row before its insert, and one each update */
  { "CREATE TABLE %T(k INTEGER PRIMARY KEY%1, u INT UNIQUE%2,"
    "  a TEXT NOT NULL%3 DEFAULT 'd', b%A, c INT)%S;"
    "CREATE TABLE %L(op, k, x, y);"
    "CREATE TRIGGER %T_bi BEFORE INSERT ON %T BEGIN"
    "  INSERT INTO %L VALUES('bi', new.k, new.u, new.c); END;"
    "CREATE TRIGGER %T_au AFTER UPDATE ON %T BEGIN"
    "  INSERT INTO %L VALUES('au', new.k, old.u, new.u); END;"
    "%R",
    "rowid, quote(k), quote(u), quote(a), quote(b), quote(c)",
    1, 0, 1, 1,
    5, { {"k", 0, DOM_IKEY}, {"u", 0, DOM_SMALL}, {"a", 0, DOM_TKEY},
         {"b", 0, DOM_ANY}, {"c", 0, DOM_INT} },
    2, { {1, {0}, {0}, 1}, {1, {1}, {0}, 0} } },
  /* 5: WITHOUT ROWID, a TEXT PRIMARY KEY, two more UNIQUE columns (one of
  ** few values, one NOCASE), a NOT NULL column with a DEFAULT; the same
  ** choices as 4; a trigger that logs each update before it */
  { "CREATE TABLE %T(k TEXT PRIMARY KEY%1, u INT UNIQUE%2,"
    "  n INT NOT NULL%3 DEFAULT 0, t TEXT COLLATE NOCASE UNIQUE%4, c%A)"
    " WITHOUT ROWID%s;"
    "CREATE TABLE %L(op, k, x, y);"
    "CREATE TRIGGER %T_bu BEFORE UPDATE ON %T BEGIN"
    "  INSERT INTO %L VALUES('bu', new.k, old.t, new.t); END;"
    "%R",
    "quote(k), quote(u), quote(n), quote(t), quote(c)",
    1, 0, 1, 0,
    5, { {"k", 1, DOM_TKEY}, {"u", 0, DOM_SMALL}, {"n", 0, DOM_INT},
         {"t", 0, DOM_TKEY}, {"c", 0, DOM_ANY} },
    3, { {1, {0}, {0}, 1}, {1, {1}, {0}, 0}, {1, {3}, {"NOCASE"}, 0} } },
};
#define N_SCHEMA ((int)(sizeof(aSchema)/sizeof(aSchema[0])))

static const char *azWhere[] = {
  "excluded.%V > %V",
  "excluded.%V IS NOT %V",
  "%V IS NULL OR excluded.%V >= %V",
  "coalesce(excluded.%V, 0) <> coalesce(%V, 1)",
  "excluded.%V IS NOT NULL",
};

/* A value */
typedef struct Val {
  int t;                     /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT, _BLOB */
  sqlite3_int64 i;
  double r;
  const char *z;
  int n;
} Val;

/* Operation codes (op byte % 16) */
#define OP_CONTROL  14

typedef struct Counts { sqlite3_int64 a[3]; } Counts;   /* ins, upd, skip */

typedef struct Diff Diff;
struct Diff {
  const uint8_t *aIn;
  size_t nIn, iIn;
  sqlite3 *db;               /* t_vt and "up" */
  sqlite3 *ndb;              /* t_nat, another database */
  const SDef *pS;
  unsigned aVar[3];          /* Variant bytes of a bVar schema */
  int bRaiseFail;            /* Some trigger does RAISE(FAIL) */
  const SKey *pK;
  int nDecl;
  int aiDecl[MAXCOL];        /* Declared columns, schema indexes */
  unsigned mUpd;             /* Schema columns updated on conflict */
  int bNullsKeep;
  char *zWhere;              /* where= expression, or NULL */
  char *zOpts;               /* The options text */
  Counts n;                  /* Expected counts */
  Counts txn;                /* At BEGIN */
  int nSp;                   /* Open savepoints */
  int bSpTxn;                /* The outermost savepoint began the txn */
  Counts aSp[4];             /* At each savepoint */
  char *zLog;                /* Every statement run, for a report */
  sqlite3_stmt *apContent[2];  /* Cached: content of t_vt, t_nat */
  sqlite3_stmt *pStats;      /* Cached: SELECT upsert_into_stats('up') */
};

static unsigned byte(Diff *p){
  return p->iIn<p->nIn ? p->aIn[p->iIn++] : 0;
}

static void addLog(Diff *p, const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  p->zLog = sqlite3_mprintf("%z%s\n", p->zLog, z);
  sqlite3_free(z);
}

static void fail(Diff *p, const char *zWhat, const char *zDetail){
  fprintf(stderr, "fuzz_diff: FINDING: %s\n  %s\n", zWhat,
          zDetail ? zDetail : "");
  if( p ){
    fprintf(stderr, "options: %s\nstatements:\n%s", p->zOpts ? p->zOpts : "",
            p->zLog ? p->zLog : "");
  }
  abort();
}

static int isKey(Diff *p, int iCol){
  int k;
  for(k=0; k<p->pK->n; k++) if( p->pK->ai[k]==iCol ) return 1;
  return 0;
}

/* A value of domain eDom chosen by byte b */
static void makeVal(Val *v, int eDom, unsigned b){
  static const char *azTKey[] = { "a", "A", "b", "B", "1", "a", "b", "A" };
  static const char *azText[] = { "x", "y", "", "it's", "Z", "a", "A", "2" };
  static const sqlite3_int64 aIKey[] = { 0, 1, 2, 3, 1, 2 };
  static const sqlite3_int64 aInt[] = { 0, 1, 2, 7, 13, -3, 101, 102 };
  static const double aReal[] = { 1.5, 2.0, -0.5, 101.5 };
  memset(v, 0, sizeof(*v));
  v->t = SQLITE_NULL;
  switch( eDom ){
    case DOM_IKEY:
      switch( b%16 ){
        case 0: break;                                   /* NULL */
        case 1: v->t = SQLITE_TEXT; v->z = "2"; break;
        case 2: v->t = SQLITE_FLOAT; v->r = 2.0; break;
        case 3: v->t = SQLITE_TEXT; v->z = "a"; break;
        default: v->t = SQLITE_INTEGER; v->i = aIKey[(b>>4)%6]; break;
      }
      break;
    case DOM_TKEY:
      switch( b%16 ){
        case 0: break;
        case 1: v->t = SQLITE_INTEGER; v->i = 1; break;
        case 2: v->t = SQLITE_BLOB; v->z = "a"; v->n = 1; break;
        default: v->t = SQLITE_TEXT; v->z = azTKey[(b>>4)%8]; break;
      }
      break;
    case DOM_SMALL:
      switch( b%8 ){
        case 0: break;
        case 1: v->t = SQLITE_TEXT; v->z = azText[(b>>3)%8]; break;
        default: v->t = SQLITE_INTEGER; v->i = 1 + (b>>3)%4; break;
      }
      break;
    case DOM_INT:
      switch( b%8 ){
        case 0: break;
        case 1: v->t = SQLITE_FLOAT; v->r = aReal[(b>>3)%4]; break;
        case 2: v->t = SQLITE_TEXT; v->z = azText[(b>>3)%8]; break;
        default: v->t = SQLITE_INTEGER; v->i = aInt[(b>>3)%8]; break;
      }
      break;
    default:
      switch( b%8 ){
        case 0: case 1: break;
        case 2: case 3: v->t = SQLITE_INTEGER; v->i = aInt[(b>>3)%8]; break;
        case 4: v->t = SQLITE_FLOAT; v->r = aReal[(b>>3)%4]; break;
        case 5: case 6: v->t = SQLITE_TEXT; v->z = azText[(b>>3)%8]; break;
        default:
          v->t = SQLITE_BLOB;
          v->z = "\x00\xff";
          v->n = (b>>3)%3;
          break;
      }
      break;
  }
  if( v->t==SQLITE_TEXT ) v->n = (int)strlen(v->z);
}

static void bindVal(sqlite3_stmt *pStmt, int i, const Val *v){
  switch( v->t ){
    case SQLITE_INTEGER: sqlite3_bind_int64(pStmt, i, v->i); break;
    case SQLITE_FLOAT:   sqlite3_bind_double(pStmt, i, v->r); break;
    case SQLITE_TEXT:
      sqlite3_bind_text(pStmt, i, v->z, v->n, SQLITE_STATIC); break;
    case SQLITE_BLOB:
      sqlite3_bind_blob(pStmt, i, v->z, v->n, SQLITE_STATIC); break;
    default: sqlite3_bind_null(pStmt, i); break;
  }
}

static char *valText(const Val *v){
  switch( v->t ){
    case SQLITE_INTEGER: return sqlite3_mprintf("%lld", v->i);
    case SQLITE_FLOAT:   return sqlite3_mprintf("%!.15g", v->r);
    case SQLITE_TEXT:    return sqlite3_mprintf("%Q", v->z);
    case SQLITE_BLOB: {
      static const char hex[] = "0123456789abcdef";
      char z[16];
      int i;
      for(i=0; i<v->n; i++){
        z[2*i] = hex[(unsigned char)v->z[i]>>4];
        z[2*i+1] = hex[v->z[i]&15];
      }
      z[2*v->n] = 0;
      return sqlite3_mprintf("x'%s'", z);
    }
    default: return sqlite3_mprintf("NULL");
  }
}

static const char *azClause[] = {
  "", " ON CONFLICT REPLACE", " ON CONFLICT IGNORE", " ON CONFLICT ROLLBACK",
  " ON CONFLICT ABORT"
};
static const char *azWhen[] = {
  "BEFORE INSERT", "AFTER INSERT", "BEFORE UPDATE", "AFTER UPDATE"
};
static const char *azRaise[] = {
  "RAISE(ABORT, 'raise abort')", "RAISE(FAIL, 'raise fail')",
  "RAISE(ROLLBACK, 'raise rollback')", "RAISE(IGNORE)"
};

/* The ON CONFLICT clause of column iCol chosen by c (azClause[]), but none
** other than ABORT on the key, unless it is the PRIMARY KEY of a WITHOUT
** ROWID table (see the header) */
static const char *keyClause(Diff *p, int iCol, unsigned c){
  if( c%5!=0 && c%5!=4 && isKey(p, iCol)
   && (p->pS->bRowid || !p->pK->bPk) ){
    return "";
  }
  return azClause[c%5];
}

/*
** The DDL of the schema for table zT and log table zL: %T and %L replaced,
** and, in a bVar schema, the choices the variant bytes make:
**   %1 %2 %4  an ON CONFLICT clause on the UNIQUE or PRIMARY KEY column
**             0, 1, 3 (keyClause())
**   %3        an ON CONFLICT clause on the NOT NULL column (not ABORT)
**   %S %s %A  " STRICT", ", STRICT" and " ANY" for a STRICT table
**   %R        one or two triggers that RAISE when c (or u) takes a value
*/
static char *schemaDdl(Diff *p, const char *zT, const char *zL){
  const char *zTmpl = p->pS->zDdl;
  unsigned v0 = p->aVar[0], v1 = p->aVar[1], v2 = p->aVar[2];
  int bStrict = (v1 & 1)!=0;
  sqlite3_str *pStr = sqlite3_str_new(0);
  const char *z;
  for(z=zTmpl; *z; z++){
    if( z[0]!='%' ){ sqlite3_str_appendchar(pStr, 1, *z); continue; }
    z++;
    switch( *z ){
      case 'T': sqlite3_str_appendall(pStr, zT); break;
      case 'L': sqlite3_str_appendall(pStr, zL); break;
      case '1': sqlite3_str_appendall(pStr, keyClause(p, 0, v0)); break;
      case '2': sqlite3_str_appendall(pStr, keyClause(p, 1, v0/5)); break;
      case '4': sqlite3_str_appendall(pStr, keyClause(p, 3, v2>>4)); break;
      case '3': sqlite3_str_appendall(pStr, azClause[(v0/25)%4]); break;
      case 'S': if( bStrict ) sqlite3_str_appendall(pStr, " STRICT"); break;
      case 's': if( bStrict ) sqlite3_str_appendall(pStr, ", STRICT"); break;
      case 'A': if( bStrict ) sqlite3_str_appendall(pStr, " ANY"); break;
      case 'R': {
        /* A trigger when c is 7, and maybe one when u is 2 */
        sqlite3_str_appendf(pStr, "CREATE TRIGGER %s_r1 %s ON %s"
            " WHEN new.c IS 7 BEGIN SELECT %s; END;",
            zT, azWhen[(v1>>1)%4], zT, azRaise[(v1>>3)%4]);
        if( v2%5!=4 ){
          sqlite3_str_appendf(pStr, "CREATE TRIGGER %s_r2 %s ON %s"
              " WHEN new.u IS 2 BEGIN SELECT %s; END;",
              zT, azWhen[(v1>>5)%4], zT, azRaise[v2%5]);
        }
        break;
      }
      default: sqlite3_str_appendchar(pStr, 1, '%');
               sqlite3_str_appendchar(pStr, 1, *z); break;
    }
  }
  return sqlite3_str_finish(pStr);
}

static void execOn(Diff *p, sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "%s\n", zSql);
    fail(p, "setup statement failed", zErr);
  }
}
static void exec(Diff *p, const char *zSql){ execOn(p, p->db, zSql); }
/* On both connections: transactions and savepoints */
static void execBoth(Diff *p, const char *zSql){
  execOn(p, p->db, zSql);
  execOn(p, p->ndb, zSql);
}

/* A name as an option value: bare (maybe upper case) or quoted. */
static void appendOptName(sqlite3_str *pStr, const char *zName, unsigned b){
  int bPlain = 1;
  const char *z;
  for(z=zName; *z; z++){
    if( !((*z>='a' && *z<='z') || (*z>='0' && *z<='9') || *z=='_') ){
      bPlain = 0;
    }
  }
  switch( b%5 ){
    case 0:
      if( bPlain ){ sqlite3_str_appendall(pStr, zName); break; }
      /* fall through */
    case 1: sqlite3_str_appendf(pStr, "\"%w\"", zName); break;
    case 2:
      if( strchr(zName, ']')==0 ){
        sqlite3_str_appendf(pStr, "[%s]", zName); break;
      }
      /* fall through */
    case 3:
      if( strchr(zName, '`')==0 ){
        sqlite3_str_appendf(pStr, "`%s`", zName); break;
      }
      sqlite3_str_appendf(pStr, "\"%w\"", zName); break;
    default:
      if( bPlain ){
        for(z=zName; *z; z++){
          sqlite3_str_appendchar(pStr, 1,
              (*z>='a' && *z<='z') ? *z-'a'+'A' : *z);
        }
        break;
      }
      sqlite3_str_appendf(pStr, "\"%w\"", zName); break;
  }
}

static void appendOptList(sqlite3_str *pStr, const int *ai, int n, Diff *p){
  int i;
  unsigned b = byte(p);
  if( n==1 && (b & 0x80) ){
    appendOptName(pStr, p->pS->aCol[ai[0]].zName, b);
    return;
  }
  sqlite3_str_appendchar(pStr, 1, '(');
  for(i=0; i<n; i++){
    if( i ) sqlite3_str_appendall(pStr, ", ");
    appendOptName(pStr, p->pS->aCol[ai[i]].zName, b>>i);
  }
  sqlite3_str_appendchar(pStr, 1, ')');
}

/*
** Decode the header: schema and options.  Fills p and returns the option
** text (without the table name).
*/
static void chooseOptions(Diff *p){
  const SDef *pS;
  sqlite3_str *pStr = sqlite3_str_new(0);
  unsigned b;
  int i, j;
  int aiK[3];
  unsigned mDecl;

  pS = p->pS = &aSchema[byte(p) % N_SCHEMA];
  if( pS->bVar ){
    for(i=0; i<3; i++) p->aVar[i] = byte(p);
    p->bRaiseFail = (p->aVar[1]>>3)%4==1 || p->aVar[2]%5==1;
  }
  b = byte(p);
  p->pK = &pS->aKey[b % pS->nKey];
  /* key=, unless the PRIMARY KEY is the key and it may be left implicit */
  if( !p->pK->bPk || (b & 0x80) ){
    /* the key's columns in some order */
    for(i=0; i<p->pK->n; i++) aiK[i] = p->pK->ai[i];
    if( p->pK->n>1 && (b & 0x40) ){
      int t = aiK[0]; aiK[0] = aiK[p->pK->n-1]; aiK[p->pK->n-1] = t;
    }
    sqlite3_str_appendall(pStr, (b & 0x20) ? ", KEY=" : ", key=");
    appendOptList(pStr, aiK, p->pK->n, p);
  }

  /* columns=: every writable column, or a subset that keeps the key and
  ** every NOT NULL column without DEFAULT */
  b = byte(p);
  mDecl = 0;
  for(i=0; i<pS->nCol; i++){
    if( (b%3)==0 || isKey(p, i) || pS->aCol[i].bNeed || (b>>(i+2))&1 ){
      mDecl |= 1u<<i;
    }
  }
  p->nDecl = 0;
  for(i=0; i<pS->nCol; i++){
    if( mDecl & (1u<<i) ) p->aiDecl[p->nDecl++] = i;
  }
  if( (b%3)!=0 ){
    /* a rotation of the declared columns */
    unsigned r = byte(p) % p->nDecl;
    int ai[MAXCOL];
    for(i=0; i<p->nDecl; i++) ai[i] = p->aiDecl[(i+r)%p->nDecl];
    memcpy(p->aiDecl, ai, sizeof(ai));
    sqlite3_str_appendall(pStr, ", columns=");
    appendOptList(pStr, p->aiDecl, p->nDecl, p);
  }

  /* update= / keep= */
  b = byte(p);
  {
    unsigned m = byte(p);
    int ai[MAXCOL], n = 0;
    p->mUpd = 0;
    for(i=0; i<p->nDecl; i++){
      if( !isKey(p, p->aiDecl[i]) ) p->mUpd |= 1u<<p->aiDecl[i];
    }
    for(i=0; i<p->nDecl; i++){
      j = p->aiDecl[i];
      if( !isKey(p, j) && (m>>i)&1 ) ai[n++] = j;
    }
    switch( b%5 ){
      case 0: case 1: break;
      case 2:   /* update=(subset) */
        p->mUpd = 0;
        for(i=0; i<n; i++) p->mUpd |= 1u<<ai[i];
        sqlite3_str_appendall(pStr, ", update=");
        if( n==0 ) sqlite3_str_appendall(pStr, "()");
        else appendOptList(pStr, ai, n, p);
        break;
      case 3:   /* keep=(subset) */
        if( n==0 ) break;
        for(i=0; i<n; i++) p->mUpd &= ~(1u<<ai[i]);
        sqlite3_str_appendall(pStr, ", keep=");
        appendOptList(pStr, ai, n, p);
        break;
      default:  /* update=() */
        p->mUpd = 0;
        sqlite3_str_appendall(pStr, ", update=()");
        break;
    }
  }

  /* where=, only when something is updated */
  b = byte(p);
  if( p->mUpd && (b%3)==0 ){
    int aNK[MAXCOL], nNK = 0;
    const char *zT = azWhere[(b>>2) % (sizeof(azWhere)/sizeof(azWhere[0]))];
    char *zV;
    sqlite3_str *pW = sqlite3_str_new(0);
    for(i=0; i<pS->nCol; i++) if( !isKey(p, i) ) aNK[nNK++] = i;
    zV = sqlite3_mprintf("\"%w\"", pS->aCol[aNK[(b>>5) % nNK]].zName);
    for(; *zT; zT++){
      if( zT[0]=='%' && zT[1]=='V' ){ sqlite3_str_appendall(pW, zV); zT++; }
      else sqlite3_str_appendchar(pW, 1, *zT);
    }
    sqlite3_free(zV);
    p->zWhere = sqlite3_str_finish(pW);
    sqlite3_str_appendf(pStr, ", where=%s", p->zWhere);
  }

  /* nulls= */
  b = byte(p);
  switch( b%4 ){
    case 1: sqlite3_str_appendall(pStr, ", nulls=overwrite"); break;
    case 2: sqlite3_str_appendall(pStr, ", nulls=keep"); p->bNullsKeep = 1;
            break;
    case 3: sqlite3_str_appendall(pStr, ", NULLS = KEEP"); p->bNullsKeep = 1;
            break;
  }
  p->zOpts = sqlite3_str_finish(pStr);
  if( p->zOpts==0 ) p->zOpts = sqlite3_mprintf("");
}

/* Every row of t_vt or t_nat as text, and what its triggers logged */
static char *content(Diff *p, int iTab){
  static const char *azTab[] = { "t_vt", "t_nat" };
  static const char *azLog[] = { "log_vt", "log_nat" };
  sqlite3_stmt *pStmt = p->apContent[iTab];
  sqlite3 *db = iTab ? p->ndb : p->db;
  char *z;
  if( pStmt==0 ){
    /* One statement: the rows, the log, sqlite_sequence */
    sqlite3_str *pSql = sqlite3_str_new(0);
    const char *zC;
    char *zRow;
    sqlite3_str *pRow = sqlite3_str_new(0);
    for(zC=p->pS->zContent; *zC; zC++){
      if( *zC==',' ) sqlite3_str_appendall(pRow, "||'|'||");
      else sqlite3_str_appendchar(pRow, 1, *zC);
    }
    zRow = sqlite3_str_finish(pRow);
    sqlite3_str_appendf(pSql, "SELECT coalesce((SELECT group_concat(x, char(10))"
        " FROM (SELECT %s AS x FROM %s ORDER BY 1)), '')", zRow, azTab[iTab]);
    if( p->pS->bLog ){
      sqlite3_str_appendf(pSql, " || char(10) || 'log:' || coalesce((SELECT"
          " group_concat(quote(op)||' '||quote(k)||' '||quote(x)||' '||"
          "quote(y), char(10)) FROM (SELECT * FROM %s ORDER BY rowid)), '')",
          azLog[iTab]);
    }
#ifndef FUZZ_DIFF_NO_SEQ
    if( p->pS->bSeq ){
      sqlite3_str_appendf(pSql, " || char(10) || 'seq:' || coalesce((SELECT"
          " quote(seq) FROM sqlite_sequence WHERE name='%s'), '-')",
          azTab[iTab]);
    }
#endif
    z = sqlite3_str_finish(pSql);
    if( sqlite3_prepare_v2(db, z, -1, &pStmt, 0) ){
      fprintf(stderr, "%s\n", z);
      fail(p, "content", sqlite3_errmsg(db));
    }
    sqlite3_free(z);
    sqlite3_free(zRow);
    p->apContent[iTab] = pStmt;
  }
  if( sqlite3_step(pStmt)!=SQLITE_ROW ){
    fail(p, "content", sqlite3_errmsg(db));
  }
  z = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
  sqlite3_reset(pStmt);
  return z;
}

static void compareTables(Diff *p, const char *zWhen){
  char *zVt = content(p, 0);
  char *zNat = content(p, 1);
  if( strcmp(zVt, zNat)!=0 ){
    fail(p, "tables differ", sqlite3_mprintf("%s\nt_vt:\n%s\nt_nat:\n%s",
                                             zWhen, zVt, zNat));
  }
  sqlite3_free(zVt);
  sqlite3_free(zNat);
}

static void compareStats(Diff *p, const char *zWhen){
  sqlite3_stmt *pStmt = 0;
  char *zWant = sqlite3_mprintf(
      "{\"inserted\":%lld,\"updated\":%lld,\"skipped\":%lld}",
      p->n.a[0], p->n.a[1], p->n.a[2]);
  if( p->pStats==0
   && sqlite3_prepare_v2(p->db, "SELECT upsert_into_stats('up')", -1,
                         &p->pStats, 0)!=SQLITE_OK ){
    fail(p, "upsert_into_stats('up') does not prepare", sqlite3_errmsg(p->db));
  }
  pStmt = p->pStats;
  if( sqlite3_step(pStmt)!=SQLITE_ROW ){
    fail(p, "upsert_into_stats('up') failed", sqlite3_errmsg(p->db));
  }
  if( strcmp((const char*)sqlite3_column_text(pStmt, 0), zWant)!=0 ){
    char *z = sqlite3_mprintf("%s: got %s, want %s", zWhen,
                              sqlite3_column_text(pStmt, 0), zWant);
    fail(p, "counts differ", z);
  }
  sqlite3_reset(pStmt);
  sqlite3_free(zWant);
}

/* The outcome of a statement: rc and message */
typedef struct Outcome { int rc; char *zMsg; } Outcome;

/* Conflict modes (eMode) */
#define MODE_PLAIN    0
#define MODE_FAIL     1
#define MODE_IGNORE   2
#define MODE_REPLACE  3
#define MODE_ROLLBACK 4
static const char *azVerb[] = {
  "INSERT", "INSERT OR FAIL", "INSERT OR IGNORE", "INSERT OR REPLACE",
  "INSERT OR ROLLBACK"
};
/* Modes whose native statement is an upsert */
#define IS_UPSERT(e) ((e)==MODE_PLAIN || (e)==MODE_FAIL || (e)==MODE_ROLLBACK)

/*
** Run one row natively, on p->ndb, under mode eMode (MODE_*).  aV[] holds
** the values of the declared columns.  Adds to *pN on success.  Sets
** *pbExisted if the key existed before (for the upsert to find) and
** *peErr to the extended error code.
*/
static Outcome natRow(Diff *p, int eMode, const Val *aV, Counts *pN,
                      int *pbExisted, int *peErr){
  const SDef *pS = p->pS;
  const SKey *pK = p->pK;
  sqlite3_value *apStored[MAXCOL];
  const Val *apKeyVal[3];
  int bExisted = 0;
  int bKeyNull = 0;
  int aLeft[MAXCOL];         /* Declared position left out (nulls=keep) */
  sqlite3_str *pSql;
  sqlite3_stmt *pStmt = 0;
  const char *zSep;
  char *zSql;
  int i, k, nSet = 0;
  Outcome o;

  memset(apStored, 0, sizeof(apStored));
  for(k=0; k<pK->n; k++){
    for(i=0; i<p->nDecl && p->aiDecl[i]!=pK->ai[k]; i++){}
    apKeyVal[k] = &aV[i];
    if( aV[i].t==SQLITE_NULL ) bKeyNull = 1;
  }
  /* Does the key exist?  With the collation of the key's index. */
  if( !bKeyNull ){
    pSql = sqlite3_str_new(0);
    sqlite3_str_appendall(pSql, "SELECT ");
    for(i=0; i<pS->nCol; i++){
      sqlite3_str_appendf(pSql, "%s\"%w\"", i ? "," : "", pS->aCol[i].zName);
    }
    sqlite3_str_appendall(pSql, " FROM t_nat WHERE ");
    for(k=0; k<pK->n; k++){
      sqlite3_str_appendf(pSql, "%s\"%w\"=?%d", k ? " AND " : "",
                          pS->aCol[pK->ai[k]].zName, k+1);
      if( pK->azColl[k] ){
        sqlite3_str_appendf(pSql, " COLLATE %s", pK->azColl[k]);
      }
    }
    zSql = sqlite3_str_finish(pSql);
    if( sqlite3_prepare_v2(p->ndb, zSql, -1, &pStmt, 0) ){
      fail(p, "native lookup", sqlite3_errmsg(p->ndb));
    }
    for(k=0; k<pK->n; k++) bindVal(pStmt, k+1, apKeyVal[k]);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      bExisted = 1;
      for(i=0; i<pS->nCol; i++){
        apStored[i] = sqlite3_value_dup(sqlite3_column_value(pStmt, i));
      }
    }
    sqlite3_finalize(pStmt);
    sqlite3_free(zSql);
  }

  for(i=0; i<p->nDecl; i++){
    aLeft[i] = p->bNullsKeep && !isKey(p, p->aiDecl[i])
            && aV[i].t==SQLITE_NULL;
  }

  /* INSERT INTO t_nat(cols) VALUES(...) */
  pSql = sqlite3_str_new(0);
  sqlite3_str_appendf(pSql, "%s INTO t_nat(", azVerb[eMode]);
  zSep = "";
  for(i=0; i<p->nDecl; i++){
    if( aLeft[i] ) continue;
    sqlite3_str_appendf(pSql, "%s\"%w\"", zSep, pS->aCol[p->aiDecl[i]].zName);
    zSep = ",";
  }
  for(i=0; i<pS->nCol; i++){
    int j;
    if( !pS->aCol[i].bNeed ) continue;
    for(j=0; j<p->nDecl && p->aiDecl[j]!=i; j++){}
    if( j<p->nDecl && !aLeft[j] ) continue;
    sqlite3_str_appendf(pSql, "%s\"%w\"", zSep, pS->aCol[i].zName);
    zSep = ",";
  }
  sqlite3_str_appendall(pSql, ") VALUES(");
  zSep = "";
  for(i=0; i<p->nDecl; i++){
    if( aLeft[i] ) continue;
    sqlite3_str_appendf(pSql, "%s?%d", zSep, i+1);
    zSep = ",";
  }
  for(i=0; i<pS->nCol; i++){
    int j;
    if( !pS->aCol[i].bNeed ) continue;
    for(j=0; j<p->nDecl && p->aiDecl[j]!=i; j++){}
    if( j<p->nDecl && !aLeft[j] ) continue;
    /* the stored value, or NULL for a new key: parameter ?(20+i) */
    sqlite3_str_appendf(pSql, "%s?%d", zSep, 20+i);
    zSep = ",";
  }
  sqlite3_str_appendall(pSql, ")");
  if( IS_UPSERT(eMode) ){
    sqlite3_str_appendall(pSql, " ON CONFLICT(");
    for(k=0; k<pK->n; k++){
      sqlite3_str_appendf(pSql, "%s\"%w\"", k ? "," : "",
                          pS->aCol[pK->ai[k]].zName);
    }
    sqlite3_str_appendall(pSql, ") DO ");
    zSep = "UPDATE SET ";
    for(i=0; i<p->nDecl; i++){
      const char *zC = pS->aCol[p->aiDecl[i]].zName;
      if( aLeft[i] || (p->mUpd & (1u<<p->aiDecl[i]))==0 ) continue;
      sqlite3_str_appendf(pSql, "%s\"%w\"=excluded.\"%w\"", zSep, zC, zC);
      zSep = ",";
      nSet++;
    }
    if( nSet==0 ){
      sqlite3_str_appendall(pSql, "NOTHING");
    }else if( p->zWhere ){
      sqlite3_str_appendf(pSql, " WHERE %s", p->zWhere);
    }
  }
  zSql = sqlite3_str_finish(pSql);
  if( sqlite3_prepare_v2(p->ndb, zSql, -1, &pStmt, 0) ){
    fprintf(stderr, "%s\n", zSql);
    fail(p, "native statement does not prepare", sqlite3_errmsg(p->ndb));
  }
  for(i=0; i<p->nDecl; i++){
    if( !aLeft[i] ) bindVal(pStmt, i+1, &aV[i]);
  }
  for(i=0; i<pS->nCol; i++){
    if( apStored[i] && pS->aCol[i].bNeed ){
      sqlite3_bind_value(pStmt, 20+i, apStored[i]);
    }
  }
  sqlite3_step(pStmt);
  o.rc = sqlite3_reset(pStmt);
  o.zMsg = o.rc ? sqlite3_mprintf("%s", sqlite3_errmsg(p->ndb)) : 0;
  *peErr = o.rc ? sqlite3_extended_errcode(p->ndb) : SQLITE_OK;
  *pbExisted = bExisted;
  if( o.rc==SQLITE_OK ){
    int iC;
    if( sqlite3_changes(p->ndb)==0 ) iC = 2;
    else if( !IS_UPSERT(eMode) ) iC = 0;
    else iC = bExisted ? 1 : 0;
    pN->a[iC]++;
  }
  addLog(p, "  native: %s%s%s", zSql, o.rc ? " -> " : "", o.rc ? o.zMsg : "");
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  for(i=0; i<MAXCOL; i++) sqlite3_value_free(apStored[i]);
  return o;
}

/*
** What a native statement under mode eMode does when a row fails with the
** extended code eErr and message zMsg, its transaction still open
** (SQLITE-QUIRKS.md): 0 to abort, 1 to fail.  A RAISE and a STRICT type
** error carry their own action, and so does a UNIQUE conflict of a row
** whose key existed, for the upsert checks its target first and meets
** the conflict inside DO UPDATE; any other error takes the mode, or under
** a plain INSERT the column's clause (never FAIL here).
*/
static int natFails(int eMode, int eErr, const char *zMsg, int bExisted){
  switch( eErr ){
    case SQLITE_CONSTRAINT_TRIGGER:
      return strcmp(zMsg, "raise fail")==0;
    case SQLITE_CONSTRAINT_DATATYPE:
      return 0;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      if( bExisted && IS_UPSERT(eMode) ) return 0;
      break;
  }
  if( (eErr&0xff)!=SQLITE_CONSTRAINT ) return 0;
  return eMode==MODE_FAIL;
}

/*
** The native side of one statement of mode eMode over rows aaV[0..nRow-1]:
** each row as its own native statement, in a savepoint; the first error
** decides whether the rows before stay (fail), go (abort), or the
** transaction is gone (rollback).  The counts follow.  Returns the
** outcome as the virtual table gives it (see the header).
*/
static Outcome natStmt(Diff *p, int eMode, Val aaV[][MAXCOL], int nRow){
  int bAuto = sqlite3_get_autocommit(p->ndb);
  Counts c = p->n;
  Outcome o;
  int j;
  o.rc = SQLITE_OK;
  o.zMsg = 0;
  execOn(p, p->ndb, "SAVEPOINT nat");
  for(j=0; j<nRow; j++){
    int bExisted = 0, eErr = SQLITE_OK, bFail;
    o = natRow(p, eMode, aaV[j], &c, &bExisted, &eErr);
    if( o.rc==SQLITE_OK ) continue;
    if( sqlite3_get_autocommit(p->ndb) ){
      /* RAISE(ROLLBACK), or a ROLLBACK clause or mode: the transaction
      ** is gone, and the counts go back to where it began */
      if( !bAuto ) p->n = p->txn;
      if( eMode==MODE_IGNORE && (o.rc&0xff)==SQLITE_CONSTRAINT ){
        o.rc = SQLITE_ERROR;
      }
      return o;
    }
    bFail = natFails(eMode, eErr, o.zMsg, bExisted);
    /* Documented: a RAISE(FAIL) outside OR FAIL aborts the statement */
    if( bFail && eMode!=MODE_FAIL ) bFail = 0;
    if( bFail ){
      execOn(p, p->ndb, "RELEASE nat");
      p->n = c;
    }else{
      execOn(p, p->ndb, "ROLLBACK TO nat; RELEASE nat");
    }
    /* Documented: SQLITE_ERROR for an abort of an error with an action of
    ** its own under OR FAIL / OR ROLLBACK, and for any error under OR
    ** IGNORE */
    if( (o.rc&0xff)==SQLITE_CONSTRAINT
     && (eMode==MODE_IGNORE
         || (!bFail && (eMode==MODE_FAIL || eMode==MODE_ROLLBACK))) ){
      o.rc = SQLITE_ERROR;
    }
    return o;
  }
  execOn(p, p->ndb, "RELEASE nat");
  p->n = c;
  return o;
}

/* Rows aaV[0..nRow-1] through "up" in one statement, as VALUES, or as
** SELECT for one row if bSelect */
static Outcome vtRows(Diff *p, int eMode, Val aaV[][MAXCOL], int nRow,
                      int bList, int bSelect){
  sqlite3_str *pSql = sqlite3_str_new(0);
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int i, j;
  Outcome o;
  sqlite3_str_appendf(pSql, "%s INTO up", azVerb[eMode]);
  if( bList ){
    for(i=0; i<p->nDecl; i++){
      sqlite3_str_appendf(pSql, "%s\"%w\"", i ? "," : "(",
                          p->pS->aCol[p->aiDecl[i]].zName);
    }
    sqlite3_str_appendall(pSql, ")");
  }
  sqlite3_str_appendall(pSql, bSelect ? " SELECT " : " VALUES");
  for(j=0; j<nRow; j++){
    if( !bSelect ) sqlite3_str_appendall(pSql, j ? ",(" : "(");
    for(i=0; i<p->nDecl; i++){
      char *z = valText(&aaV[j][i]);
      sqlite3_str_appendf(pSql, "%s?%d /* %s */", i ? "," : "",
                          j*p->nDecl+i+1, z);
      sqlite3_free(z);
    }
    if( !bSelect ) sqlite3_str_appendall(pSql, ")");
  }
  zSql = sqlite3_str_finish(pSql);
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0) ){
    fail(p, "INSERT INTO up does not prepare", sqlite3_errmsg(p->db));
  }
  for(j=0; j<nRow; j++){
    for(i=0; i<p->nDecl; i++) bindVal(pStmt, j*p->nDecl+i+1, &aaV[j][i]);
  }
  sqlite3_step(pStmt);
  o.rc = sqlite3_reset(pStmt);
  o.zMsg = 0;
  addLog(p, "%s", zSql);
  if( o.rc ){
    /* The prefix and the table name aside, the message is the native's */
    const char *z = sqlite3_errmsg(p->db);
    sqlite3_str *pM = sqlite3_str_new(0);
    if( strncmp(z, "upsert_into: ", 13)==0 ) z += 13;
    for(; *z; z++){
      if( strncmp(z, "t_vt", 4)==0 ){
        sqlite3_str_appendall(pM, "t_nat");
        z += 3;
      }else{
        sqlite3_str_appendchar(pM, 1, *z);
      }
    }
    o.zMsg = sqlite3_str_finish(pM);
    addLog(p, "  -> %s", o.zMsg);
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return o;
}

static void compareOutcome(Diff *p, Outcome *pVt, Outcome *pNat){
  if( (pVt->rc==SQLITE_OK)!=(pNat->rc==SQLITE_OK)
   || (pVt->rc && ((pVt->rc&0xff)!=(pNat->rc&0xff)
                   || strcmp(pVt->zMsg, pNat->zMsg)!=0)) ){
    char *z = sqlite3_mprintf("vtab: %d %s / native: %d %s",
        pVt->rc, pVt->zMsg ? pVt->zMsg : "ok",
        pNat->rc, pNat->zMsg ? pNat->zMsg : "ok");
    fail(p, "outcomes differ", z);
  }
  sqlite3_free(pVt->zMsg);
  sqlite3_free(pNat->zMsg);
}

/* A control operation: transactions and savepoints */
static void control(Diff *p, unsigned b){
  int bAuto = sqlite3_get_autocommit(p->db);
  char zSql[40];
  switch( b%6 ){
    case 0:
      if( !bAuto ) return;
      execBoth(p, "BEGIN");
      p->txn = p->n;
      addLog(p, "BEGIN");
      break;
    case 1:
      if( bAuto ) return;
      execBoth(p, "COMMIT");
      p->nSp = 0;
      addLog(p, "COMMIT");
      break;
    case 2:
      if( bAuto ) return;
      execBoth(p, "ROLLBACK");
      p->n = p->txn;
      p->nSp = 0;
      addLog(p, "ROLLBACK");
      break;
    case 3:
      if( p->nSp>=4 ) return;
      if( bAuto ){
        p->txn = p->n;
        if( p->nSp!=0 ) fail(p, "savepoint bookkeeping", 0);
        p->bSpTxn = 1;
      }else if( p->nSp==0 ){
        p->bSpTxn = 0;
      }
      sqlite3_snprintf(sizeof(zSql), zSql, "SAVEPOINT s%d", p->nSp);
      execBoth(p, zSql);
      addLog(p, "%s", zSql);
      p->aSp[p->nSp++] = p->n;
      break;
    case 4: {
      int k;
      if( p->nSp==0 ) return;
      k = (b>>3) % p->nSp;
      sqlite3_snprintf(sizeof(zSql), zSql, "ROLLBACK TO s%d", k);
      execBoth(p, zSql);
      addLog(p, "%s", zSql);
      p->n = p->aSp[k];
      p->nSp = k+1;
      break;
    }
    default: {
      int k;
      if( p->nSp==0 ) return;
      k = (b>>3) % p->nSp;
      sqlite3_snprintf(sizeof(zSql), zSql, "RELEASE s%d", k);
      execBoth(p, zSql);
      addLog(p, "%s", zSql);
      p->nSp = k;
      break;
    }
  }
  /* The transaction ended: no savepoint is left */
  if( sqlite3_get_autocommit(p->db) ) p->nSp = 0;
}

/* Order-free hash of the rows of zSql, values bound from aV */
static uint64_t hashRows(Diff *p, const char *zSql, const Val *aV, int nV,
                         int *pn){
  sqlite3_stmt *pStmt = 0;
  uint64_t hAll = 0;
  int i;
  *pn = 0;
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0) ){
    fprintf(stderr, "%s\n", zSql);
    fail(p, "read statement does not prepare", sqlite3_errmsg(p->db));
  }
  for(i=0; i<nV; i++) bindVal(pStmt, i+1, &aV[i]);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    uint64_t h = 1469598103934665603ULL;
    for(i=0; i<sqlite3_column_count(pStmt); i++){
      const unsigned char *z;
      int n, j;
      h = (h ^ (uint64_t)sqlite3_column_type(pStmt, i)) * 1099511628211ULL;
      z = sqlite3_column_blob(pStmt, i);
      n = sqlite3_column_bytes(pStmt, i);
      for(j=0; j<n; j++) h = (h ^ z[j]) * 1099511628211ULL;
      h = (h ^ 0xff) * 1099511628211ULL;
    }
    hAll += h;
    (*pn)++;
  }
  if( sqlite3_finalize(pStmt) ){
    fail(p, "read statement failed", sqlite3_errmsg(p->db));
  }
  return hAll;
}

static void compareLookup(Diff *p, const char *zA, const char *zB,
                          const Val *aKey){
  int nA, nB;
  uint64_t h1 = hashRows(p, zA, aKey, p->pK->n, &nA);
  uint64_t h2 = hashRows(p, zB, aKey, p->pK->n, &nB);
  if( h1!=h2 || nA!=nB ){
    char *z = sqlite3_mprintf("%s: %d rows, %s: %d rows", zA, nA, zB, nB);
    fail(p, "lookup through up differs", z);
  }
}

/* Reads through "up": a scan, and a lookup on the key of each row, each
** against the same read of t_vt (compared as declared: BINARY) */
static void compareReads(Diff *p){
  const SDef *pS = p->pS;
  sqlite3_str *pA = sqlite3_str_new(0);
  sqlite3_str *pB = sqlite3_str_new(0);
  sqlite3_stmt *pStmt = 0;
  char *zA, *zB, *zRows;
  int i, k, nA, nB;
  sqlite3_str_appendall(pA, "SELECT ");
  for(i=0; i<p->nDecl; i++){
    sqlite3_str_appendf(pA, "%s\"%w\"", i ? "," : "",
                        pS->aCol[p->aiDecl[i]].zName);
  }
  sqlite3_str_appendall(pB, sqlite3_str_value(pA));
  sqlite3_str_appendall(pA, " FROM up");
  sqlite3_str_appendall(pB, " FROM t_vt");
  zRows = sqlite3_mprintf("%s", sqlite3_str_value(pB));
  for(k=0; k<p->pK->n; k++){
    const char *zC = pS->aCol[p->pK->ai[k]].zName;
    sqlite3_str_appendf(pA, "%s\"%w\"=?%d", k ? " AND " : " WHERE ", zC, k+1);
    sqlite3_str_appendf(pB, "%s\"%w\"=?%d COLLATE BINARY", k ? " AND " : " WHERE ",
                        zC, k+1);
  }
  zA = sqlite3_str_finish(pA);
  zB = sqlite3_str_finish(pB);
  {
    /* the scan: the statement text up to WHERE */
    char *zScanA = sqlite3_mprintf("%.*s", (int)(strstr(zA, " WHERE ")-zA), zA);
    uint64_t h1 = hashRows(p, zScanA, 0, 0, &nA);
    uint64_t h2 = hashRows(p, zRows, 0, 0, &nB);
    if( h1!=h2 || nA!=nB ) fail(p, "SELECT * FROM up differs from t_vt", 0);
    sqlite3_free(zScanA);
  }
  /* a lookup for the key of every row, and for a few keys that do not
  ** exist */
  if( sqlite3_prepare_v2(p->db, zRows, -1, &pStmt, 0) ) fail(p, "rows", 0);
  for(i=0; ; i++){
    Val aKey[3];
    int bRow = sqlite3_step(pStmt)==SQLITE_ROW;
    if( !bRow ) break;
    for(k=0; k<p->pK->n; k++){
      int j;
      sqlite3_value *pV;
      for(j=0; p->aiDecl[j]!=p->pK->ai[k]; j++){}
      pV = sqlite3_column_value(pStmt, j);
      memset(&aKey[k], 0, sizeof(Val));
      aKey[k].t = sqlite3_value_type(pV);
      aKey[k].i = sqlite3_value_int64(pV);
      aKey[k].r = sqlite3_value_double(pV);
      if( aKey[k].t==SQLITE_TEXT || aKey[k].t==SQLITE_BLOB ){
        aKey[k].z = (const char*)sqlite3_value_blob(pV);
        aKey[k].n = sqlite3_value_bytes(pV);
        if( aKey[k].z==0 ) aKey[k].z = "";
      }
    }
    compareLookup(p, zA, zB, aKey);
  }
  /* and keys that may not exist */
  for(i=0; i<4; i++){
    Val aKey[3];
    for(k=0; k<p->pK->n; k++){
      makeVal(&aKey[k], p->pS->aCol[p->pK->ai[k]].eDom, (unsigned)(i*37+k*11));
    }
    compareLookup(p, zA, zB, aKey);
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zA);
  sqlite3_free(zB);
  sqlite3_free(zRows);
}

const char *__asan_default_options(void){
  return "quarantine_size_mb=16";
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  Diff d;
  Diff *p = &d;
  char *zSql;
  int iOp;

  if( nData>1024 ) return 0;
  memset(&d, 0, sizeof(d));
  d.aIn = aData;
  d.nIn = nData;
  if( sqlite3_open(":memory:", &d.db)!=SQLITE_OK ) abort();
  if( sqlite3_open(":memory:", &d.ndb)!=SQLITE_OK ) abort();
  {
    static const char *azEnc[] = {
      "PRAGMA encoding='UTF-8'", "PRAGMA encoding='UTF-16le'",
      "PRAGMA encoding='UTF-16be'"
    };
    if( sqlite3_exec(d.db, azEnc[nData%3], 0, 0, 0)!=SQLITE_OK ) abort();
    if( sqlite3_exec(d.ndb, azEnc[nData%3], 0, 0, 0)!=SQLITE_OK ) abort();
  }
  sqlite3_limit(d.db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_db_config(d.db, SQLITE_DBCONFIG_LOOKASIDE, 0, 0, 0);
  if( sqlite3_upsert_init(d.db, 0, 0)!=SQLITE_OK ) abort();

  chooseOptions(p);
  zSql = schemaDdl(p, "t_vt", "log_vt");
  addLog(p, "%s", zSql);
  exec(p, zSql);
  sqlite3_free(zSql);
  zSql = schemaDdl(p, "t_nat", "log_nat");
  execOn(p, d.ndb, zSql);
  sqlite3_free(zSql);
  zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE temp.up USING"
                         " upsert_into(t_vt%s)", p->zOpts);
  addLog(p, "%s", zSql);
  exec(p, zSql);
  sqlite3_free(zSql);

  for(iOp=0; iOp<MAXOP && p->iIn<p->nIn; iOp++){
    unsigned op = byte(p);
    Val aaV[MAXROW][MAXCOL];
    int nRow = 1, eMode = MODE_PLAIN, bSelect = 0, i, j;
    Outcome oVt, oNat;
    if( op%16==OP_CONTROL ){
      control(p, byte(p));
      compareTables(p, "after a control statement");
      compareStats(p, "after a control statement");
      continue;
    }
    switch( op%16 ){
      case 9:  eMode = MODE_ROLLBACK; break;
      case 10: eMode = MODE_FAIL; break;
      case 11: eMode = MODE_IGNORE; break;
      case 12: eMode = MODE_REPLACE; break;
      case 13: nRow = 2 + (op>>4)%3; eMode = ((op>>4)/3)%5; break;
      case 15: nRow = 2 + (op>>4)%3; eMode = MODE_IGNORE; break;
    }
    if( nRow>1 && eMode==MODE_FAIL && p->pS->bSeq ){
      /* Left out: see the header */
      eMode = MODE_PLAIN;
    }
    if( nRow==1 && p->bRaiseFail && eMode!=MODE_FAIL
     && !sqlite3_get_autocommit(p->db) ){
      /* Left out: see the header */
      bSelect = 1;
    }
    for(j=0; j<nRow; j++){
      for(i=0; i<p->nDecl; i++){
        makeVal(&aaV[j][i], p->pS->aCol[p->aiDecl[i]].eDom, byte(p));
      }
    }
    oVt = vtRows(p, eMode, aaV, nRow, nRow>1 || bSelect || ((op>>4)&1),
                 bSelect);
    oNat = natStmt(p, eMode, aaV, nRow);
    compareOutcome(p, &oVt, &oNat);
    if( sqlite3_get_autocommit(p->db)!=sqlite3_get_autocommit(p->ndb) ){
      fail(p, "one side is in a transaction, the other not",
           sqlite3_get_autocommit(p->db) ? "t_nat's is open, t_vt's not"
                                         : "t_vt's is open, t_nat's not");
    }
    if( sqlite3_get_autocommit(p->db) ) p->nSp = 0;
    compareTables(p, "after a row");
    compareStats(p, "after a row");
  }
  if( !sqlite3_get_autocommit(d.db) ){
    execBoth(p, "COMMIT");
    p->nSp = 0;
    addLog(p, "COMMIT");
  }
  compareTables(p, "at the end");
  compareStats(p, "at the end");
  compareReads(p);
  {
    sqlite3_stmt *pStmt = 0;
    sqlite3_prepare_v2(d.db, "PRAGMA integrity_check", -1, &pStmt, 0);
    if( sqlite3_step(pStmt)!=SQLITE_ROW
     || strcmp((const char*)sqlite3_column_text(pStmt, 0), "ok")!=0 ){
      fail(p, "integrity_check", (const char*)sqlite3_column_text(pStmt, 0));
    }
    sqlite3_finalize(pStmt);
  }
  sqlite3_finalize(d.apContent[0]);
  sqlite3_finalize(d.apContent[1]);
  sqlite3_finalize(d.pStats);
  exec(p, "DROP TABLE up");
  sqlite3_free(d.zWhere);
  sqlite3_free(d.zOpts);
  sqlite3_free(d.zLog);
  if( sqlite3_close(d.db)!=SQLITE_OK ) fail(0, "sqlite3_close: busy", 0);
  if( sqlite3_close(d.ndb)!=SQLITE_OK ) fail(0, "sqlite3_close: busy", 0);
  return 0;
}
