/*
** sqlite-upsert: bulk-upsert a CSV, TSV, JSON or JSON lines file into a
** table of a SQLite database, through the upsert_into virtual table
** (ext/upsert.c, compiled in).  See README.md, "Command line".
**
**   sqlite-upsert data.db posts posts.csv
**   sqlite-upsert data.db users users.jsonl --key email --keep created_at
**   curl ... | sqlite-upsert data.db events - --json --create --key id
**
** Build (make dist/sqlite-upsert):
**
**   cc -O2 -DSQLITE_CORE tool/sqlite-upsert/sqlite-upsert.c ext/upsert.c \
**      -lsqlite3 -lcsv -lyajl -o sqlite-upsert
**
** How it works.  The input's columns (the CSV header, or the keys of the
** JSON objects) become the virtual table's columns=; the flags become its
** key=, update=, keep= and nulls= options:
**
**   CREATE VIRTUAL TABLE temp.upsert_cli_in USING upsert_into(main."posts",
**     columns=("id","title"), key=("id"));
**
** Every record is then bound to one prepared INSERT INTO ... VALUES(?,...)
** and stepped: no SQL text per row.  The whole input is one transaction
** (BEGIN IMMEDIATE ... COMMIT), or one per --batch N rows, with foreign
** keys enforced (unless --no-foreign-keys) and deferred to each COMMIT.
** SIGINT and SIGTERM make the run fail as an error does (cliOnSignal).
** --delete-missing keeps each record's key in a temp table and, at the
** end, deletes the rows of the table that have none there
** (cliSeenSetup, cliDeleteMissing); --dry-run rolls back instead of the
** COMMIT.
**
** Formats.  CSV and TSV are parsed by libcsv in strict mode (RFC 4180
** quoting, embedded newlines; a UTF-8 BOM is skipped).  An empty unquoted
** field is NULL, "" is the empty string; text takes the affinity of the
** column it goes to.  JSON (an array of objects) and JSON lines (an object
** per line) are parsed by SQLite's json_each(): values keep their JSON
** types.  The columns of a JSON input are the union of the keys of all its
** objects; a key an object lacks is NULL.  A JSON array is streamed: yajl
** (Debian's libyajl-dev) parses it a chunk at a time and its callbacks
** cut out each element (cliJsonRun), which is then parsed on its own as
** a line of JSON lines is.  JSON, JSON lines,
** --create and --alter read the input twice (once to find the columns and
** their types), so standard input is spooled to a temporary file for
** them.
**
** Positions.  Errors in a record name its first line, file:line, for CSV,
** TSV and JSON lines, and its index, file:$[i], in a JSON array; a syntax
** error in a JSON array also names the byte where yajl found it (SQLite
** 3.40 reports no position inside a JSON text).
**
** Memory.  What is held is the widest record or the largest JSON element,
** whatever the size of the input (a JSON top level that is no array is
** read whole, for the message that says what it is).  The hot path (one
** CSV record) makes no heap allocation once the row buffer has grown to
** the widest record: fields are copied into one reused buffer and bound
** with SQLITE_STATIC.
*/
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <csv.h>
#include <yajl/yajl_parse.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

#ifndef UPSERT_VERSION
# define UPSERT_VERSION "0.1.0"     /* of the extension and the tool */
#endif

#define PROG "sqlite-upsert"
#define VTAB "upsert_cli_in"        /* the temp virtual table's name */
#define SEEN "upsert_cli_seen"      /* --delete-missing: the input's keys */
#define CHUNK (256*1024)            /* bytes read at a time */
#define PROGRESS_DELAY 1.0          /* seconds before progress is shown */
#define PROGRESS_EVERY 0.25         /* seconds between progress updates */
#define NAME_SHOWN 80               /* bytes of a name quoted in a message */
#define NAMES_SHOWN 10              /* names listed in one message */

/* Input formats */
#define FMT_NONE  0
#define FMT_CSV   1
#define FMT_TSV   2
#define FMT_JSON  3
#define FMT_JSONL 4

/* What a column's values were seen to be, for --create (Column.mSeen) */
#define SEEN_INT  0x01              /* an integer */
#define SEEN_REAL 0x02              /* a real number */
#define SEEN_TEXT 0x04              /* text that is no number, or JSON text */
#define SEEN_BIG  0x08              /* an integer a double cannot hold */

typedef struct Value Value;
typedef struct Column Column;
typedef struct Cli Cli;

/* One value of the current record.  Text lives in Cli.aBuf. */
struct Value {
  int eType;                  /* SQLITE_NULL, _INTEGER, _FLOAT or _TEXT */
  sqlite3_int64 i;            /* INTEGER: the value; TEXT: offset in aBuf */
  sqlite3_int64 n;            /* TEXT: bytes */
  double r;                   /* FLOAT: the value */
};

/* One column of the input */
struct Column {
  char *zName;                /* name, from the header or a JSON key */
  int mSeen;                  /* SEEN_* flags, for --create */
  sqlite3_int64 iObj;         /* JSON: the last object (Cli.nRec) with it */
};

struct Cli {
  /* Command line */
  const char *zDb;            /* database file */
  char *zTable;               /* backing table, dequoted, in schema main
                              ** (sqlite3_malloc'd) */
  const char *zFile;          /* input file, or "-" for standard input */
  int eFmt;                   /* FMT_* */
  char *zKey;                 /* --key list, or NULL (sqlite3_malloc'd) */
  char *zUpdate;              /* --update list, or NULL (sqlite3_malloc'd) */
  char *zKeep;                /* --keep list, or NULL (sqlite3_malloc'd) */
  const char *zNulls;         /* --nulls value, or NULL */
  int bCreate;                /* --create */
  int bNoFk;                  /* --no-foreign-keys */
  int bQuiet;                 /* --quiet */
  int bFillShort;             /* --fill-short */
  int bIgnoreExtra;           /* --ignore-extra */
  int bEmptyString;           /* --empty-string */
  int bAlter;                 /* --alter */
  int bSkipSame;              /* --skip-unchanged */
  int bDryRun;                /* --dry-run */
  int bDeleteMissing;         /* --delete-missing */
  int bAllowEmpty;            /* --allow-empty */
  sqlite3_int64 nBatch;       /* --batch N, or 0 */

  /* Input */
  FILE *in;                   /* the input */
  const char *zName;          /* its name in messages */
  sqlite3_int64 szIn;         /* its size in bytes, or -1 if unknown */
  int bSized;                 /* it is a regular file, its size known
                              ** before any of it was read (not spooled):
                              ** progress gives a percentage */
  sqlite3_int64 iInStart;     /* offset of its first byte in the file */
  sqlite3_int64 nIn;          /* bytes consumed so far */
  char *aChunk;               /* read buffer, CHUNK bytes (or more, JSONL) */
  size_t nChunkAlloc;         /* bytes allocated at aChunk */

  /* Columns and the current record */
  int nCol;                   /* columns of the input */
  Column *aCol;               /* nCol columns */
  int nColAlloc;              /* allocated entries of aCol */
  int nColMax;                /* SQLITE_LIMIT_COLUMN: the most a table has */
  int nVal;                   /* values in the current record */
  Value *aVal;                /* its values */
  int nValAlloc;              /* allocated entries of aVal */
  char *aBuf;                 /* its text */
  size_t nBuf;                /* bytes used in aBuf */
  size_t nBufAlloc;           /* bytes allocated at aBuf */
  int bHeader;                /* CSV: the header has been read */
  int bInfer;                 /* this pass only finds columns and types */
  sqlite3_int64 nRec;         /* JSON: objects seen by the inference pass */

  /* Positions */
  sqlite3_int64 iLine;        /* line being read (1-based) */
  sqlite3_int64 iRecLine;     /* first line of the current record, or 0 */
  sqlite3_int64 iElem;        /* JSON array: index of the current element */
  sqlite3_int64 iElemAt;      /* JSON array: the byte where it starts,
                              ** counted from 1 */
  sqlite3_int64 nRow;         /* data rows written so far */
  sqlite3_int64 nRowDone;     /* rows committed (--batch) */
  sqlite3_int64 iDonePos;     /* position (cliPosNum) of the last row
                              ** committed */

  /* Database */
  sqlite3 *db;                /* the connection */
  sqlite3_stmt *pIns;         /* INSERT INTO temp.upsert_cli_in VALUES(...) */
  sqlite3_stmt *pReal;        /* SELECT CAST(?1 AS REAL), for cliCsvRealExact */
  sqlite3_stmt *pSeen;        /* --delete-missing: INSERT INTO temp.SEEN */
  int nKey;                   /* --delete-missing: columns of the key */
  int *aiKey;                 /* the input column of each */
  char *zDelete;              /* the DELETE of the rows the input lacks */
  sqlite3_int64 nDeleted;     /* rows it deleted */
  int bTableExists;           /* the backing table existed at the start */
  int bTxn;                   /* a transaction is open */
  int bNewDb;                 /* the database file did not exist */
  char *zDbPath;              /* bNewDb: the file created (sqlite3_malloc'd),
                              ** symbolic links resolved */

  /* Progress */
  int bTty;                   /* standard error is a terminal */
  double tStart;              /* when the run started */
  double tNext;               /* when progress is next shown */
  int bShown;                 /* progress was shown */

  /* Result */
  int rc;                     /* 0, or the exit status once an error is set */
  char *zErr;                 /* the first error (sqlite3_malloc'd) */
};

/*
** SIGINT and SIGTERM.  The handler does only what is safe in one: it
** records the signal and calls sqlite3_interrupt(), which sets a flag (as
** the sqlite3 shell's handler does), so that a statement running stops.
** The run then sees cliSignal between records and between reads, fails
** as on any error (ROLLBACK, the file --create made removed) and exits
** 128+signal.  A second signal kills at once (SA_RESETHAND).
*/
static volatile sig_atomic_t cliSignal = 0;   /* the signal, or 0 */
static sqlite3 *volatile cliSignalDb = 0;     /* for sqlite3_interrupt() */

static void cliOnSignal(int sig){
  cliSignal = sig;
  if( cliSignalDb ) sqlite3_interrupt(cliSignalDb);
}

/* Install cliOnSignal, but leave a signal that was ignored ignored (as a
** shell does for SIGINT to a background job).  No SA_RESTART: a read
** that waits on a pipe returns at once. */
static void cliCatchSignals(void){
  static const int aSig[] = { SIGINT, SIGTERM };
  size_t i;
  for(i=0; i<sizeof(aSig)/sizeof(aSig[0]); i++){
    struct sigaction sa, old;
    if( sigaction(aSig[i], 0, &old)==0 && old.sa_handler==SIG_IGN ) continue;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cliOnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(aSig[i], &sa, 0);
  }
}

/* Busy handler: wait for a lock up to 5 s, as sqlite3_busy_timeout(5000)
** would, but not once a signal has come. */
static int cliBusy(void *pArg, int nCall){
  (void)pArg;
  if( cliSignal || nCall>=500 ) return 0;
  sqlite3_sleep(10);
  return 1;
}

/* Seconds since some fixed point. */
static double cliNow(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec/1e9;
}

/*
** Record an error, formatted, unless one is recorded already.  The message
** is printed at the end, after "sqlite-upsert: ".  Exit status 1.  After
** a signal, whatever failed (a read, SQLITE_INTERRUPT) failed because of
** it: the error is the signal, and the exit status 128+signal.
*/
static void cliError(Cli *p, const char *zFmt, ...){
  va_list ap;
  if( p->rc ) return;
  va_start(ap, zFmt);
  p->zErr = sqlite3_vmprintf(zFmt, ap);   /* even if unused: frees %z */
  va_end(ap);
  p->rc = 1;
  if( cliSignal ){
    sqlite3_free(p->zErr);
    p->zErr = sqlite3_mprintf("interrupted by %s",
                              cliSignal==SIGINT ? "SIGINT" : "SIGTERM");
    p->rc = 128 + cliSignal;
  }
}

/* Fail if a signal has come; returns the error status, or 0. */
static int cliInterrupted(Cli *p){
  if( cliSignal ) cliError(p, "interrupted");
  return p->rc;
}

/* Record "out of memory". */
static void cliNomem(Cli *p){
  cliError(p, "out of memory");
}

/*
** The position of the current record: its first line for a line-based
** format, its index for an element of a JSON array.
*/
static sqlite3_int64 cliPosNum(Cli *p){
  if( p->eFmt==FMT_JSON ) return p->iElem;
  return p->iRecLine ? p->iRecLine : p->iLine;
}

/*
** Position i (from cliPosNum) for messages, sqlite3_malloc'd: "data.csv:12"
** for a line-based format, "data.json:$[3]" for an element of a JSON
** array.  NULL on OOM, which %z prints as nothing.  Made to measure, as a
** path can be of any length.
*/
static char *cliPosText(Cli *p, sqlite3_int64 i){
  return sqlite3_mprintf(p->eFmt==FMT_JSON ? "%s:$[%lld]" : "%s:%lld",
                         p->zName, (long long)i);
}

/* Record an error at the position of the current record. */
static void cliErrorAt(Cli *p, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  if( p->rc ) return;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zMsg==0 ){ cliNomem(p); return; }
  cliError(p, "%z: %z", cliPosText(p, cliPosNum(p)), zMsg);
}

/*
** Append name z, n bytes, to pStr quoted for a message: 'name', with a NUL
** byte written \u0000, and a name longer than NAME_SHOWN bytes cut at a
** character boundary and ended by "...", so that a message stays short
** whatever the input holds.
*/
static void cliAppendName(sqlite3_str *pStr, const char *z, int n){
  int i, nShow = n;
  if( nShow>NAME_SHOWN ){
    nShow = NAME_SHOWN;
    while( nShow>0 && (z[nShow]&0xc0)==0x80 ) nShow--;
  }
  sqlite3_str_appendchar(pStr, 1, '\'');
  for(i=0; i<nShow; i++){
    if( z[i]==0 ) sqlite3_str_appendall(pStr, "\\u0000");
    else sqlite3_str_appendchar(pStr, 1, z[i]);
  }
  sqlite3_str_appendall(pStr, nShow<n ? "...'" : "'");
}

/* Name z (nul-terminated if n<0) quoted for a message, as cliAppendName
** writes it; sqlite3_malloc'd, for %z.  NULL on OOM. */
static char *cliName(const char *z, int n){
  sqlite3_str *pStr = sqlite3_str_new(0);
  cliAppendName(pStr, z, n<0 ? (int)strlen(z) : n);
  return sqlite3_str_finish(pStr);
}

/* Run SQL with no result rows; on failure record the error. */
static int cliExec(Cli *p, const char *zSql){
  int rc;
  if( p->rc ) return p->rc;
  rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
  if( rc!=SQLITE_OK ) cliError(p, "%s", sqlite3_errmsg(p->db));
  return p->rc;
}

/* ---------------------------------------------------------------------
** The current record: values appended one at a time, then bound.
*/

/* Make room for at least n values; 0 on success. */
static int cliRowReserve(Cli *p, int n){
  if( n>p->nValAlloc ){
    int nNew = p->nValAlloc ? p->nValAlloc*2 : 16;
    Value *aNew;
    while( nNew<n ) nNew *= 2;
    aNew = realloc(p->aVal, sizeof(Value)*(size_t)nNew);
    if( aNew==0 ){ cliNomem(p); return 1; }
    p->aVal = aNew;
    p->nValAlloc = nNew;
  }
  return 0;
}

/* Copy n bytes of text into aBuf; returns their offset, or -1 on OOM. */
static sqlite3_int64 cliRowText(Cli *p, const char *z, size_t n){
  size_t iOff = p->nBuf;
  if( p->nBuf+n+1>p->nBufAlloc ){
    size_t nNew = p->nBufAlloc ? p->nBufAlloc*2 : 4096;
    char *aNew;
    while( nNew<p->nBuf+n+1 ) nNew *= 2;
    aNew = realloc(p->aBuf, nNew);
    if( aNew==0 ){ cliNomem(p); return -1; }
    p->aBuf = aNew;
    p->nBufAlloc = nNew;
  }
  if( n ) memcpy(p->aBuf+iOff, z, n);
  p->aBuf[iOff+n] = 0;
  p->nBuf += n+1;
  return (sqlite3_int64)iOff;
}

/* Empty the current record, leaving nCol NULL values (JSON). */
static void cliRowClear(Cli *p, int nCol){
  int i;
  p->nBuf = 0;
  p->nVal = 0;
  if( cliRowReserve(p, nCol) ) return;
  for(i=0; i<nCol; i++) p->aVal[i].eType = SQLITE_NULL;
  p->nVal = nCol;
}

/* The text of value i of the current record. */
static const char *cliRowZ(Cli *p, int i){
  return p->aBuf + p->aVal[i].i;
}

/* ---------------------------------------------------------------------
** Columns
*/

/* Index of column zName (case-insensitive, as SQL names), or -1.  Tries
** iHint first: JSON objects usually list their keys in the same order. */
static int cliColFind(Cli *p, const char *zName, int iHint){
  int i;
  if( iHint>=0 && iHint<p->nCol
   && sqlite3_stricmp(p->aCol[iHint].zName, zName)==0 ){
    return iHint;
  }
  for(i=0; i<p->nCol; i++){
    if( sqlite3_stricmp(p->aCol[i].zName, zName)==0 ) return i;
  }
  return -1;
}

/* Append a column; returns its index, or -1 on OOM. */
static int cliColAdd(Cli *p, const char *zName){
  if( p->nCol>=p->nColAlloc ){
    int nNew = p->nColAlloc ? p->nColAlloc*2 : 16;
    Column *aNew = realloc(p->aCol, sizeof(Column)*(size_t)nNew);
    if( aNew==0 ){ cliNomem(p); return -1; }
    p->aCol = aNew;
    p->nColAlloc = nNew;
  }
  p->aCol[p->nCol].zName = sqlite3_mprintf("%s", zName);
  p->aCol[p->nCol].mSeen = 0;
  p->aCol[p->nCol].iObj = 0;
  if( p->aCol[p->nCol].zName==0 ){ cliNomem(p); return -1; }
  return p->nCol++;
}

/* 1 if a double holds integer i exactly: a REAL column keeps its value. */
static int cliIntFitsReal(sqlite3_int64 i){
  double r = (double)i;
  if( r>=9223372036854775808.0 ) return 0;   /* rounded up past the end */
  return (sqlite3_int64)r==i;
}

/*
** 1 if CSV real text z (n bytes, nul-terminated, a valid decimal as
** cliCsvNumType checks it) is kept by a REAL column: the double SQLite reads
** it as, printed with as many significant digits as z has, gives z's
** digits and exponent back.  So "1.50", "1.5e3" and "0.1" are kept (the
** written form aside), but not "1e-400" (0.0), "9007199254740993.0" or
** "0.1000000000000000000001".  The double is SQLite's own, read through
** CAST as REAL affinity reads it, as SQLite 3.40 does not always round to
** the nearest; a subnormal one counts as not kept, for the same reason.
*/
static int cliCsvRealExact(Cli *p, const char *z, size_t n){
  char aDig[400];               /* significant digits of z */
  char aOut[440];               /* the double, printed */
  int nDig = 0, nLead = 0, nInt = 0, iExp = 0, bInt = 1, bSeen = 0;
  int iExpOut, i;
  size_t k;
  double r;
  for(k=0; k<n; k++){
    char c = z[k];
    if( c=='-' ) continue;
    if( c=='.' ){ bInt = 0; continue; }
    if( c=='e' || c=='E' ){ iExp = atoi(z+k+1); break; }
    if( bInt ) nInt++;
    if( c=='0' && !bSeen ){ nLead++; continue; }
    bSeen = 1;
    aDig[nDig++] = c;
  }
  while( nDig>0 && aDig[nDig-1]=='0' ) nDig--;
  if( nDig==0 ) return 1;                    /* zero */
  /* z is d.ddd times 10 to the power iExp */
  iExp += nInt - nLead - 1;
  if( nDig<=15 && iExp>=-307 && iExp<=307 ){
    /* DBL_DIG: 15 significant digits survive a normal double, and an
    ** ulp off the nearest, as SQLite's reading may be, cannot change
    ** them. */
    return 1;
  }
  if( p->pReal==0
   && sqlite3_prepare_v2(p->db, "SELECT CAST(?1 AS REAL)", -1, &p->pReal, 0)
  ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
    return 0;
  }
  sqlite3_bind_text(p->pReal, 1, z, (int)n, SQLITE_STATIC);
  r = sqlite3_step(p->pReal)==SQLITE_ROW ? sqlite3_column_double(p->pReal, 0)
                                         : 0.0;
  sqlite3_reset(p->pReal);
  if( r<0.0 ) r = -r;
  if( !isfinite(r) || r<DBL_MIN ) return 0;
  snprintf(aOut, sizeof(aOut), "%.*e", nDig-1, r);
  if( aOut[0]!=aDig[0] ) return 0;
  for(i=1; i<nDig; i++){
    if( aOut[i+1]!=aDig[i] ) return 0;       /* aOut is d.ddd...e+XX */
  }
  iExpOut = atoi(aOut + (nDig>1 ? nDig+2 : 2));
  return iExpOut==iExp;
}

/*
** What CSV text z (n bytes) would be as a number: SEEN_INT for a decimal
** integer that fits in 64 bits without a leading zero or '+' (with
** SEEN_BIG if a double cannot hold it), SEEN_REAL for a decimal with a
** fraction or exponent that a double holds as written (cliCsvRealExact),
** SEEN_TEXT otherwise.  Strict, so that a column inferred INTEGER, REAL
** or NUMERIC loses nothing on the way in but the written form of a real
** ("1.50" is stored as 1.5): "007", "+1", " 1", "1e999", "1e-400", "0x10"
** and "12345678901234567890" are TEXT.
*/
static int cliCsvNumType(Cli *p, const char *z, size_t n){
  size_t i = 0, nDigit;
  int bReal = 0;
  if( i<n && z[i]=='-' ) i++;
  nDigit = i;
  while( i<n && z[i]>='0' && z[i]<='9' ) i++;
  nDigit = i - nDigit;
  if( nDigit==0 ) return SEEN_TEXT;
  if( nDigit>1 && z[i-nDigit]=='0' ) return SEEN_TEXT;
  if( i<n && z[i]=='.' ){
    size_t j = ++i;
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
    if( i==j ) return SEEN_TEXT;
    bReal = 1;
  }
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    size_t j;
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) i++;
    j = i;
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
    if( i==j || i-j>3 ) return SEEN_TEXT;
    bReal = 1;
  }
  if( i!=n ) return SEEN_TEXT;
  if( bReal ){
    if( n>=400 ) return SEEN_TEXT;
    return cliCsvRealExact(p, z, n) ? SEEN_REAL : SEEN_TEXT;
  }
  if( nDigit>19 ) return SEEN_TEXT;
  if( nDigit==19 && memcmp(z+(z[0]=='-'), z[0]=='-' ? "9223372036854775808"
                                    : "9223372036854775807", 19)>0 ){
    return SEEN_TEXT;           /* past the limits of a 64-bit integer */
  }
  if( nDigit<16 ) return SEEN_INT;         /* below 2^53 */
  return cliIntFitsReal(strtoll(z, 0, 10)) ? SEEN_INT : SEEN_INT|SEEN_BIG;
}

/*
** The declared type --create gives a column seen as mSeen.  Each keeps
** every value as it is (but the written form of a real): integers and
** reals together are REAL, unless an integer is one a double cannot hold
** (SEEN_BIG, 9007199254740993), where REAL would round it.  Then a CSV
** column is NUMERIC, which stores each text as the integer or real it
** reads as, and a JSON column has no declared type, so each value keeps
** the type json_each() gave it.
*/
static const char *cliColType(Cli *p, int mSeen){
  int bCsv = p->eFmt==FMT_CSV || p->eFmt==FMT_TSV;
  switch( mSeen & ~SEEN_BIG ){
    case SEEN_INT:            return "INTEGER";
    case SEEN_REAL:           return "REAL";
    case SEEN_INT|SEEN_REAL:
      if( (mSeen & SEEN_BIG)==0 ) return "REAL";
      return bCsv ? "NUMERIC" : "";
    case 0:
    case SEEN_TEXT:           return "TEXT";
  }
  /* Numbers and text: CSV text stays text.  JSON values keep their types
  ** in a column with no affinity. */
  return bCsv ? "TEXT" : "";
}

/* ---------------------------------------------------------------------
** Setup: the table (checked, or created), the virtual table, the INSERT.
*/

/*
** The names of a comma-separated list (--key a,b), one per call.  *pz is
** where the next name starts, or NULL after the last.  Returns 0 if
** there is none left; else points *pzName at it, sets *pnName to its
** length (it is not nul-terminated, and may be empty: "a,,b") and moves
** *pz past it and its comma.
*/
static int cliListNext(const char **pz, const char **pzName, int *pnName){
  const char *zEnd;
  if( *pz==0 ) return 0;
  zEnd = strchr(*pz, ',');
  *pzName = *pz;
  *pnName = zEnd ? (int)(zEnd-*pz) : (int)strlen(*pz);
  *pz = zEnd ? zEnd+1 : 0;
  return 1;
}

/* Append the comma-separated names of zList to pStr as "(\"a\",\"b\")".
** An empty name is an error naming zFlag.  0 on success. */
static int cliAppendList(Cli *p, sqlite3_str *pStr, const char *zFlag,
                         const char *zList){
  const char *z = zList[0] ? zList : 0;   /* --update '' gives "()" */
  const char *zName;
  int n;
  sqlite3_str_appendchar(pStr, 1, '(');
  while( cliListNext(&z, &zName, &n) ){
    if( n==0 ){
      cliError(p, "--%s: an empty column name in '%s'", zFlag, zList);
      return 1;
    }
    sqlite3_str_appendf(pStr, "%s\"%.*w\"", zName==zList ? "" : ",", n,
                        zName);
  }
  sqlite3_str_appendchar(pStr, 1, ')');
  return 0;
}

/* 1 if zName is one of the comma-separated names of zList. */
static int cliInList(const char *zList, const char *zName){
  int nName = (int)strlen(zName);
  const char *zItem;
  int n;
  while( cliListNext(&zList, &zItem, &n) ){
    if( n==nName && sqlite3_strnicmp(zItem, zName, n)==0 ) return 1;
  }
  return 0;
}

/* CREATE TABLE for --create: the input's columns with the types seen, the
** key columns NOT NULL and the PRIMARY KEY. */
static void cliCreateTable(Cli *p){
  sqlite3_str *pStr;
  char *zSql;
  const char *z, *zItem;
  int i, n;
  if( p->zKey==0 || p->zKey[0]==0 ){
    cliError(p, "no such table: '%s' (--create needs --key to create it)",
             p->zTable);
    return;
  }
  /* Every key column must be a column of the input. */
  z = p->zKey;
  while( cliListNext(&z, &zItem, &n) ){
    char *zName = sqlite3_mprintf("%.*s", n, zItem);
    if( zName==0 ){ cliNomem(p); return; }
    if( n==0 || cliColFind(p, zName, -1)<0 ){
      cliError(p, "--key: '%s' is not a column of %s", zName, p->zName);
    }
    sqlite3_free(zName);
    if( p->rc ) return;
  }
  pStr = sqlite3_str_new(p->db);
  sqlite3_str_appendf(pStr, "CREATE TABLE main.\"%w\"(", p->zTable);
  for(i=0; i<p->nCol; i++){
    const char *zType = cliColType(p, p->aCol[i].mSeen);
    sqlite3_str_appendf(pStr, "%s\"%w\"%s%s%s", i ? ", " : "",
        p->aCol[i].zName, zType[0] ? " " : "", zType,
        cliInList(p->zKey, p->aCol[i].zName) ? " NOT NULL" : "");
  }
  sqlite3_str_appendall(pStr, ", PRIMARY KEY");
  cliAppendList(p, pStr, "key", p->zKey);
  sqlite3_str_appendall(pStr, ")");
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ){ cliNomem(p); return; }
  cliExec(p, zSql);
  sqlite3_free(zSql);
}

/* --alter: ALTER TABLE ADD COLUMN column iCol of the input, typed as
** cliCreateTable types it. */
static void cliAddColumn(Cli *p, int iCol){
  const char *zType = cliColType(p, p->aCol[iCol].mSeen);
  char *zSql = sqlite3_mprintf("ALTER TABLE main.\"%w\" ADD COLUMN \"%w\"%s%s",
                               p->zTable, p->aCol[iCol].zName,
                               zType[0] ? " " : "", zType);
  if( zSql==0 ){ cliNomem(p); return; }
  cliExec(p, zSql);
  sqlite3_free(zSql);
}

/* Check that the table has every column of the input, and that none of
** them is generated.  With --alter, add the columns it lacks: in the
** transaction of the run, so that a later error takes them away again. */
static void cliCheckColumns(Cli *p){
  sqlite3_stmt *pStmt = 0;
  sqlite3_str *pMissing;
  char *zMissing;
  int i, nMissing = 0;
  int rc = sqlite3_prepare_v2(p->db,
      "SELECT hidden FROM pragma_table_xinfo(?1, 'main')"
      " WHERE name=?2 COLLATE NOCASE",
      -1, &pStmt, 0);
  if( rc!=SQLITE_OK ){ cliError(p, "%s", sqlite3_errmsg(p->db)); return; }
  pMissing = sqlite3_str_new(p->db);
  sqlite3_bind_text(pStmt, 1, p->zTable, -1, SQLITE_STATIC);
  for(i=0; i<p->nCol && p->rc==0; i++){
    sqlite3_bind_text(pStmt, 2, p->aCol[i].zName, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)!=SQLITE_ROW ){
      if( p->bAlter ){
        sqlite3_reset(pStmt);
        cliAddColumn(p, i);
        continue;
      }
      if( nMissing<NAMES_SHOWN ){
        if( nMissing ) sqlite3_str_appendall(pMissing, ", ");
        cliAppendName(pMissing, p->aCol[i].zName,
                      (int)strlen(p->aCol[i].zName));
      }
      nMissing++;
    }else if( sqlite3_column_int(pStmt, 0)>=2 ){
      cliError(p, "column %z of table '%s' is generated: it cannot be "
               "written", cliName(p->aCol[i].zName, -1), p->zTable);
    }
    sqlite3_reset(pStmt);
  }
  sqlite3_finalize(pStmt);
  if( nMissing>NAMES_SHOWN ){
    sqlite3_str_appendf(pMissing, " and %d more", nMissing-NAMES_SHOWN);
  }
  zMissing = sqlite3_str_finish(pMissing);
  if( nMissing ){
    cliError(p, "table '%s' has no column%s %s (named in %s; --alter adds "
             "%s)", p->zTable, nMissing>1 ? "s" : "",
             zMissing ? zMissing : "", p->zName, nMissing>1 ? "them" : "it");
  }
  sqlite3_free(zMissing);
}

/*
** The collation of the key column named zCol in the UNIQUE index (not
** partial) whose columns are exactly the key's, the nKey names of azKey:
** the index a conflict is found in, as the extension chooses it.  NULL
** (BINARY) when there is none: the key is an INTEGER PRIMARY KEY.
** Returned sqlite3_malloc'd; *pbNomem set when out of memory.
*/
static char *cliKeyColl(Cli *p, char **azKey, int nKey, const char *zCol,
                        int *pbNomem){
  sqlite3_stmt *pList = 0, *pCols = 0;
  char *zColl = 0;
  int bFound = 0;
  if( sqlite3_prepare_v2(p->db, "SELECT name FROM pragma_index_list(?1, "
        "'main') WHERE \"unique\" AND NOT partial", -1, &pList, 0)
   || sqlite3_prepare_v2(p->db, "SELECT name, coll FROM pragma_index_xinfo("
        "?1, 'main') WHERE key", -1, &pCols, 0) ){
    *pbNomem = 1;
  }else{
    sqlite3_bind_text(pList, 1, p->zTable, -1, SQLITE_STATIC);
  }
  while( !bFound && !*pbNomem && sqlite3_step(pList)==SQLITE_ROW ){
    int n = 0, bAll = 1, k;
    sqlite3_bind_text(pCols, 1, (const char*)sqlite3_column_text(pList, 0),
                      -1, SQLITE_TRANSIENT);
    while( sqlite3_step(pCols)==SQLITE_ROW ){
      const char *zName = (const char*)sqlite3_column_text(pCols, 0);
      n++;
      for(k=0; k<nKey && sqlite3_stricmp(azKey[k], zName ? zName : ""); k++){}
      if( k==nKey ) bAll = 0;
      if( zName && sqlite3_stricmp(zName, zCol)==0 ){
        sqlite3_free(zColl);
        zColl = sqlite3_mprintf("%s", sqlite3_column_text(pCols, 1));
        if( zColl==0 ) *pbNomem = 1;
      }
    }
    sqlite3_reset(pCols);
    bFound = bAll && n==nKey;
    if( !bFound ){ sqlite3_free(zColl); zColl = 0; }
  }
  sqlite3_finalize(pList);
  sqlite3_finalize(pCols);
  return zColl;
}

/* Append z (sqlite3_malloc'd, or NULL) to the *pn names of *paz, of room
** for *pnAlloc.  1 if out of memory (z freed), else 0. */
static int cliKeyPush(char ***paz, int *pn, int *pnAlloc, char *z){
  if( *pn>=*pnAlloc ){
    int nNew = *pnAlloc ? *pnAlloc*2 : 8;
    char **azNew = sqlite3_realloc64(*paz, sizeof(char*)*nNew);
    if( azNew==0 ){ sqlite3_free(z); return 1; }
    *paz = azNew;
    *pnAlloc = nNew;
  }
  (*paz)[(*pn)++] = z;
  return z==0;
}

/*
** --delete-missing: find the key (--key, or the PRIMARY KEY) and create
** temp.SEEN, where each record's key is kept, with the key columns'
** declared types and the key index's collations: a key is kept as the
** table would store it, and compared as a conflict compares it.  Also
** prepares the INSERT into it and writes the DELETE of the rows whose key
** is not there (run by cliDeleteMissing at the end).
*/
static void cliSeenSetup(Cli *p){
  char **azKey = 0;
  int nAlloc = 0, k, bNomem = 0;
  sqlite3_stmt *pStmt = 0;
  sqlite3_str *pCreate, *pIns, *pDel, *pIdx;
  char *zSql;
  if( p->zKey ){
    const char *z = p->zKey, *zName;
    int n;
    while( !bNomem && cliListNext(&z, &zName, &n) ){
      bNomem = cliKeyPush(&azKey, &p->nKey, &nAlloc,
                          sqlite3_mprintf("%.*s", n, zName));
    }
  }else if( sqlite3_prepare_v2(p->db, "SELECT name FROM pragma_table_info("
              "?1, 'main') WHERE pk>0 ORDER BY pk", -1, &pStmt, 0)==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, p->zTable, -1, SQLITE_STATIC);
    while( !bNomem && sqlite3_step(pStmt)==SQLITE_ROW ){
      bNomem = cliKeyPush(&azKey, &p->nKey, &nAlloc,
                          sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0)));
    }
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }else{
    bNomem = 1;
  }
  p->aiKey = sqlite3_malloc64(sizeof(int)*(p->nKey+1));
  if( p->aiKey==0 ) bNomem = 1;
  pCreate = sqlite3_str_new(p->db);
  pIns = sqlite3_str_new(p->db);
  pDel = sqlite3_str_new(p->db);
  pIdx = sqlite3_str_new(p->db);
  sqlite3_str_appendall(pCreate, "CREATE TEMP TABLE \"" SEEN "\"(");
  sqlite3_str_appendall(pIns, "INSERT INTO temp.\"" SEEN "\" VALUES(");
  sqlite3_str_appendf(pDel, "DELETE FROM main.\"%w\" WHERE NOT EXISTS("
      "SELECT 1 FROM temp.\"" SEEN "\" AS s WHERE ", p->zTable);
  sqlite3_str_appendall(pIdx, "CREATE INDEX temp.\"" SEEN "_key\" ON \""
      SEEN "\"(");
  /* The declared type, or NULL for a column that stores values as given
  ** (no type; ANY in a STRICT table), which a column of no type does in
  ** temp.SEEN: an empty type "" would be NUMERIC */
  if( !bNomem && sqlite3_prepare_v2(p->db, "SELECT CASE WHEN c.type='' OR "
        "(l.strict AND c.type='ANY' COLLATE nocase) THEN NULL ELSE c.type END"
        " FROM pragma_table_info(?1, 'main') AS c, pragma_table_list(?1) AS l"
        " WHERE l.schema='main' AND c.name=?2 COLLATE nocase", -1, &pStmt,
        0)!=SQLITE_OK ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
    bNomem = p->rc==0;
  }
  for(k=0; !bNomem && p->rc==0 && k<p->nKey; k++){
    char *zColl = cliKeyColl(p, azKey, p->nKey, azKey[k], &bNomem);
    const char *zSep = k ? "," : "";
    int i;
    /* The virtual table, created already, found every key column among
    ** the input's: this holds but is checked, not assumed */
    for(i=0; i<p->nCol && sqlite3_stricmp(p->aCol[i].zName, azKey[k]); i++){}
    if( i==p->nCol ){
      cliError(p, "--delete-missing: the key column '%s' is not in %s",
               azKey[k], p->zName);
      sqlite3_free(zColl);
      break;
    }
    p->aiKey[k] = i;
    sqlite3_bind_text(pStmt, 1, p->zTable, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, azKey[k], -1, SQLITE_STATIC);
    sqlite3_str_appendf(pCreate, "%s\"k%d\"", zSep, k);
    if( sqlite3_step(pStmt)==SQLITE_ROW
     && sqlite3_column_type(pStmt, 0)!=SQLITE_NULL ){
      sqlite3_str_appendf(pCreate, " \"%w\"", sqlite3_column_text(pStmt, 0));
    }
    sqlite3_reset(pStmt);
    if( zColl ) sqlite3_str_appendf(pCreate, " COLLATE \"%w\"", zColl);
    sqlite3_str_appendf(pIns, "%s?", zSep);
    sqlite3_str_appendf(pDel, "%ss.\"k%d\"=main.\"%w\".\"%w\"",
                        k ? " AND " : "", k, p->zTable, azKey[k]);
    sqlite3_str_appendf(pIdx, "%s\"k%d\"", zSep, k);
    sqlite3_free(zColl);
  }
  sqlite3_finalize(pStmt);
  sqlite3_str_appendall(pCreate, ")");
  sqlite3_str_appendall(pIns, ")");
  sqlite3_str_appendall(pDel, ")");
  sqlite3_str_appendall(pIdx, ")");
  /* The index is created by cliDeleteMissing, once the keys are in: its
  ** DDL goes before the DELETE, in one text for sqlite3_exec() */
  {
    char *zIdx = sqlite3_str_finish(pIdx);
    char *zDel = sqlite3_str_finish(pDel);
    if( zIdx && zDel ) p->zDelete = sqlite3_mprintf("%s; %s", zIdx, zDel);
    if( p->zDelete==0 ) bNomem = 1;
    sqlite3_free(zIdx);
    sqlite3_free(zDel);
  }
  zSql = sqlite3_str_finish(pCreate);
  if( zSql==0 ) bNomem = 1;
  if( !bNomem ) cliExec(p, zSql);
  sqlite3_free(zSql);
  zSql = sqlite3_str_finish(pIns);
  if( zSql==0 ) bNomem = 1;
  if( !bNomem && p->rc==0
   && sqlite3_prepare_v2(p->db, zSql, -1, &p->pSeen, 0)!=SQLITE_OK ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }
  sqlite3_free(zSql);
  for(k=0; k<p->nKey; k++) sqlite3_free(azKey[k]);
  sqlite3_free(azKey);
  if( bNomem ) cliNomem(p);
}

/*
** --delete-missing, at the end of a run: delete the rows of the table
** whose key the input did not have, in the run's transaction.  An input
** of no rows would delete every row: refused without --allow-empty.
*/
static void cliDeleteMissing(Cli *p){
  if( p->rc || !p->bDeleteMissing ) return;
  if( p->nRow==0 ){
    sqlite3_stmt *pStmt = 0;
    char *zSql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\"",
                                 p->zTable);
    sqlite3_int64 n = 0;
    if( zSql && sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK
     && sqlite3_step(pStmt)==SQLITE_ROW ){
      n = sqlite3_column_int64(pStmt, 0);
    }
    sqlite3_finalize(pStmt);
    sqlite3_free(zSql);
    if( n>0 && !p->bAllowEmpty ){
      cliError(p, "%s has no rows: --delete-missing would delete every row "
               "of '%s' (%lld); --allow-empty lets it", p->zName, p->zTable,
               (long long)n);
      return;
    }
    if( n==0 ) return;
    zSql = sqlite3_mprintf("DELETE FROM main.\"%w\"", p->zTable);
    if( zSql==0 ){ cliNomem(p); return; }
    cliExec(p, zSql);
    sqlite3_free(zSql);
  }else{
    cliExec(p, p->zDelete);
  }
  if( p->rc==0 ) p->nDeleted = sqlite3_changes64(p->db);
}

/*
** Once the input's columns are known: create or check the table, create
** the virtual table over it and prepare the INSERT.
*/
static void cliSetup(Cli *p){
  const struct { const char *zFlag; const char *zList; } aList[] = {
    { "key", p->zKey }, { "update", p->zUpdate }, { "keep", p->zKeep },
  };                          /* the options that take a list of columns */
  sqlite3_str *pStr;
  char *zSql;
  int i;
  if( p->rc ) return;
  if( p->nCol==0 ){
    int bCsv = p->eFmt==FMT_CSV || p->eFmt==FMT_TSV;
    if( !bCsv && p->nRec==0 && p->bTableExists ){
      /* No object at all: nothing to write, as for a CSV header alone.
      ** No virtual table either: it needs a column, and no row comes. */
      return;
    }
    if( !bCsv && p->nRec==0 ){
      cliError(p, "%s: no columns: no object to create table '%s' from",
               p->zName, p->zTable);
    }else{
      cliError(p, "%s: no columns: %s", p->zName,
               bCsv ? "the header is empty" : "no object has a key");
    }
    return;
  }
  if( p->bTableExists ) cliCheckColumns(p);
  else cliCreateTable(p);
  if( p->rc ) return;

  /* The table is named with its schema: unqualified, a table named as
  ** the virtual table would resolve to the virtual table itself (temp
  ** comes first). */
  pStr = sqlite3_str_new(p->db);
  sqlite3_str_appendf(pStr,
      "CREATE VIRTUAL TABLE temp.\"" VTAB "\" USING upsert_into("
      "main.\"%w\", "
      "columns=(", p->zTable);
  for(i=0; i<p->nCol; i++){
    sqlite3_str_appendf(pStr, "%s\"%w\"", i ? "," : "", p->aCol[i].zName);
  }
  sqlite3_str_appendall(pStr, ")");
  for(i=0; i<(int)(sizeof(aList)/sizeof(aList[0])); i++){
    if( aList[i].zList==0 ) continue;
    sqlite3_str_appendf(pStr, ", %s=", aList[i].zFlag);
    if( cliAppendList(p, pStr, aList[i].zFlag, aList[i].zList) ) goto done;
  }
  if( p->zNulls ) sqlite3_str_appendf(pStr, ", nulls=%s", p->zNulls);
  if( p->bSkipSame ) sqlite3_str_appendall(pStr, ", unchanged=skip");
  sqlite3_str_appendall(pStr, ")");
done:
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ){ cliNomem(p); return; }
  cliExec(p, zSql);
  sqlite3_free(zSql);
  if( p->rc ) return;

  pStr = sqlite3_str_new(p->db);
  sqlite3_str_appendall(pStr, "INSERT INTO temp.\"" VTAB "\" VALUES(");
  for(i=0; i<p->nCol; i++) sqlite3_str_appendall(pStr, i ? ",?" : "?");
  sqlite3_str_appendall(pStr, ")");
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ){ cliNomem(p); return; }
  if( sqlite3_prepare_v2(p->db, zSql, -1, &p->pIns, 0)!=SQLITE_OK ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }
  sqlite3_free(zSql);
  if( p->bDeleteMissing ) cliSeenSetup(p);
}

/* ---------------------------------------------------------------------
** Writing rows, batches, progress
*/

/* Called after each row written.  Every 4096 rows, show progress on
** standard error, if it is a terminal and the run has lasted a while.
** iPart/nPart is how far through the input it is (nPart 0: unknown).
** Standard input from a pipe gets no percentage, though a second pass
** knows the size of its spooled copy: all of it has come by then, and
** the percentage would be of the writing only. */
static void cliProgress(Cli *p, sqlite3_int64 iPart, sqlite3_int64 nPart){
  double t;
  if( (p->nRow & 0xfff)!=0 || !p->bTty ) return;
  t = cliNow();
  if( t<p->tNext ) return;
  p->tNext = t + PROGRESS_EVERY;
  if( t-p->tStart<PROGRESS_DELAY ) return;
  fprintf(stderr, "\r%lld rows, %.0f rows/s", (long long)p->nRow,
          p->nRow/(t-p->tStart));
  if( nPart>0 && p->bSized ){
    fprintf(stderr, ", %d%%", (int)(100*iPart/nPart));
  }
  fprintf(stderr, "   ");
  fflush(stderr);
  p->bShown = 1;
}

/*
** Begin a transaction: for the whole input, or for one batch.  Foreign
** keys are deferred inside it, so that a row may come before the row it
** refers to in the same input: the check is made at COMMIT.  Every COMMIT
** turns defer_foreign_keys off again, so it is set each time.
*/
static void cliBegin(Cli *p){
  if( cliExec(p, "BEGIN IMMEDIATE") ) return;
  p->bTxn = 1;
  if( !p->bNoFk ) cliExec(p, "PRAGMA defer_foreign_keys=ON");
}

/*
** A FOREIGN KEY violation found at the end of a transaction, zMsg
** SQLite's message: it names no row, so the rows of this transaction are
** named before it, and the rows --delete-missing deleted.
*/
static void cliFkError(Cli *p, const char *zMsg){
  if( p->nDeleted>0 ){
    cliError(p, "%s: rows %lld to %lld, or rows that refer to the %lld "
             "rows --delete-missing deleted: %s", p->zName,
             (long long)p->nRowDone+1, (long long)p->nRow,
             (long long)p->nDeleted, zMsg);
  }else{
    cliError(p, "%s: rows %lld to %lld: %s", p->zName,
             (long long)p->nRowDone+1, (long long)p->nRow, zMsg);
  }
}

/*
** Commit the rows written since the last commit.  A FOREIGN KEY
** violation among them fails here, with SQLite's message, which names no
** row: the rows of this transaction are named before it.  On failure the
** transaction stays open, for the ROLLBACK at the end.
*/
static void cliCommit(Cli *p){
  if( p->rc ) return;
  if( sqlite3_exec(p->db, "COMMIT", 0, 0, 0)!=SQLITE_OK ){
    if( sqlite3_extended_errcode(p->db)==SQLITE_CONSTRAINT_FOREIGNKEY ){
      cliFkError(p, sqlite3_errmsg(p->db));
    }else{
      cliError(p, "%s", sqlite3_errmsg(p->db));
    }
    return;
  }
  p->bTxn = 0;
}

/* Commit the rows so far and begin the next batch. */
static void cliCommitBatch(Cli *p){
  cliCommit(p);
  if( p->rc ) return;
  p->nRowDone = p->nRow;
  p->iDonePos = cliPosNum(p);
  cliBegin(p);
}

/* Bind value i of the current record to parameter iParam of pStmt. */
static void cliBindValue(Cli *p, sqlite3_stmt *pStmt, int iParam, int i){
  Value *pVal = &p->aVal[i];
  switch( pVal->eType ){
    case SQLITE_INTEGER:
      sqlite3_bind_int64(pStmt, iParam, pVal->i);
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double(pStmt, iParam, pVal->r);
      break;
    case SQLITE_TEXT: {
      /* Text in aBuf is followed by a nul.  Bound with length -1, SQLite
      ** knows it, and reads it in place; with a length, it would copy it
      ** into a fresh allocation for the virtual table to read it as
      ** text.  So -1, unless the text holds a nul itself. */
      const char *z = cliRowZ(p, i);
      if( strlen(z)==(size_t)pVal->n ){
        sqlite3_bind_text(pStmt, iParam, z, -1, SQLITE_STATIC);
      }else{
        sqlite3_bind_text64(pStmt, iParam, z, (sqlite3_uint64)pVal->n,
                            SQLITE_STATIC, SQLITE_UTF8);
      }
      break;
    }
    default:
      sqlite3_bind_null(pStmt, iParam);
      break;
  }
}

/*
** --delete-missing: keep the key of the current record in temp.SEEN.  A
** NULL key names no row (and would make an INTEGER PRIMARY KEY a new
** one, which the delete could not tell from a row the input lacks): an
** error.
*/
static void cliSeenRow(Cli *p){
  int k;
  for(k=0; k<p->nKey; k++){
    int i = p->aiKey[k];
    if( i>=p->nVal || p->aVal[i].eType==SQLITE_NULL ){
      cliErrorAt(p, "the key column '%s' is NULL: with --delete-missing "
                 "every record needs its key", p->aCol[i].zName);
      return;
    }
    cliBindValue(p, p->pSeen, k+1, i);
  }
  sqlite3_step(p->pSeen);
  if( sqlite3_reset(p->pSeen)!=SQLITE_OK ){
    cliErrorAt(p, "%s", sqlite3_errmsg(p->db));
  }
}

/* Write the current record: bind its values, step, reset. */
static void cliWriteRow(Cli *p){
  int i, rc;
  if( cliInterrupted(p) ) return;
  if( p->pSeen ){
    cliSeenRow(p);
    if( p->rc ) return;
  }
  for(i=0; i<p->nCol; i++) cliBindValue(p, p->pIns, i+1, i);
  sqlite3_step(p->pIns);
  rc = sqlite3_reset(p->pIns);
  if( rc!=SQLITE_OK ){
    cliErrorAt(p, "%s", sqlite3_errmsg(p->db));
    return;
  }
  p->nRow++;
  if( p->nBatch && p->nRow%p->nBatch==0 ) cliCommitBatch(p);
}

/* ---------------------------------------------------------------------
** Reading the input
*/

/*
** Read n bytes of the input into a, or fewer at its end; returns how many
** (0 at the end).  An error, or a signal, is recorded.  As fread() does,
** but with read(), and a pipe or a terminal is waited on in pselect(),
** which lets SIGINT and SIGTERM in only while it waits: so a signal is
** seen wherever it falls, where a read() entered just after it would
** wait on for input that may never come.  The FILE is used for its
** descriptor and for seeks only.
*/
static size_t cliRead(Cli *p, char *a, size_t n){
  int fd = fileno(p->in);
  size_t nGot = 0;
  while( nGot<n && cliInterrupted(p)==0 ){
    ssize_t k;
    if( p->szIn<0 ){
      sigset_t mBlock, mOld;
      fd_set set;
      int rc;
      sigemptyset(&mBlock);
      sigaddset(&mBlock, SIGINT);
      sigaddset(&mBlock, SIGTERM);
      sigprocmask(SIG_BLOCK, &mBlock, &mOld);
      FD_ZERO(&set);
      FD_SET(fd, &set);
      rc = cliSignal ? -1 : pselect(fd+1, &set, 0, 0, 0, &mOld);
      sigprocmask(SIG_SETMASK, &mOld, 0);
      if( rc<0 && (cliSignal || errno==EINTR) ) continue;
      if( rc<0 ){
        cliError(p, "%s: %s", p->zName, strerror(errno));
        break;
      }
    }
    k = read(fd, a+nGot, n-nGot);
    if( k<0 && errno==EINTR ) continue;
    if( k<0 ){
      cliError(p, "%s: %s", p->zName, strerror(errno));
      break;
    }
    if( k==0 ) break;
    nGot += (size_t)k;
  }
  return nGot;
}

/* Bytes of a UTF-8 byte order mark at the start of z, n bytes: 3, or 0
** if it has none.  Every format skips one. */
static size_t cliBomSize(const char *z, size_t n){
  return n>=3 && memcmp(z, "\xEF\xBB\xBF", 3)==0 ? 3 : 0;
}

/* ---------------------------------------------------------------------
** CSV and TSV, with libcsv
*/

/* libcsv: no character is a space, so spaces around unquoted fields are
** kept (RFC 4180), and text after a closing quote is an error. */
static int cliCsvNoSpace(unsigned char c){
  (void)c;
  return 0;
}

/* libcsv: end of a field.  z is NULL for an empty unquoted field: NULL,
** or with --empty-string the empty string, as "" is. */
static void cliCsvField(void *z, size_t n, void *pArg){
  Cli *p = (Cli*)pArg;
  Value *pVal;
  if( p->rc ) return;
  if( p->iRecLine==0 ) p->iRecLine = p->iLine;
  if( cliRowReserve(p, p->nVal+1) ) return;
  pVal = &p->aVal[p->nVal++];
  if( z==0 && !p->bEmptyString ){
    pVal->eType = SQLITE_NULL;
  }else{
    pVal->eType = SQLITE_TEXT;
    pVal->n = (sqlite3_int64)n;
    pVal->i = cliRowText(p, z ? (const char*)z : "", n);
  }
}

/* The header record: the columns. */
static void cliCsvHeader(Cli *p){
  int i;
  if( p->nCol ) return;            /* second pass: known already */
  if( p->nVal>p->nColMax ){
    /* Certain to fail, so fail now: the check for a name given twice
    ** below takes time in the square of the columns. */
    cliErrorAt(p, "the header has %d columns: a SQLite table has at most %d",
               p->nVal, p->nColMax);
    return;
  }
  for(i=0; i<p->nVal && p->rc==0; i++){
    const char *zName;
    if( p->aVal[i].eType==SQLITE_NULL || p->aVal[i].n==0 ){
      cliErrorAt(p, "column %d of the header has no name", i+1);
      return;
    }
    zName = cliRowZ(p, i);
    if( (sqlite3_int64)strlen(zName)!=p->aVal[i].n ){
      cliErrorAt(p, "column %d of the header holds a NUL byte", i+1);
      return;
    }
    if( cliColFind(p, zName, -1)>=0 ){
      cliErrorAt(p, "column %z appears twice in the header",
                 cliName(zName, -1));
      return;
    }
    cliColAdd(p, zName);
  }
}

/* libcsv: end of a record. */
static void cliCsvRecord(int c, void *pArg){
  Cli *p = (Cli*)pArg;
  int i;
  (void)c;
  if( p->rc==0 ){
    if( !p->bHeader ){
      cliCsvHeader(p);
      p->bHeader = 1;
      if( !p->bInfer ) cliSetup(p);
    }else if( p->nVal<p->nCol && !p->bFillShort ){
      cliErrorAt(p, "%d field%s, but the header has %d (--fill-short fills "
                 "a short record with NULLs)", p->nVal,
                 p->nVal==1 ? "" : "s", p->nCol);
    }else if( p->nVal>p->nCol && !p->bIgnoreExtra ){
      cliErrorAt(p, "%d fields, but the header has %d (--ignore-extra drops "
                 "the fields past the header's)", p->nVal, p->nCol);
    }else if( cliRowReserve(p, p->nCol)==0 ){
      /* nCol values: a short record filled with NULLs, a long one cut */
      for(i=p->nVal; i<p->nCol; i++) p->aVal[i].eType = SQLITE_NULL;
      p->nVal = p->nCol;
      if( p->bInfer ){
        for(i=0; i<p->nCol; i++){
          if( p->aVal[i].eType==SQLITE_TEXT ){
            p->aCol[i].mSeen |= cliCsvNumType(p, cliRowZ(p, i),
                                              (size_t)p->aVal[i].n);
          }
        }
      }else{
        cliWriteRow(p);
        cliProgress(p, p->nIn, p->szIn);
      }
    }
  }
  p->nVal = 0;
  p->nBuf = 0;
  p->iRecLine = 0;
}

/* Describe a libcsv parse error at the parser's state. */
static void cliCsvParseError(Cli *p, struct csv_parser *pCsv){
  if( csv_error(pCsv)!=CSV_EPARSE ){
    cliErrorAt(p, "%s", csv_strerror(csv_error(pCsv)));
  }else if( pCsv->pstate==3 /* FIELD_MIGHT_HAVE_ENDED */ ){
    cliError(p, "%s:%lld: malformed %s: a character after the closing "
             "quote of a field (a quote inside a quoted field is written "
             "\"\")", p->zName, (long long)p->iLine,
             p->eFmt==FMT_TSV ? "TSV" : "CSV");
  }else{
    cliError(p, "%s:%lld: malformed %s: a quote inside an unquoted field "
             "(quote the field and double the quote)", p->zName,
             (long long)p->iLine, p->eFmt==FMT_TSV ? "TSV" : "CSV");
  }
}

/* 1 if z[0..n) holds only line ends. */
static int cliIsBlankLine(const char *z, size_t n){
  size_t i;
  for(i=0; i<n; i++){
    if( z[i]!='\n' && z[i]!='\r' ) return 0;
  }
  return 1;
}

/*
** One pass over a CSV or TSV input: the header, then every record, either
** to find the columns' types (bInfer) or to write them.  The input is fed
** to libcsv a line at a time so that each record knows its first line.
**
** Lines end as libcsv ends records: at LF, CRLF or a lone CR.  An LF
** inside a quoted field ends a line too (editors show one there), but a
** CR inside a quoted field is data for libcsv, and counted as no line
** end, as most editors show none within an LF or CRLF file.
*/
static void cliCsvRun(Cli *p, int bInfer){
  struct csv_parser csv;
  int bFirst = 1;
  int bAfterCr = 0;               /* the last byte was a CR line end */
  if( csv_init(&csv, CSV_STRICT|CSV_STRICT_FINI|CSV_EMPTY_IS_NULL) ){
    cliNomem(p);
    return;
  }
  csv_set_space_func(&csv, cliCsvNoSpace);
  csv_set_blk_size(&csv, 64*1024);
  if( p->eFmt==FMT_TSV ) csv_set_delim(&csv, '\t');
  p->bInfer = bInfer;
  p->bHeader = 0;
  p->nVal = 0;
  p->nBuf = 0;
  p->iLine = 1;
  p->iRecLine = 0;
  p->nIn = 0;
  while( p->rc==0 ){
    size_t n = cliRead(p, p->aChunk, CHUNK);
    const char *z = p->aChunk;
    const char *zEnd = z + n;
    const char *zLf, *zCr;        /* the next LF and CR in the chunk */
    if( n==0 || p->rc ) break;
    if( bFirst ){
      bFirst = 0;
      z += cliBomSize(z, n);
    }
    zLf = memchr(z, '\n', (size_t)(zEnd-z));
    zCr = memchr(z, '\r', (size_t)(zEnd-z));
    while( z<zEnd && p->rc==0 ){
      const char *zEol;           /* the segment's last byte, CR or LF */
      size_t nSeg, nDone;
      if( zLf && zLf<z ) zLf = memchr(z, '\n', (size_t)(zEnd-z));
      if( zCr && zCr<z ) zCr = memchr(z, '\r', (size_t)(zEnd-z));
      zEol = zCr && (zLf==0 || zCr<zLf) ? zCr : zLf;
      nSeg = zEol ? (size_t)(zEol+1-z) : (size_t)(zEnd-z);
      if( p->iRecLine==0 && !cliIsBlankLine(z, nSeg) ) p->iRecLine = p->iLine;
      nDone = csv_parse(&csv, z, nSeg, cliCsvField, cliCsvRecord, p);
      if( nDone!=nSeg && p->rc==0 ) cliCsvParseError(p, &csv);
      z += nSeg;
      if( zEol==0 ){
        bAfterCr = 0;
      }else if( *zEol=='\n' ){
        if( !bAfterCr || nSeg>1 ) p->iLine++;
        bAfterCr = 0;
      }else{
        /* After the CR: still in a quoted field if it was data */
        bAfterCr = !(csv.pstate==2 /* FIELD_BEGUN */ && csv.quoted);
        if( bAfterCr ) p->iLine++;
      }
    }
    p->nIn += (sqlite3_int64)n;
  }
  if( p->rc==0 ){
    if( csv_fini(&csv, cliCsvField, cliCsvRecord, p) && p->rc==0 ){
      cliErrorAt(p, "malformed %s: a quoted field is not closed by the end "
                 "of the input", p->eFmt==FMT_TSV ? "TSV" : "CSV");
    }
  }
  if( p->rc==0 && !p->bHeader ){
    cliError(p, "%s: empty input: no header row", p->zName);
  }
  csv_free(&csv);
}

/* ---------------------------------------------------------------------
** JSON and JSON lines, with json_each()
*/

/* Which SEEN_* a json_each() type name is. */
static int cliJsonSeen(const char *zType){
  if( zType==0 || strcmp(zType, "null")==0 ) return 0;
  if( strcmp(zType, "integer")==0 || strcmp(zType, "true")==0
   || strcmp(zType, "false")==0 ){
    return SEEN_INT;
  }
  if( strcmp(zType, "real")==0 ) return SEEN_REAL;
  return SEEN_TEXT;
}

/* A key of an object, in column iKeyCol of pStmt (a row of json_each()),
** its value and its type in the two columns after it.  In the inference
** pass, add the key to the columns (if new) with the type seen; otherwise
** copy its value into the current record.  *piHint is the column of the
** previous key, and is set to this one's. */
static void cliJsonKey(Cli *p, sqlite3_stmt *pStmt, int iKeyCol, int *piHint){
  const char *zKey = (const char*)sqlite3_column_text(pStmt, iKeyCol);
  int iValCol = iKeyCol+1;
  int iCol;
  if( zKey==0 ) return;
  if( p->bInfer ){
    if( zKey[0]==0 ){
      cliErrorAt(p, "an empty key");
      return;
    }
    iCol = cliColFind(p, zKey, *piHint+1);
    if( iCol>=0 && p->aCol[iCol].iObj==p->nRec ){
      /* As a CSV header may not name a column twice, nor may an object:
      ** SQLite's ->> would read the first, an upsert write the last. */
      cliErrorAt(p, "key %z appears twice in the object", cliName(zKey, -1));
      return;
    }
    if( iCol<0 ){
      if( p->nCol>=p->nColMax ){
        cliErrorAt(p, "more than %d distinct keys: a SQLite table has at "
                   "most %d columns (key %z is one too many)", p->nColMax,
                   p->nColMax, cliName(zKey, -1));
        return;
      }
      iCol = cliColAdd(p, zKey);
    }
    if( iCol<0 ) return;
    p->aCol[iCol].iObj = p->nRec;
    p->aCol[iCol].mSeen |= cliJsonSeen(
        (const char*)sqlite3_column_text(pStmt, iKeyCol+2));
    if( sqlite3_column_type(pStmt, iValCol)==SQLITE_INTEGER
     && !cliIntFitsReal(sqlite3_column_int64(pStmt, iValCol)) ){
      p->aCol[iCol].mSeen |= SEEN_BIG;
    }
  }else if( (iCol = cliColFind(p, zKey, *piHint+1))>=0 ){
    Value *pVal = &p->aVal[iCol];
    pVal->eType = sqlite3_column_type(pStmt, iValCol);
    switch( pVal->eType ){
      case SQLITE_INTEGER:
        pVal->i = sqlite3_column_int64(pStmt, iValCol);
        break;
      case SQLITE_FLOAT:
        pVal->r = sqlite3_column_double(pStmt, iValCol);
        break;
      case SQLITE_NULL:
        break;
      default: {
        const char *z = (const char*)sqlite3_column_text(pStmt, iValCol);
        pVal->eType = SQLITE_TEXT;
        pVal->n = sqlite3_column_bytes(pStmt, iValCol);
        pVal->i = cliRowText(p, z ? z : "", (size_t)pVal->n);
        break;
      }
    }
  }
  *piHint = iCol;
}

/* 1 if z, n bytes, may escape a NUL: holds the text \u0000. */
static int cliJsonMayHoldNul(const char *z, size_t n){
  const char *zEnd;
  if( z==0 ) return 0;
  zEnd = z + n;
  while( (z = memchr(z, '\\', (size_t)(zEnd-z)))!=0 ){
    if( zEnd-z>=6 && memcmp(z, "\\u0000", 6)==0 ) return 1;
    z++;
  }
  return 0;
}

/*
** Refuse a key that holds a NUL ("v\u0000zz"): json_each() gives its key
** cut at the NUL, "v", so its value would land in column v.  The raw key
** is read from fullkey, $."v\u0000zz", and named as written.  Called only
** for a text that cliJsonMayHoldNul(), so the passes need no fullkey.  An
** invalid text is left for the pass to report.
*/
static void cliJsonNulKeys(Cli *p, const char *z, size_t n){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(p->db, "SELECT fullkey FROM json_each(?1)", -1,
                         &pStmt, 0) ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
    return;
  }
  sqlite3_bind_text64(pStmt, 1, z, (sqlite3_uint64)n, SQLITE_STATIC,
                      SQLITE_UTF8);
  while( p->rc==0 && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 0);
    int nKey = sqlite3_column_bytes(pStmt, 0), i;
    if( zKey==0 || nKey<4 || zKey[2]!='"' ) continue;
    zKey += 3;                  /* the key between the quotes */
    nKey -= 4;
    for(i=0; i<nKey; i++){
      if( zKey[i]!='\\' ) continue;
      if( nKey-i>=6 && memcmp(zKey+i, "\\u0000", 6)==0 ){
        cliErrorAt(p, "key %z holds a NUL byte", cliName(zKey, nKey));
        break;
      }
      i++;
    }
  }
  sqlite3_finalize(pStmt);
}

/* The JSON type of the text bound to ?1 of pType, for messages. */
static const char *cliJsonTypeOf(Cli *p, sqlite3_stmt *pType,
                                 const char *z, size_t n){
  const char *zType = "?";
  sqlite3_bind_text64(pType, 1, z, (sqlite3_uint64)n, SQLITE_STATIC,
                      SQLITE_UTF8);
  if( sqlite3_step(pType)==SQLITE_ROW ){
    zType = (const char*)sqlite3_column_text(pType, 0);
    if( zType==0 ) zType = "?";
  }
  return zType;
}

/* Hint for a JSON text that will not parse as one document. */
static const char *cliJsonHint(Cli *p, const char *z, size_t n){
  size_t i = 0;
  while( i<n && (z[i]==' ' || z[i]=='\t' || z[i]=='\r' || z[i]=='\n') ) i++;
  if( p->eFmt==FMT_JSON && i<n && z[i]=='{' ){
    return " (one object per line? give --jsonl)";
  }
  return "";
}

/*
** One object, z (n bytes): a line of JSON lines, or an element of a JSON
** array.  In the inference pass, add its keys to the columns; else write
** it as a row.  pEach is "SELECT key, value, type FROM json_each(?1)",
** pType "SELECT json_type(?1)".
*/
static void cliJsonObject(Cli *p, sqlite3_stmt *pEach, sqlite3_stmt *pType,
                          const char *z, size_t n){
  int rc, nKey = 0, iHint = -1;
  if( p->bInfer ){
    p->nRec++;
    if( cliJsonMayHoldNul(z, n) ) cliJsonNulKeys(p, z, n);
    if( p->rc ) return;
  }else{
    cliRowClear(p, p->nCol);
  }
  sqlite3_bind_text64(pEach, 1, z, (sqlite3_uint64)n, SQLITE_STATIC,
                      SQLITE_UTF8);
  while( p->rc==0 && (rc = sqlite3_step(pEach))==SQLITE_ROW ){
    if( sqlite3_column_type(pEach, 0)!=SQLITE_TEXT ) break;
    cliJsonKey(p, pEach, 0, &iHint);
    nKey++;
  }
  rc = sqlite3_reset(pEach);
  if( p->rc ) return;
  if( rc!=SQLITE_OK ){
    /* In an array, yajl has passed the element's syntax, but SQLite may
    ** refuse it still: nested too deeply for it, say. */
    if( p->eFmt==FMT_JSON ){
      cliErrorAt(p, "not valid JSON (the element at byte %lld)",
                 (long long)p->iElemAt);
    }else{
      cliErrorAt(p, "not valid JSON");
    }
    return;
  }
  if( nKey==0 ){
    /* No key: an empty object, or no object at all */
    const char *zType = cliJsonTypeOf(p, pType, z, n);
    if( strcmp(zType, "?")==0 ){
      /* no type: an empty element, "[,]", that json_each() lets by */
      cliErrorAt(p, "not valid JSON");
    }else if( strcmp(zType, "object")!=0 ){
      cliErrorAt(p, "not a JSON object (%s)", zType);
    }
    sqlite3_reset(pType);
  }
  if( p->rc==0 && !p->bInfer ){
    cliWriteRow(p);
    cliProgress(p, p->nIn, p->szIn);
  }
}

/* One line of JSON lines: an object, or a blank line (skipped). */
static void cliJsonlLine(Cli *p, sqlite3_stmt *pEach, sqlite3_stmt *pType,
                         const char *z, size_t n){
  size_t i;
  for(i=0; i<n && (z[i]==' ' || z[i]=='\t' || z[i]=='\r'); i++){}
  if( i==n ) return;
  p->iRecLine = p->iLine;
  cliJsonObject(p, pEach, pType, z, n);
}

/* One pass over a JSON lines input: find the columns and their types
** (bInfer), or write the rows. */
static void cliJsonlRun(Cli *p, int bInfer){
  sqlite3_stmt *pEach = 0, *pType = 0;
  size_t nHave = 0;               /* bytes of a partial line at aChunk */
  int bFirst = 1;
  if( sqlite3_prepare_v2(p->db, "SELECT key, value, type FROM json_each(?1)",
                         -1, &pEach, 0)
   || sqlite3_prepare_v2(p->db, "SELECT json_type(?1)", -1, &pType, 0) ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }
  p->bInfer = bInfer;
  p->iLine = 1;
  p->nIn = 0;
  while( p->rc==0 ){
    size_t n, iStart = 0, i;
    if( nHave==p->nChunkAlloc ){
      /* A line longer than the buffer: grow it. */
      char *aNew = realloc(p->aChunk, p->nChunkAlloc*2);
      if( aNew==0 ){ cliNomem(p); break; }
      p->aChunk = aNew;
      p->nChunkAlloc *= 2;
    }
    n = cliRead(p, p->aChunk+nHave, p->nChunkAlloc-nHave);
    if( p->rc ) break;
    if( n==0 ){
      if( nHave ) cliJsonlLine(p, pEach, pType, p->aChunk, nHave);
      break;
    }
    if( bFirst ){
      bFirst = 0;
      iStart = cliBomSize(p->aChunk, n);
    }
    n += nHave;
    for(i=iStart; i<n && p->rc==0; i++){
      if( p->aChunk[i]=='\n' ){
        p->nIn += (sqlite3_int64)(i+1-iStart);  /* for the percentage */
        cliJsonlLine(p, pEach, pType, p->aChunk+iStart, i-iStart);
        p->iLine++;
        iStart = i+1;
      }
    }
    nHave = n - iStart;
    memmove(p->aChunk, p->aChunk+iStart, nHave);
  }
  sqlite3_finalize(pEach);
  sqlite3_finalize(pType);
}

/* Read the whole input into a buffer (malloc'd, *pn bytes, with a
** nul after them), without a leading BOM.  NULL on error. */
static char *cliReadAll(Cli *p, size_t *pn){
  size_t nAlloc = CHUNK, n = 0, nBom;
  char *z = malloc(nAlloc);
  while( z ){
    size_t nGot;
    if( n+1>=nAlloc ){
      char *zNew = realloc(z, nAlloc*2);
      if( zNew==0 ){ free(z); z = 0; break; }
      z = zNew;
      nAlloc *= 2;
    }
    nGot = cliRead(p, z+n, nAlloc-n-1);
    if( p->rc ){
      free(z);
      return 0;
    }
    if( nGot==0 ) break;
    n += nGot;
  }
  if( z==0 ){ cliNomem(p); return 0; }
  z[n] = 0;
  nBom = cliBomSize(z, n);
  if( nBom ){
    memmove(z, z+nBom, n-nBom+1);
    n -= nBom;
  }
  *pn = n;
  return z;
}

static void cliRewind(Cli *p);         /* with cliSpool, below */

/*
** A JSON input whose top level is no array: read it whole to say what it
** is.  Only ever an error: "not valid JSON" (with a hint for JSON lines),
** or "not a JSON array of objects".
*/
static void cliJsonTopError(Cli *p){
  sqlite3_stmt *pType = 0;
  size_t n = 0;
  char *z;
  const char *zType;
  cliRewind(p);
  if( p->rc || (z = cliReadAll(p, &n))==0 ) return;
  if( sqlite3_prepare_v2(p->db, "SELECT json_type(?1)", -1, &pType, 0) ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }else{
    sqlite3_bind_text64(pType, 1, z, n, SQLITE_STATIC, SQLITE_UTF8);
    if( sqlite3_step(pType)!=SQLITE_ROW
     || (zType = (const char*)sqlite3_column_text(pType, 0))==0
     || strcmp(zType, "array")==0 ){
      cliError(p, "%s: not valid JSON%s", p->zName, cliJsonHint(p, z, n));
    }else{
      int bAn = zType[0]=='o' || zType[0]=='i';    /* object, integer */
      cliError(p, "%s: not a JSON array of objects: the top level is %s "
               "%s%s", p->zName, bAn ? "an" : "a", zType,
               zType[0]=='o' ? " (one per line? give --jsonl)" : "");
    }
  }
  sqlite3_finalize(pType);
  free(z);
}

/* ---------------------------------------------------------------------
** JSON arrays, streamed with yajl
*/

/* Append n bytes at z to the buffer *pa (*pn bytes used of *pnAlloc,
** malloc'd).  0 on success, 1 on OOM (recorded). */
static int cliElemAppend(Cli *p, char **pa, size_t *pn, size_t *pnAlloc,
                         const char *z, size_t n){
  if( *pn+n>*pnAlloc ){
    size_t nNew = *pnAlloc ? *pnAlloc*2 : 4096;
    char *aNew;
    while( nNew<*pn+n ) nNew *= 2;
    if( (aNew = realloc(*pa, nNew))==0 ){ cliNomem(p); return 1; }
    *pa = aNew;
    *pnAlloc = nNew;
  }
  if( n ) memcpy(*pa+*pn, z, n);
  *pn += n;
  return 0;
}

/* Where a pass is in a JSON input (CliJson.eState) */
#define JS_START 0                /* before the top-level value */
#define JS_ARRAY 1                /* inside the top-level array */
#define JS_END   2                /* after the array's closing ']' */
#define JS_OTHER 3                /* the top level is no array */

/*
** One pass over a JSON array: what the yajl callbacks share (their
** pCtx).  yajl parses the text, chunk by chunk, and reports each value
** and each start and end of an object or array; the callbacks follow the
** depth, and cut out the text of each element of the top-level array,
** from its '{' to its '}', which cliJsonObject() then parses with
** json_each() as it does a line of JSON lines.
*/
typedef struct CliJson CliJson;
struct CliJson {
  Cli *p;                     /* the run */
  yajl_handle h;              /* the parser */
  sqlite3_stmt *pEach;        /* SELECT key, value, type FROM json_each(?1) */
  sqlite3_stmt *pType;        /* SELECT json_type(?1) */
  int eState;                 /* JS_* */
  sqlite3_int64 nDepth;       /* arrays and objects open: 1 in the array */

  /* The chunk being parsed */
  const char *zText;          /* its bytes (in Cli.aChunk) */
  sqlite3_int64 iBase;        /* offset of zText[0] in the input */

  /* The current element: an object */
  int bElem;                  /* it has begun and not ended */
  size_t iSpan;               /* where its bytes in zText start */
  char *aElem;                /* its bytes from the chunks before */
  size_t nElem;               /* bytes used at aElem */
  size_t nElemAlloc;          /* bytes allocated at aElem */
};

/*
** Bytes of the chunk that yajl has read.  Inside a callback, where the
** token it reports ends: yajl 2.1 counts the bytes as it lexes, before
** it calls back.  (Its header documents the count after yajl_parse(),
** where, after an error, it is where the error was found.)  A token that
** began in an earlier chunk ends in this one all the same.
*/
static size_t cliJsonAt(CliJson *pJ){
  return yajl_get_bytes_consumed(pJ->h);
}

/*
** A value that is no object begins, of type zType (as json_type() names
** it): at the top level, the input is no array (cliJsonTopError() then
** says what it is); as an element of the array, an error.  Inside an
** element, nothing to do.  Returns what a yajl callback returns: 0 to
** stop the parse.
*/
static int cliJsonNotObject(CliJson *pJ, const char *zType){
  if( pJ->nDepth==0 ){
    pJ->eState = JS_OTHER;
    return 0;
  }
  if( pJ->nDepth==1 ){
    cliErrorAt(pJ->p, "not a JSON object (%s)", zType);
    return 0;
  }
  return 1;
}

/* yajl callbacks for the values that are no object. */
static int cliJsonNull(void *pCtx){
  return cliJsonNotObject((CliJson*)pCtx, "null");
}
static int cliJsonBool(void *pCtx, int b){
  return cliJsonNotObject((CliJson*)pCtx, b ? "true" : "false");
}
static int cliJsonString(void *pCtx, const unsigned char *z, size_t n){
  (void)z; (void)n;
  return cliJsonNotObject((CliJson*)pCtx, "text");
}

/* yajl callback: a number, as its text (so yajl converts none, and none
** is too large for it).  json_type() calls it real if it has a fraction
** or an exponent. */
static int cliJsonNumber(void *pCtx, const char *z, size_t n){
  CliJson *pJ = (CliJson*)pCtx;
  if( pJ->nDepth>1 ) return 1;
  return cliJsonNotObject(pJ, memchr(z, '.', n) || memchr(z, 'e', n)
                              || memchr(z, 'E', n) ? "real" : "integer");
}

/* yajl callback: '['.  At the top level, the array begins. */
static int cliJsonStartArray(void *pCtx){
  CliJson *pJ = (CliJson*)pCtx;
  if( pJ->nDepth==0 ){
    pJ->eState = JS_ARRAY;
  }else if( !cliJsonNotObject(pJ, "array") ){
    return 0;
  }
  pJ->nDepth++;
  return 1;
}

/* yajl callback: ']'.  Back at the top level, the array has ended. */
static int cliJsonEndArray(void *pCtx){
  CliJson *pJ = (CliJson*)pCtx;
  if( --pJ->nDepth==0 ) pJ->eState = JS_END;
  return 1;
}

/* yajl callback: '{'.  In the array, an element begins, at the '{' yajl
** has just read (one byte, so in this chunk). */
static int cliJsonStartMap(void *pCtx){
  CliJson *pJ = (CliJson*)pCtx;
  if( pJ->nDepth==0 ) return cliJsonNotObject(pJ, "object");
  if( pJ->nDepth==1 ){
    pJ->bElem = 1;
    pJ->nElem = 0;
    pJ->iSpan = cliJsonAt(pJ) - 1;
    pJ->p->iElemAt = pJ->iBase + (sqlite3_int64)pJ->iSpan + 1;
  }
  pJ->nDepth++;
  return 1;
}

/*
** yajl callback: '}'.  Back in the array, an element has ended: its text
** goes to cliJsonObject(), to find its keys or to be written.  An element
** within this chunk is read where it is; one that began in an earlier
** chunk has its bytes gathered in aElem.
*/
static int cliJsonEndMap(void *pCtx){
  CliJson *pJ = (CliJson*)pCtx;
  Cli *p = pJ->p;
  const char *z = pJ->zText + pJ->iSpan;
  size_t iEnd, n;
  if( --pJ->nDepth>1 ) return 1;
  iEnd = cliJsonAt(pJ);
  n = iEnd - pJ->iSpan;
  if( pJ->nElem ){
    if( cliElemAppend(p, &pJ->aElem, &pJ->nElem, &pJ->nElemAlloc, z, n) ){
      return 0;
    }
    z = pJ->aElem;
    n = pJ->nElem;
  }
  pJ->bElem = 0;
  pJ->nElem = 0;
  p->nIn = pJ->iBase + (sqlite3_int64)iEnd;      /* for the percentage */
  cliJsonObject(p, pJ->pEach, pJ->pType, z, n);
  if( p->rc ) return 0;
  p->iElem++;
  return 1;
}

/*
** Record yajl's error, found iAt bytes into the input: "not valid JSON
** at byte N" and yajl's reason ("parse error: after array element, I
** expect ',' or ']'\n", without its kind, the newline and any period).
*/
static void cliJsonSyntaxError(CliJson *pJ, sqlite3_int64 iAt){
  unsigned char *zYajl = yajl_get_error(pJ->h, 0, 0, 0);
  const char *zWhy = zYajl ? (const char*)zYajl : "";
  const char *zColon = strstr(zWhy, "error: ");
  size_t n;
  if( zColon ) zWhy = zColon + 7;
  n = strlen(zWhy);
  while( n>0 && (zWhy[n-1]=='\n' || zWhy[n-1]=='.') ) n--;
  cliErrorAt(pJ->p, "not valid JSON at byte %lld%s%.*s", (long long)iAt,
             n ? ": " : "", (int)n, zWhy);
  if( zYajl ) yajl_free_error(pJ->h, zYajl);
}

/*
** One pass over a JSON input, an array of objects, streamed: find the
** columns and their types (bInfer), or write the rows.  yajl parses the
** input a chunk at a time (CHUNK bytes) and its callbacks hand each
** element to cliJsonObject(), so the memory held is that of the largest
** element (and of the token yajl holds across two chunks), not of the
** input.  yajl checks the syntax of the whole text, and says where an
** error is; json_each() then reads each element for its values, so that
** they are what SQLite's JSON functions make of them.
**
** Strings are not checked to be UTF-8 (yajl_dont_validate_strings), as
** SQLite's JSON functions do not check them.  yajl takes a vertical tab
** and a form feed for white space, which SQLite refuses: only outside the
** elements, then, are they let by.
*/
static void cliJsonRun(Cli *p, int bInfer){
  static const yajl_callbacks cb = {
    cliJsonNull, cliJsonBool,
    0, 0, cliJsonNumber,          /* numbers as text: none converted */
    cliJsonString,
    cliJsonStartMap, 0, cliJsonEndMap,   /* keys: json_each()'s */
    cliJsonStartArray, cliJsonEndArray,
  };
  CliJson js;
  yajl_status st = yajl_status_ok;
  sqlite3_int64 nRead = 0;        /* bytes read from the input */
  int bFirst = 1, bEof = 0;
  memset(&js, 0, sizeof(js));
  js.p = p;
  if( sqlite3_prepare_v2(p->db, "SELECT key, value, type FROM json_each(?1)",
                         -1, &js.pEach, 0)
   || sqlite3_prepare_v2(p->db, "SELECT json_type(?1)", -1, &js.pType, 0) ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }else if( (js.h = yajl_alloc(&cb, 0, &js))==0 ){
    cliNomem(p);
  }else{
    yajl_config(js.h, yajl_dont_validate_strings, 1);
  }
  p->bInfer = bInfer;
  p->iElem = 0;
  p->nIn = 0;
  while( p->rc==0 && st==yajl_status_ok ){
    size_t n = cliRead(p, p->aChunk, CHUNK), iStart = 0;
    if( p->rc ) break;
    if( n==0 ){
      bEof = 1;
      st = yajl_complete_parse(js.h);
      break;
    }
    if( bFirst ){
      bFirst = 0;
      iStart = cliBomSize(p->aChunk, n);
    }
    js.zText = p->aChunk + iStart;
    js.iBase = nRead + (sqlite3_int64)iStart;
    js.iSpan = 0;                 /* an element that goes on starts here */
    st = yajl_parse(js.h, (const unsigned char*)js.zText, n-iStart);
    if( st==yajl_status_ok && js.bElem ){
      /* the element goes on in the next chunk */
      cliElemAppend(p, &js.aElem, &js.nElem, &js.nElemAlloc,
                    js.zText+js.iSpan, n-iStart-js.iSpan);
    }
    nRead += (sqlite3_int64)n;
  }
  if( p->rc==0 ){
    sqlite3_int64 iAt = bEof ? nRead
                             : js.iBase + (sqlite3_int64)cliJsonAt(&js);
    if( js.eState==JS_START || js.eState==JS_OTHER ){
      cliJsonTopError(p);
    }else if( js.eState==JS_END ){
      if( st!=yajl_status_ok ){
        cliError(p, "%s: not valid JSON at byte %lld: text after the "
                 "closing ']' of the array", p->zName, (long long)iAt);
      }
    }else if( bEof ){
      /* named by the element it cuts short, if any */
      char *zPos = js.bElem ? cliPosText(p, p->iElem)
                            : sqlite3_mprintf("%s", p->zName);
      cliError(p, "%z: not valid JSON: the array is not closed by the end "
               "of the input", zPos);
    }else{
      cliJsonSyntaxError(&js, iAt);
    }
  }
  if( js.h ) yajl_free(js.h);
  sqlite3_finalize(js.pEach);
  sqlite3_finalize(js.pType);
  free(js.aElem);
}

/* ---------------------------------------------------------------------
** Command line
*/

static const char zUsage[] =
"usage: sqlite-upsert DB TABLE [FILE|-] [options]\n"
"\n"
"Insert every record of FILE (standard input if '-' or none) into TABLE of\n"
"the SQLite database DB, or update the row with the same key: a bulk\n"
"upsert, through the upsert_into extension (compiled in).  TABLE is NAME\n"
"or main.NAME, quoted as in SQL if need be: a table whose name holds a dot\n"
"is '\"a.b\"'.\n"
"\n"
"Input:\n"
"  --csv, --tsv      comma- or tab-separated values; the first row names\n"
"                    the columns.  RFC 4180 quoting (\"a, b\",\n"
"                    \"say \"\"hi\"\"\", newlines inside quotes); an empty\n"
"                    unquoted field is NULL, \"\" is the empty string; text\n"
"                    takes the column's affinity (\"42\" into an INTEGER\n"
"                    column is 42)\n"
"  --json            an array of objects: [{\"id\": 1, \"a\": \"x\"}, ...]\n"
"  --jsonl           one object per line (JSON lines, NDJSON)\n"
"                    JSON values keep their types; the columns are the keys\n"
"                    of all the objects, and a key an object lacks is NULL\n"
"  Without one of these, the format comes from FILE's extension: .csv,\n"
"  .tsv or .tab, .json, .jsonl or .ndjson.  A UTF-8 BOM is skipped.\n"
"  --fill-short      CSV, TSV: a record with fewer fields than the header\n"
"                    has NULL in the rest (default: an error)\n"
"  --ignore-extra    CSV, TSV: the fields of a record past the header's\n"
"                    are dropped (default: an error)\n"
"  --empty-string    CSV, TSV: an empty unquoted field is the empty string,\n"
"                    as in the sqlite3 shell's .import (default: NULL)\n"
"\n"
"Upsert:\n"
"  -k, --key a,b     the conflict target: the PRIMARY KEY (default) or the\n"
"                    columns of a UNIQUE index; given twice, --key a\n"
"                    --key b is the key (a,b)\n"
"  --pk a,b          the same as --key\n"
"  -u, --update a,b  columns overwritten when the key exists (default: every\n"
"                    non-key column of the input); --update '' inserts new\n"
"                    keys only and leaves existing rows alone\n"
"  --keep a,b        columns written for new rows only, never overwritten\n"
"                    (--update and --keep add up when given twice, too)\n"
"  --nulls keep      a NULL means \"not given\": a new row gets the column's\n"
"                    DEFAULT, an existing row keeps its value\n"
"                    (default: --nulls overwrite)\n"
"  --skip-unchanged  leave a row alone when every column the update would\n"
"                    overwrite holds that value already (same value and type\n"
"                    once the column's affinity applies): counted skipped,\n"
"                    no UPDATE trigger fires, no page is written\n"
"  --delete-missing  then delete every row of TABLE whose key the input\n"
"                    does not have, in the same transaction (foreign keys\n"
"                    act as their ON DELETE says); every record needs its\n"
"                    key (not NULL).  Not with --batch\n"
"  --allow-empty     let --delete-missing empty TABLE when the input has no\n"
"                    rows (default: an error)\n"
"  Columns of TABLE that the input does not name are left alone.\n"
"\n"
"Table:\n"
"  -c, --create      create TABLE if it does not exist: the input's columns,\n"
"                    typed INTEGER, REAL, NUMERIC or TEXT (or none, for JSON\n"
"                    that mixes them) from all the values seen, so that each\n"
"                    value is kept as it is; PRIMARY KEY (--key, which\n"
"                    --create then needs).  The input is read twice.\n"
"                    Without --create a missing database file or a\n"
"                    missing table is an error.\n"
"  --alter           add the columns of the input that TABLE lacks, typed\n"
"                    as --create types them (ALTER TABLE ADD COLUMN, in\n"
"                    the run's transaction).  The input is read twice.\n"
"                    Without --alter a column TABLE lacks is an error.\n"
"\n"
"Transactions:\n"
"  -b, --batch N     commit every N rows; on an error, says which rows were\n"
"                    committed.  Default: the whole input is one transaction,\n"
"                    so any error leaves the database as it was.\n"
"  -n, --dry-run     do it all, print the counts, then roll back: the\n"
"                    database file is left as it was.  Not with --batch\n"
"  --no-foreign-keys do not enforce FOREIGN KEY constraints.  By default\n"
"                    they are enforced, checked at each COMMIT (so a row\n"
"                    may come before the row it refers to); a violation\n"
"                    fails the run as any constraint does.\n"
"\n"
"Output:\n"
"  -q, --quiet       no summary line and no progress; errors are still shown\n"
"  -h, --help        this help\n"
"  -V, --version     the version: \"" PROG " " UPSERT_VERSION "\"\n"
"  Flags may come anywhere; a short flag stands alone (-c -q, not -cq);\n"
"  a value follows as the next argument, or after = (--key=id); \"--\"\n"
"  ends the flags.\n"
"\n"
"At the end: \"inserted N, updated M, skipped K in T s\" on standard output\n"
"(\", deleted D\" after K with --delete-missing; \"(dry run: rolled back,\n"
"nothing written)\" after T s with --dry-run).\n"
"Errors name the record, \"file:line: what\" ($[i] for an element of a JSON\n"
"array).  Progress (rows, rows/s, and a percentage for a regular file, not\n"
"for a pipe) goes to standard error when it is a terminal.\n"
"\n"
"Exit status:\n"
"  0                 every record written\n"
"  1                 an error in the input or the database: nothing written\n"
"                    (with --batch, the batches before it stay)\n"
"  2                 a usage error: a flag, a value or an argument is wrong;\n"
"                    nothing is opened\n"
"  130, 143          interrupted by SIGINT (Ctrl-C) or SIGTERM, which stop\n"
"                    the run as an error does\n"
"\n"
"Examples:\n"
"  sqlite-upsert shop.db products products.csv\n"
"  sqlite-upsert shop.db users users.jsonl --key email --keep created_at\n"
"  sqlite-upsert shop.db prices prices.tsv --update price --batch 100000\n"
"  sqlite-upsert shop.db stock - --csv --nulls keep < partial.csv\n"
"  curl -s https://example.com/items.json |\n"
"    sqlite-upsert new.db items --json --create --key id\n";

/* A usage error: message, pointer to --help, exit status 2. */
static int cliUsageError(const char *zFmt, ...){
  va_list ap;
  fprintf(stderr, PROG ": ");
  va_start(ap, zFmt);
  vfprintf(stderr, zFmt, ap);
  va_end(ap);
  fprintf(stderr, "\n" PROG ": try '" PROG " --help'\n");
  return 2;
}

/* Out of memory while the command line is read: exit status 1. */
static int cliArgNomem(void){
  fprintf(stderr, PROG ": out of memory\n");
  return 1;
}

/* The format FILE's name implies, or FMT_NONE. */
static int cliFormatOfName(const char *zFile){
  static const struct { const char *zExt; int eFmt; } aExt[] = {
    { ".csv", FMT_CSV }, { ".tsv", FMT_TSV }, { ".tab", FMT_TSV },
    { ".json", FMT_JSON }, { ".jsonl", FMT_JSONL }, { ".ndjson", FMT_JSONL },
  };
  size_t n = strlen(zFile), i;
  for(i=0; i<sizeof(aExt)/sizeof(aExt[0]); i++){
    size_t nExt = strlen(aExt[i].zExt);
    if( n>nExt && sqlite3_stricmp(zFile+n-nExt, aExt[i].zExt)==0 ){
      return aExt[i].eFmt;
    }
  }
  return FMT_NONE;
}

/*
** The flags, for cliArgs.  A flag is given as --name, -name (as the
** sqlite3 shell takes them) or, if it has one, as its short form -x, on
** its own: "-c -q", not "-cq".  A flag with a value (bValue) takes it
** from the next argument, or after "=" in the long form: --key=id.
** test/cli.test checks that --help and the man page name the same flags.
*/
enum {
  FLAG_CSV, FLAG_TSV, FLAG_JSON, FLAG_JSONL,          /* FMT_* - 1 */
  FLAG_KEY, FLAG_UPDATE, FLAG_KEEP, FLAG_NULLS, FLAG_CREATE, FLAG_BATCH,
  FLAG_NOFK, FLAG_QUIET, FLAG_HELP, FLAG_VERSION, FLAG_FILL, FLAG_EXTRA,
  FLAG_EMPTY, FLAG_ALTER, FLAG_SKIP, FLAG_DRY, FLAG_DELETE, FLAG_ALLOW
};
static const struct CliFlag {
  const char *zName;          /* long name, without the dashes */
  char cShort;                /* short form, or 0 */
  char bValue;                /* takes a value */
  char eFlag;                 /* FLAG_* */
} aCliFlag[] = {
  { "csv",             0,  0, FLAG_CSV },
  { "tsv",             0,  0, FLAG_TSV },
  { "json",            0,  0, FLAG_JSON },
  { "jsonl",           0,  0, FLAG_JSONL },
  { "key",             'k', 1, FLAG_KEY },
  { "pk",              0,  1, FLAG_KEY },     /* as sqlite-utils says it */
  { "update",          'u', 1, FLAG_UPDATE },
  { "keep",            0,  1, FLAG_KEEP },
  { "nulls",           0,  1, FLAG_NULLS },
  { "create",          'c', 0, FLAG_CREATE },
  { "alter",           0,  0, FLAG_ALTER },
  { "batch",           'b', 1, FLAG_BATCH },
  { "no-foreign-keys", 0,  0, FLAG_NOFK },
  { "skip-unchanged",  0,  0, FLAG_SKIP },
  { "delete-missing",  0,  0, FLAG_DELETE },
  { "allow-empty",     0,  0, FLAG_ALLOW },
  { "dry-run",         'n', 0, FLAG_DRY },
  { "fill-short",      0,  0, FLAG_FILL },
  { "ignore-extra",    0,  0, FLAG_EXTRA },
  { "empty-string",    0,  0, FLAG_EMPTY },
  { "quiet",           'q', 0, FLAG_QUIET },
  { "help",            'h', 0, FLAG_HELP },
  { "version",         'V', 0, FLAG_VERSION },
};

/* The flag argument z names (with its dashes), or NULL.  *pzVal is set to
** the text after "=" of a long form, or NULL. */
static const struct CliFlag *cliFlagFind(const char *z, const char **pzVal){
  size_t i, k;
  *pzVal = 0;
  if( z[1]!='-' && z[1]!=0 && z[2]==0 ){
    for(i=0; i<sizeof(aCliFlag)/sizeof(aCliFlag[0]); i++){
      if( aCliFlag[i].cShort==z[1] ) return &aCliFlag[i];
    }
  }
  z += z[1]=='-' ? 2 : 1;
  k = strcspn(z, "=");
  for(i=0; i<sizeof(aCliFlag)/sizeof(aCliFlag[0]); i++){
    if( strlen(aCliFlag[i].zName)==k && memcmp(aCliFlag[i].zName, z, k)==0 ){
      if( z[k]=='=' ) *pzVal = z+k+1;
      return &aCliFlag[i];
    }
  }
  return 0;
}

/*
** Add the columns zVal of a list flag (--key a,b) to the list *pzList,
** so that "--key a --key b" is "a,b".  The empty list (--update '') may
** only be given alone.  Returns 0, or 2 after a usage error.
*/
static int cliListAdd(char **pzList, const char *zFlag, const char *zVal){
  char *zNew;
  if( *pzList && ((*pzList)[0]==0 || zVal[0]==0) ){
    return cliUsageError("--%s '' cannot be given with other --%s columns",
                         zFlag, zFlag);
  }
  zNew = *pzList ? sqlite3_mprintf("%s,%s", *pzList, zVal)
                 : sqlite3_mprintf("%s", zVal);
  if( zNew==0 ) return cliArgNomem();
  sqlite3_free(*pzList);
  *pzList = zNew;
  return 0;
}

/*
** One identifier of TABLE at *pz, into *pzOut (sqlite3_malloc'd): quoted
** as SQL quotes it ("a.b", with "" for a quote; `a.b`; [a.b]), or bare,
** up to the next dot.  *pz is moved past it.  Returns 0, 1 if a quote
** is not closed, or 2 on OOM.
*/
static int cliIdent(const char **pz, char **pzOut){
  const char *z = *pz;
  char cEnd = z[0]=='"' ? '"' : z[0]=='`' ? '`' : z[0]=='[' ? ']' : 0;
  sqlite3_str *pStr = sqlite3_str_new(0);
  if( cEnd==0 ){
    size_t n = strcspn(z, ".");
    sqlite3_str_append(pStr, z, (int)n);
    z += n;
  }else{
    for(z++; *z; z++){
      if( *z==cEnd ){
        if( cEnd==']' || z[1]!=cEnd ) break;
        z++;                    /* a doubled quote is one */
      }
      sqlite3_str_appendchar(pStr, 1, *z);
    }
    if( *z==0 ){
      sqlite3_free(sqlite3_str_finish(pStr));
      return 1;
    }
    z++;
  }
  if( sqlite3_str_length(pStr)==0 ){
    sqlite3_free(sqlite3_str_finish(pStr));
    *pzOut = sqlite3_mprintf("%s", "");
  }else{
    *pzOut = sqlite3_str_finish(pStr);
  }
  *pz = z;
  return *pzOut ? 0 : 2;
}

/*
** TABLE, zArg, into p->zTable: NAME or main.NAME, either part quoted as
** in SQL.  A bare name with a dot is taken as SCHEMA.NAME, so that
** "shop.users" never creates a table of that name; a table whose name
** holds a dot is given quoted, "\"a.b\"".  A database file has one
** schema, main; temp is refused as :memory: is, since what is written
** there is gone when the tool exits.  Returns -1, or 2 after a usage
** error.
*/
static int cliTableArg(Cli *p, const char *zArg){
  const char *z = zArg;
  char *zFirst = 0, *zSecond = 0;
  int rc = -1, rcIdent;
  if( (rcIdent = cliIdent(&z, &zFirst))!=0 ){
    rc = rcIdent==2 ? cliArgNomem()
                    : cliUsageError("TABLE '%s': a quote is not closed", zArg);
  }else if( *z=='.' ){
    z++;
    if( (rcIdent = cliIdent(&z, &zSecond))!=0 ){
      rc = rcIdent==2 ? cliArgNomem()
                 : cliUsageError("TABLE '%s': a quote is not closed", zArg);
    }else if( *z ){
      rc = cliUsageError("TABLE '%s' is not NAME or main.NAME (quote a name "
                         "that holds a dot: '\"%s\"')", zArg, zArg);
    }else if( sqlite3_stricmp(zFirst, "temp")==0 ){
      rc = cliUsageError("TABLE '%s': a temporary table is gone when "
                         PROG " exits: nothing written to it would be "
                         "kept", zArg);
    }else if( sqlite3_stricmp(zFirst, "main")!=0 ){
      rc = cliUsageError("TABLE '%s': no schema '%s' (a database file has "
                         "one, main; quote a name that holds a dot: "
                         "'\"%s\"')", zArg, zFirst, zArg);
    }
  }else if( *z ){
    rc = cliUsageError("TABLE '%s': text after the closing quote", zArg);
  }
  if( rc<0 ){
    p->zTable = zSecond ? zSecond : zFirst;
    if( p->zTable[0]==0 ) rc = cliUsageError("TABLE '%s' is empty", zArg);
    if( zSecond ){ zSecond = 0; }else{ zFirst = 0; }
  }
  sqlite3_free(zFirst);
  sqlite3_free(zSecond);
  return rc;
}

/*
** Parse the command line into p.  Returns -1 to go on, or an exit status
** (0 after --help or --version, 2 after a usage error).
*/
static int cliArgs(Cli *p, int argc, char **argv){
  const char *azPos[3];
  int nPos = 0, i, rc, bOpts = 1;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zVal = 0;
    const struct CliFlag *pFlag;
    if( !bOpts || z[0]!='-' || z[1]==0 ){
      if( nPos==3 ) return cliUsageError("unexpected argument '%s'", z);
      azPos[nPos++] = z;
      continue;
    }
    if( strcmp(z, "--")==0 ){ bOpts = 0; continue; }
    pFlag = cliFlagFind(z, &zVal);
    if( pFlag==0 ) return cliUsageError("unknown option '%s'", z);
    if( !pFlag->bValue ){
      if( zVal ) return cliUsageError("--%s takes no value", pFlag->zName);
    }else if( zVal==0 ){
      if( i+1>=argc ) return cliUsageError("--%s needs a value", pFlag->zName);
      zVal = argv[++i];
    }
    switch( pFlag->eFlag ){
      case FLAG_HELP:
        fputs(zUsage, stdout);
        return 0;
      case FLAG_VERSION:
        printf(PROG " " UPSERT_VERSION "\n");
        return 0;
      case FLAG_CSV: case FLAG_TSV: case FLAG_JSON: case FLAG_JSONL:
        if( p->eFmt && p->eFmt!=pFlag->eFlag+1 ){
          return cliUsageError("more than one format given");
        }
        p->eFmt = pFlag->eFlag+1;
        break;
      case FLAG_CREATE: p->bCreate = 1; break;
      case FLAG_ALTER:  p->bAlter = 1;  break;
      case FLAG_NOFK:   p->bNoFk = 1;   break;
      case FLAG_QUIET:  p->bQuiet = 1;  break;
      case FLAG_FILL:   p->bFillShort = 1;   break;
      case FLAG_EXTRA:  p->bIgnoreExtra = 1; break;
      case FLAG_EMPTY:  p->bEmptyString = 1; break;
      case FLAG_SKIP:   p->bSkipSame = 1;      break;
      case FLAG_DRY:    p->bDryRun = 1;        break;
      case FLAG_DELETE: p->bDeleteMissing = 1; break;
      case FLAG_ALLOW:  p->bAllowEmpty = 1;    break;
      case FLAG_KEY:
        if( zVal[0]==0 ) return cliUsageError("--key needs at least one column");
        if( (rc = cliListAdd(&p->zKey, "key", zVal)) ) return rc;
        break;
      case FLAG_UPDATE:
        if( (rc = cliListAdd(&p->zUpdate, "update", zVal)) ) return rc;
        break;
      case FLAG_KEEP:
        if( (rc = cliListAdd(&p->zKeep, "keep", zVal)) ) return rc;
        break;
      case FLAG_NULLS:
        if( strcmp(zVal, "keep") && strcmp(zVal, "overwrite") ){
          return cliUsageError("--nulls is 'keep' or 'overwrite', not '%s'",
                               zVal);
        }
        p->zNulls = zVal;
        break;
      default: {                  /* FLAG_BATCH */
        char *zEnd = 0;
        long long n;
        errno = 0;
        n = strtoll(zVal, &zEnd, 10);
        if( zVal[0]<'0' || zVal[0]>'9' || *zEnd || errno || n<1 ){
          return cliUsageError("--batch needs a number of rows, 1 or more, "
                               "not '%s'", zVal);
        }
        p->nBatch = n;
        break;
      }
    }
  }
  if( nPos<2 ) return cliUsageError("needs a database and a table");
  if( p->zUpdate && p->zKeep ){
    return cliUsageError("--update and --keep cannot be used together");
  }
  if( p->nBatch && p->bDeleteMissing ){
    return cliUsageError("--delete-missing and --batch cannot be used "
        "together: --delete-missing deletes the rows the whole input lacks, "
        "and a batch is committed before the rest of the input is read");
  }
  if( p->nBatch && p->bDryRun ){
    return cliUsageError("--dry-run and --batch cannot be used together: "
                         "a batch is committed");
  }
  if( p->bAllowEmpty && !p->bDeleteMissing ){
    return cliUsageError("--allow-empty goes with --delete-missing");
  }
  for(i=0; i<3; i++){
    /* "--key id," names an empty column: a usage error, as --key '' is */
    static const char *azFlag[] = { "key", "update", "keep" };
    const char *zList = i==0 ? p->zKey : i==1 ? p->zUpdate : p->zKeep;
    const char *z = zList && zList[0] ? zList : 0, *zName;
    int n;
    while( cliListNext(&z, &zName, &n) ){
      if( n==0 ){
        return cliUsageError("--%s: an empty column name in '%s'",
                             azFlag[i], zList);
      }
    }
  }
  p->zDb = azPos[0];
  if( (rc = cliTableArg(p, azPos[1]))>=0 ) return rc;
  p->zFile = nPos>2 ? azPos[2] : "-";
  if( p->eFmt==FMT_NONE ){
    if( strcmp(p->zFile, "-")==0 ){
      return cliUsageError("give the format of standard input: --csv, "
                           "--tsv, --json or --jsonl");
    }
    p->eFmt = cliFormatOfName(p->zFile);
    if( p->eFmt==FMT_NONE ){
      return cliUsageError("cannot tell the format of '%s' from its name: "
                           "give --csv, --tsv, --json or --jsonl", p->zFile);
    }
  }
  if( p->eFmt!=FMT_CSV && p->eFmt!=FMT_TSV ){
    const char *zCsvOnly = p->bFillShort ? "fill-short"
                         : p->bIgnoreExtra ? "ignore-extra"
                         : p->bEmptyString ? "empty-string" : 0;
    if( zCsvOnly ){
      return cliUsageError("--%s is for CSV and TSV: JSON says null and "
                           "\"\" itself", zCsvOnly);
    }
  }
  return -1;
}

/* The value of hexadecimal digit c, or -1. */
static int cliHexDigit(char c){
  if( c>='0' && c<='9' ) return c-'0';
  if( c>='a' && c<='f' ) return c-'a'+10;
  if( c>='A' && c<='F' ) return c-'A'+10;
  return -1;
}

/* Open the input; its size when it is a regular file. */
static void cliOpenInput(Cli *p){
  struct stat st;
  if( strcmp(p->zFile, "-")==0 ){
    p->in = stdin;
    p->zName = "stdin";
  }else{
    p->in = fopen(p->zFile, "rb");
    p->zName = p->zFile;
    if( p->in==0 ){
      cliError(p, "cannot open %s: %s", p->zFile, strerror(errno));
      return;
    }
  }
  p->szIn = -1;
  if( fstat(fileno(p->in), &st)==0 && S_ISREG(st.st_mode) ){
    /* Standard input may start anywhere in the file: after what a "read"
    ** of the shell took, say.  A second pass goes back there, not to 0. */
    off_t iStart = ftello(p->in);
    if( iStart<0 ) iStart = 0;
    p->iInStart = (sqlite3_int64)iStart;
    p->szIn = (sqlite3_int64)st.st_size - p->iInStart;
    p->bSized = 1;
  }
  p->nChunkAlloc = CHUNK;
  p->aChunk = malloc(p->nChunkAlloc);
  if( p->aChunk==0 ) cliNomem(p);
}

/* For a second pass: copy standard input that is not a regular file into
** a temporary file, which the passes then read. */
static void cliSpool(Cli *p){
  FILE *pTmp;
  size_t n;
  if( p->rc || p->szIn>=0 ) return;
  pTmp = tmpfile();
  if( pTmp==0 ){
    cliError(p, "cannot create a temporary file: %s", strerror(errno));
    return;
  }
  while( (n = cliRead(p, p->aChunk, CHUNK))>0 && p->rc==0 ){
    if( fwrite(p->aChunk, 1, n, pTmp)!=n ){
      cliError(p, "cannot write a temporary file: %s", strerror(errno));
      break;
    }
  }
  if( p->in!=stdin ) fclose(p->in);
  p->in = pTmp;
  p->szIn = (sqlite3_int64)ftello(pTmp);
  p->iInStart = 0;
  rewind(pTmp);
}

/* Back to the start of the input, for the second pass. */
static void cliRewind(Cli *p){
  if( p->rc ) return;
  if( fseeko(p->in, (off_t)p->iInStart, SEEK_SET) ){
    cliError(p, "%s: cannot read it twice: %s", p->zName, strerror(errno));
  }
}

/*
** The file a database name zDb names, sqlite3_malloc'd: zDb itself, or
** the path of a URI, "file:data.db?cache=shared" or "file:///x/data.db",
** %-escapes decoded.  NULL for a URI with an authority other than
** localhost, or on OOM.
*/
static char *cliDbPath(const char *zDb){
  const char *z = zDb;
  sqlite3_str *pStr;
  if( sqlite3_strnicmp(z, "file:", 5)!=0 ) return sqlite3_mprintf("%s", z);
  z += 5;
  if( z[0]=='/' && z[1]=='/' ){
    if( z[2]=='/' ) z += 2;
    else if( sqlite3_strnicmp(z+2, "localhost/", 10)==0 ) z += 11;
    else return 0;
  }
  pStr = sqlite3_str_new(0);
  for(; *z && *z!='?' && *z!='#'; z++){
    int h1, h2;
    if( z[0]=='%' && (h1 = cliHexDigit(z[1]))>=0
     && (h2 = cliHexDigit(z[2]))>=0 ){
      sqlite3_str_appendchar(pStr, 1, (char)(h1*16+h2));
      z += 2;
    }else{
      sqlite3_str_appendchar(pStr, 1, *z);
    }
  }
  return sqlite3_str_finish(pStr);
}

/*
** Why database zDb cannot be opened without SQLITE_OPEN_CREATE, when the
** reason is that it is missing: a message, sqlite3_malloc'd, or NULL to
** keep SQLite's ("unable to open database file").
*/
static char *cliDbMissing(const char *zDb){
  struct stat st;
  char *zPath = cliDbPath(zDb), *zMsg = 0, *zSlash;
  if( zPath==0 || zPath[0]==0 ){
    sqlite3_free(zPath);
    return 0;
  }
  if( stat(zPath, &st)!=0 && errno==ENOENT ){
    zSlash = strrchr(zPath, '/');
    if( zSlash ) *zSlash = 0;
    if( zSlash==0 || zSlash==zPath || stat(zPath, &st)==0 ){
      zMsg = sqlite3_mprintf("cannot open %s: the file does not exist "
                             "(--create creates it)", zDb);
    }else{
      zMsg = sqlite3_mprintf("cannot open %s: directory %s does not exist",
                             zDb, zPath);
    }
  }
  sqlite3_free(zPath);
  return zMsg;
}

/*
** Open the database, begin the transaction and look for the table.
**
** The file is opened without SQLITE_OPEN_CREATE first: only if that
** fails, and --create is given, is it created, and then it is the file
** that SQLite reports (sqlite3_db_filename, through any symbolic link)
** that a failed run removes.  Asking SQLite rather than access(DB) also
** serves a URI DB, "file:data.db?cache=shared".
*/
static void cliOpenDb(Cli *p){
  sqlite3_stmt *pStmt = 0;
  sqlite3_vfs *pVfs = 0;
  const char *zPath;
  int rc;
  if( p->rc ) return;
  if( p->zDb[0]==0 ){
    /* "" would be a private temporary database: an unset $DB, say */
    cliError(p, "the database file name is empty");
    return;
  }
  sqlite3_auto_extension((void(*)(void))sqlite3_upsert_init);
  rc = sqlite3_open_v2(p->zDb, &p->db, SQLITE_OPEN_READWRITE, 0);
  if( rc==SQLITE_CANTOPEN && p->bCreate ){
    sqlite3_close(p->db);
    p->db = 0;
    rc = sqlite3_open_v2(p->zDb, &p->db,
                         SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
    if( rc==SQLITE_OK ) p->bNewDb = 1;
  }
  if( rc!=SQLITE_OK ){
    char *zMissing = rc==SQLITE_CANTOPEN ? cliDbMissing(p->zDb) : 0;
    if( zMissing ){
      cliError(p, "%z", zMissing);
    }else{
      cliError(p, "cannot open %s: %s", p->zDb,
               p->db ? sqlite3_errmsg(p->db) : "out of memory");
    }
    return;
  }
  zPath = sqlite3_db_filename(p->db, "main");
  sqlite3_file_control(p->db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs);
  if( zPath==0 || zPath[0]==0
   || (pVfs && pVfs->zName && strcmp(pVfs->zName, "memdb")==0) ){
    /* ":memory:", "file:x?mode=memory", "file:/x?vfs=memdb": a run would
    ** succeed and keep nothing. */
    cliError(p, "'%s' is an in-memory or temporary database: nothing "
             "written to it would be kept", p->zDb);
    return;
  }
  if( p->bNewDb ){
    p->zDbPath = sqlite3_mprintf("%s", zPath);
    if( p->zDbPath==0 ){ cliNomem(p); return; }
  }
  sqlite3_busy_handler(p->db, cliBusy, 0);
  /* A dry run leaves a WAL as it found it: no checkpoint on close, which
  ** would copy frames a crashed writer committed into the file */
  if( p->bDryRun ){
    sqlite3_db_config(p->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int*)0);
  }
  cliSignalDb = p->db;
  p->nColMax = sqlite3_limit(p->db, SQLITE_LIMIT_COLUMN, -1);
  /* Enforced, as a constraint of the table; set outside a transaction,
  ** where SQLite takes it. */
  if( cliExec(p, p->bNoFk ? "PRAGMA foreign_keys=OFF"
                          : "PRAGMA foreign_keys=ON") ) return;
  cliBegin(p);
  if( p->rc ) return;
  if( sqlite3_prepare_v2(p->db,
        "SELECT count(*) FROM pragma_table_xinfo(?1, 'main')", -1, &pStmt, 0)
   ==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, p->zTable, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      p->bTableExists = sqlite3_column_int(pStmt, 0)>0;
    }
  }
  if( sqlite3_finalize(pStmt)!=SQLITE_OK ){
    cliError(p, "%s", sqlite3_errmsg(p->db));
  }else if( !p->bTableExists && !p->bCreate ){
    cliError(p, "no such table: '%s' (--create creates it from the input)",
             p->zTable);
  }
}

/* The counts of the virtual table, into a[3]: inserted, updated,
** skipped. */
static void cliCounts(Cli *p, sqlite3_int64 *a){
  sqlite3_stmt *pStmt = 0;
  a[0] = a[1] = a[2] = 0;
  if( p->pIns==0 ) return;
  if( sqlite3_prepare_v2(p->db,
        "SELECT json_extract(s, '$.inserted'), json_extract(s, '$.updated'),"
        " json_extract(s, '$.skipped')"
        "FROM (SELECT upsert_into_stats('temp." VTAB "') AS s)", -1,
        &pStmt, 0)
      ==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    a[0] = sqlite3_column_int64(pStmt, 0);
    a[1] = sqlite3_column_int64(pStmt, 1);
    a[2] = sqlite3_column_int64(pStmt, 2);
  }
  sqlite3_finalize(pStmt);
}

int main(int argc, char **argv){
  Cli cli;
  Cli *p = &cli;
  sqlite3_int64 aCount[3];
  int i, rc;

  memset(p, 0, sizeof(*p));
  rc = cliArgs(p, argc, argv);
  if( rc>=0 ){
    sqlite3_free(p->zTable);
    sqlite3_free(p->zKey);
    sqlite3_free(p->zUpdate);
    sqlite3_free(p->zKeep);
    return rc;
  }
  p->tStart = cliNow();
  p->tNext = p->tStart;
  p->bTty = isatty(2) && !p->bQuiet;
  cliCatchSignals();

  cliOpenInput(p);
  cliOpenDb(p);
  switch( p->eFmt ){
    case FMT_CSV:
    case FMT_TSV:
      if( !p->bTableExists || p->bAlter ){
        /* a first pass for the types of the columns to create */
        cliSpool(p);
        if( p->rc==0 ) cliCsvRun(p, 1);
        cliRewind(p);
      }
      if( p->rc==0 ) cliCsvRun(p, 0);
      break;
    case FMT_JSON:
      cliSpool(p);
      if( p->rc==0 ) cliJsonRun(p, 1);
      cliRewind(p);
      cliSetup(p);
      if( p->rc==0 ) cliJsonRun(p, 0);
      break;
    default:
      cliSpool(p);
      if( p->rc==0 ) cliJsonlRun(p, 1);
      cliRewind(p);
      cliSetup(p);
      if( p->rc==0 ) cliJsonlRun(p, 0);
      break;
  }
  if( p->bShown ) fprintf(stderr, "\r%60s\r", "");
  cliDeleteMissing(p);
  /* The counts before a dry run's ROLLBACK, which takes them back */
  if( p->rc==0 ) cliCounts(p, aCount);
  if( p->bDryRun && p->rc==0 ){
    /* What the COMMIT would check: the deferred foreign keys */
    int nFk = 0, nHi = 0;
    sqlite3_db_status(p->db, SQLITE_DBSTATUS_DEFERRED_FKS, &nFk, &nHi, 0);
    if( nFk>0 ) cliFkError(p, "FOREIGN KEY constraint failed");
  }
  if( p->bDryRun && p->rc==0 ){
    if( sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0)!=SQLITE_OK ){
      cliError(p, "%s", sqlite3_errmsg(p->db));
    }
    p->bTxn = 0;
  }else{
    cliCommit(p);
  }

  if( p->rc==0 ){
    if( !p->bQuiet ){
      printf("inserted %lld, updated %lld, skipped %lld",
             (long long)aCount[0], (long long)aCount[1],
             (long long)aCount[2]);
      if( p->bDeleteMissing ) printf(", deleted %lld", (long long)p->nDeleted);
      printf(" in %.2f s%s\n", cliNow()-p->tStart,
             p->bDryRun ? " (dry run: rolled back, nothing written)" : "");
    }
  }else{
    int bRolledBack = 0;
    fprintf(stderr, PROG ": %s\n", p->zErr ? p->zErr : "out of memory");
    if( p->bTxn ){
      sqlite3_exec(p->db, "ROLLBACK", 0, 0, 0);
      p->bTxn = 0;
      bRolledBack = 1;
    }
    if( p->nRowDone>0 ){
      char *zDone = cliPosText(p, p->iDonePos);
      cliCounts(p, aCount);
      fprintf(stderr, PROG ": committed rows 1 to %lld (through %s: "
              "inserted %lld, updated %lld, skipped %lld); the rows after "
              "them were not written\n", (long long)p->nRowDone,
              zDone ? zDone : "?", (long long)aCount[0],
              (long long)aCount[1], (long long)aCount[2]);
      sqlite3_free(zDone);
    }else if( bRolledBack ){
      fprintf(stderr, PROG ": nothing was written\n");
    }
  }

  sqlite3_finalize(p->pIns);
  sqlite3_finalize(p->pReal);
  sqlite3_finalize(p->pSeen);
  cliSignalDb = 0;
  sqlite3_close(p->db);
  if( (p->rc || p->bDryRun) && p->bNewDb && p->nRowDone==0 ){
    /* Leave no empty database file behind: as it was, there was none.
    ** Only the file the open created, never a symbolic link to it
    ** (lstat), and only while it is empty, as the rollback left it. */
    struct stat st;
    if( lstat(p->zDbPath, &st)==0 && S_ISREG(st.st_mode) && st.st_size==0 ){
      /* and a journal, should a rollback have left one: of no use to an
      ** empty file */
      char *zJournal = sqlite3_mprintf("%s-journal", p->zDbPath);
      if( zJournal ) unlink(zJournal);
      sqlite3_free(zJournal);
      unlink(p->zDbPath);
    }
  }
  if( p->in && p->in!=stdin ) fclose(p->in);
  for(i=0; i<p->nCol; i++) sqlite3_free(p->aCol[i].zName);
  free(p->aCol);
  free(p->aVal);
  free(p->aBuf);
  free(p->aChunk);
  sqlite3_free(p->zErr);
  sqlite3_free(p->zDbPath);
  sqlite3_free(p->aiKey);
  sqlite3_free(p->zDelete);
  sqlite3_free(p->zTable);
  sqlite3_free(p->zKey);
  sqlite3_free(p->zUpdate);
  sqlite3_free(p->zKeep);
  return p->rc;
}
