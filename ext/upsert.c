/*
** 2026-11-25
**
** The author disclaims copyright to this source code.  In place of
** a legal notice, here is a blessing:
**
**    May you do good and not evil.
**    May you find forgiveness for yourself and forgive others.
**    May you share freely, never taking more than you give.
**
******************************************************************************
**
** upsert_into: a virtual table that turns every row inserted into it into
** an upsert on a backing table.
**
**   .load ./dist/upsert
**   CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body);
**   CREATE VIRTUAL TABLE temp.posts_up USING upsert_into(posts);
**   INSERT INTO posts_up VALUES(1,'a','x'),(2,'b','y');   -- two new rows
**   INSERT INTO posts_up VALUES(1,'A','x');               -- row 1 updated
**   INSERT INTO posts_up SELECT id, title, body FROM staging;
**
** Each row becomes, on the backing table,
**
**   INSERT INTO posts(<cols>) VALUES(?1,?2,...)
**     ON CONFLICT(<key>) DO UPDATE SET c=excluded.c, ...
**
** prepared once per virtual table and reused for every row.
**
** Arguments: upsert_into(TABLE [, option=value ...])
**
**   TABLE        name or schema.name of the backing table (quoted
**                identifiers allowed).  For a TEMP table, an unqualified
**                name resolves as SQLite resolves one: temp, main, then
**                attached databases.  A persistent table writes tables of
**                its own database only.
**   key=(a,b)    the conflict target: the PRIMARY KEY (default) or the
**                columns of a UNIQUE index that is not partial
**   columns=(..) the columns declared; others take their DEFAULT on
**                insert and keep their value on update (default: all)
**   update=(..)  the columns overwritten on conflict; update=() means
**                DO NOTHING (default: every declared non-key column)
**   keep=(..)    declared columns never overwritten; not with update=
**   nulls=keep   an incoming NULL means "not given" (default: overwrite)
**   where=EXPR   update only where EXPR holds (TEMP tables only)
**   unchanged=skip  leave a row that would be updated to what it holds
**                already untouched, and count it skipped (default:
**                unchanged=update)
**
**   upsert_into_stats('up' [, 'reset']) returns, as JSON, how many rows
**   the table inserted, updated and skipped on this connection.
**   upsert_into_sql('posts' [, 'option=value', ...]) returns the text of
**   the statement a table of those arguments runs for each row, for a
**   client that runs it itself (NULL where that could count otherwise).
**
** Conflict modes of the INSERT into the virtual table:
**
**   ABORT (plain INSERT), FAIL, ROLLBACK   upsert; other constraint errors
**                                          act as the mode says
**   OR IGNORE                              INSERT OR IGNORE on the table
**   OR REPLACE                             INSERT OR REPLACE on the table
**
** Build:
**
**   Linux:   gcc -g -O2 -fPIC -shared upsert.c -o upsert.so
**   macOS:   gcc -g -O2 -fPIC -dynamiclib upsert.c -o upsert.dylib
**   Windows: gcc -g -O2 -shared upsert.c -o upsert.dll
**   Embedded: compile with -DSQLITE_CORE and call sqlite3_upsert_init(),
**            or hand it to sqlite3_auto_extension().
**
** HOW IT WORKS
**
** The sections of this file follow the work, in this order.
**
** A connect.  xCreate and xConnect are upsertInit(), which calls
** upsertDerive(): upsertOptions() splits the arguments, upsertResolve()
** finds the backing table, upsertSchemaRead() reads its columns, and
** upsertConfigure() applies the options (upsertConfigKey(), ...Columns(),
** ...Update(), ...Nulls(), ...Where()) and writes the declaration.  After
** DDL that changes the schema in place, upsertRefresh() derives it all
** again and exchanges it (upsertSwapDerived()).
**
** A row.  xUpdate is upsertUpdate(): it refuses UPDATE and DELETE, bounds
** the depth of nested writes, lets the runaway guard (upsertGuard(),
** upsertReadsBacking()) judge a statement at its second row, runs the
** opener (upsertRunOpener(), see upsertOpenerStmt()) and hands the row to
** upsertWriteRow().  That takes the inner statement (upsertWriteGet(),
** upsertWriteFind(), built by upsertWriteStmt()), binds the row
** (upsertBind()), steps it (upsertStep()), writes the row again after a
** schema change or a deferred foreign key, and counts it
** (upsertCountRow(); upsert_into_count() in the statement tells an
** update).  A failure gets the action a native statement would give it
** (upsertFailAction()).
**
** A read.  upsertBestIndex() chooses a scan or a key lookup; upsertFilter()
** runs the read statement of that plan (upsertScanStmt()) and the cursor
** methods return its rows; upsertRowKey() names the rows of a backing
** table without a rowid.
**
** The counts.  upsertStatsFind() keeps them in the module, by the virtual
** table's name; xBegin, xSavepoint and the rest snapshot them and take
** them back on rollback; upsertStatsFunc() is upsert_into_stats().
** upsertSqlFunc(), upsert_into_sql(), derives a table that is never
** connected and returns the text of its write statement.
*/
#if !defined(SQLITEINT_H)
#include "sqlite3ext.h"
#endif
SQLITE_EXTENSION_INIT1
#include <string.h>
#include <stdio.h>

/* The oldest SQLite this file works with: it needs pragma_table_list
** (3.37.0) and sqlite3_total_changes64() (3.37.0). */
#ifndef UPSERT_MIN_VERSION
# define UPSERT_MIN_VERSION 3037000
#endif

#define UPSERT_ERR "upsert_into: "

/* What upsert_into_version() returns.  The Makefile passes the number in
** the file VERSION; this default is for the file built alone. */
#ifndef UPSERT_VERSION
# define UPSERT_VERSION "0.1.0"
#endif

/*****************************************************************************
** Objects: the module, its tables, cursors and counts
*/

typedef struct UpsertTab UpsertTab;
typedef struct UpsertCursor UpsertCursor;
typedef struct UpsertModule UpsertModule;
typedef struct UpsertStats UpsertStats;
typedef struct UpsertWrite UpsertWrite;

/* Kinds of inner write statement, one per conflict mode of the INSERT
** into the virtual table (see upsertFailAction()), and a flag */
#define UPSERT_W_UPSERT   0    /* INSERT ... ON CONFLICT DO UPDATE (ABORT) */
#define UPSERT_W_IGNORE   1    /* INSERT OR IGNORE */
#define UPSERT_W_REPLACE  2    /* INSERT OR REPLACE */
#define UPSERT_W_FAIL     3    /* INSERT OR FAIL ... DO UPDATE */
#define UPSERT_W_ROLLBACK 4    /* INSERT OR ABORT ... DO UPDATE */
#define UPSERT_W_MODE     7    /* Mask of the kinds above */
#define UPSERT_W_ROWID    8    /* Flag: the row gives its rowid */

/* Query plans: see the comment above upsertBestIndex() */
#define UPSERT_PLAN_SCAN 0
#define UPSERT_PLAN_KEY  1

/* Counters of UpsertStats.a[] */
#define UPSERT_N_INSERTED 0
#define UPSERT_N_UPDATED  1
#define UPSERT_N_SKIPPED  2

/* Cached write statements of a table with nulls=keep: one for each
** pattern of NULL arguments seen, up to this many. */
#define UPSERT_N_WRITE 16

/* Inner statements running one inside another's triggers, at most: each
** level is a call of sqlite3_step() on the C stack (about 1 KB), where
** native trigger recursion takes none.  SQLITE_LIMIT_TRIGGER_DEPTH bounds
** it too, if it is lower. */
#ifndef UPSERT_MAX_DEPTH
# define UPSERT_MAX_DEPTH 64
#endif

/*
** The insert, update and skip counts of one upsert_into table, kept by
** the module so that they survive a reconnect after a schema change.
** Snapshots taken at transaction and savepoint boundaries let a
** rollback take back the counts of the rows it takes back.  Several
** tables share them while a table renamed, or reconnected after a schema
** change, in a transaction is not yet freed.
*/
struct UpsertStats {
  UpsertStats *pNext;        /* Next in UpsertModule.pStats */
  char *zSchema;             /* Schema of the virtual table */
  char *zName;               /* Name of the virtual table */
  char **azFrom;             /* Names it had before, oldest first */
  int nFrom;                 /* Entries of azFrom[] */
  int bDropped;              /* Table dropped, counts out of the list */
  int bTxn;                  /* Taken at xBegin, till the transaction ends */
  sqlite3_int64 a[3];        /* Current counts, UPSERT_N_* */
  sqlite3_int64 aTxn[3];     /* Counts when the transaction began */
  int nSnap;                 /* Allocated entries of aSnap[] */
  int iNoSnap;               /* Level whose snapshot failed, or -1 */
  struct UpsertSnap {
    int bValid;                /* True if taken in this transaction */
    sqlite3_int64 a[3];        /* Counts when the savepoint opened */
  } *aSnap;                  /* Snapshot of each savepoint level */
};

/*
** One per connection, the client data of the module.  It lists the live
** virtual tables, so that a statement reading the backing table through
** another upsert_into table can be recognised, and the counts.
*/
struct UpsertModule {
  int nRef;                  /* The module and upsert_into_stats() */
  UpsertTab *pList;          /* Every connected upsert_into table */
  UpsertStats *pStats;       /* Counts of every table connected so far */
  /* Inner statements running, one inside the other's triggers */
  int nDepth;                /* How many are running now */
  int iAbort;                /* Depth of the last one that rolled back */
  int nRollback;             /* Transactions rolled back so far */
  int bNativeMsg;            /* A nested write failed with SQLite's message
                             ** and SQLITE_ERROR (upsertFailAction()) */
  sqlite3_int64 nCounted;    /* Rows upsert_into_count(N) counted, N an
                             ** integer (see upsertSqlFunc()) */
};

/* An inner write statement and the arguments it leaves out */
struct UpsertWrite {
  sqlite3_stmt *pStmt;       /* The statement, or NULL */
  int eKind;                 /* UPSERT_W_* */
  int nPrep;                 /* Times SQLite re-prepared it, last seen */
  unsigned char *aNull;      /* With nulls=keep: which columns are NULL */
};

/*
** An upsert_into table.
*/
struct UpsertTab {
  sqlite3_vtab base;         /* Base class.  Must be first */
  sqlite3 *db;               /* The connection */
  UpsertModule *pMod;        /* Module data holding the list of tables */
  UpsertTab *pNext;          /* Next table in pMod->pList */
  UpsertStats *pStats;       /* Counts of this table, owned by pMod */
  char zPtr[40];             /* "vtab:%p" of this table, as EXPLAIN says */
  char *zUnusable;           /* Why it cannot be used, or NULL: see the
                             ** comment above upsertInit() */

  /* Configuration: what upsertDerive() derived from the arguments and the
  ** backing table's schema, at connect and again after a schema change
  ** (upsertRefresh(), which exchanges this group: upsertSwapDerived()) */
  char *zDb;                 /* Schema of the backing table */
  char *zTab;                /* Name of the backing table */
  char *zWhere;              /* where= expression, or NULL */
  int iDb;                   /* Index of zDb in pragma database_list */
  int bRowid;                /* True if the backing table has a rowid */
  int bShadow;               /* True if it is a shadow table */
  int bNullsKeep;            /* True for nulls=keep */
  int bSkipSame;             /* True for unchanged=skip */
  int bStrict;               /* True if the backing table is STRICT */
  int eEnc;                  /* Text encoding, SQLITE_UTF8 or UTF16LE/BE */
  int nCol;                  /* Number of declared columns */
  char **azCol;              /* Names of the declared columns */
  unsigned char *aFlag;      /* UPSERT_F_* flags of each declared column */
#define UPSERT_F_UPDATE 0x01   /* Overwritten on conflict */
#define UPSERT_F_KEY    0x02   /* Part of the conflict target */
#define UPSERT_F_NEED   0x04   /* NOT NULL and no DEFAULT */
#define UPSERT_F_ASIS   0x08   /* Stores values as given: BLOB affinity,
                               ** or ANY in a STRICT table */
  int nNeed;                 /* Undeclared NOT NULL columns without DEFAULT */
  char **azNeed;             /* Their names */
  char **azKeyColl;          /* Collation of each key column, or NULL */
  int nKeyColl;              /* Entries of azKeyColl[] */
  int nKey;                  /* Number of key columns */
  int *aiKey;                /* Declared-column index of each key column */
  const char *zRowid;        /* How to name the rowid in SQL, or NULL */
  char zRowKey[32];          /* Hidden PRIMARY KEY column of a table over a
                             ** backing table without a rowid, or "": see
                             ** upsertRowKeyName() */
  int iRowKey;               /* Its column number, after the declared ones */
  int iCookie;               /* schema_version of zDb when derived */
  char *zDbFile;             /* The file of zDb then ("" if in memory) */

  /* Following schema changes: see upsertRefresh() */
  int nArg;                  /* Arguments of xConnect */
  char **azArg;              /* Copies of them */
  char *zDecl;               /* The declaration of the virtual table */
  int iGen;                  /* Times the key or its collations changed */
  int nRefresh;              /* Times upsertRefresh() took a new state */

  /* Cached statements, finalized by xDisconnect and by upsertRefresh() */
  int nWrite;                /* Entries of aWrite[] in use */
  int iEvict;                /* Next entry of aWrite[] to replace */
  UpsertWrite aWrite[UPSERT_N_WRITE];  /* Inner write statements */
  sqlite3_stmt *apScan[2];   /* Idle read statements, UPSERT_PLAN_* */
  sqlite3_stmt *pOpener;     /* See upsertOpenerStmt() */
  int bNoCache;              /* Inner statements hold upsert_into tables:
                             ** one is prepared for each row, not cached,
                             ** see upsertHoldsUpsert() */

  /* State of the statement and the row being written */
  unsigned char *aNull;      /* Scratch: NULL pattern of the current row */
  int nInner;                /* Inner statements of this table running */
  int bOpenerDue;            /* Run pOpener before the next row */
  int bUpdated;              /* Set by upsert_into_count() in a step */
  sqlite3_stmt *pStep;       /* Inner write statement stepping, or NULL */
  int nStepPrep;             /* Its re-prepare count when it was built */
  int bStale;                /* upsert_into_fresh() failed in this step */
  /* The runaway guard, for the statements at each depth of inner
  ** statements running (upsertUpdate()) */
  int anRun[UPSERT_MAX_DEPTH+1];           /* Rows of the statement so far */
  sqlite3_int64 anMark[UPSERT_MAX_DEPTH+1];/* total_changes after last row */
};

struct UpsertCursor {
  sqlite3_vtab_cursor base;  /* Base class.  Must be first */
  sqlite3_stmt *pStmt;       /* Statement reading the backing table */
  int iPlan;                 /* UPSERT_PLAN_* that pStmt implements */
  int nRefresh;              /* pTab->nRefresh when pStmt was built */
  int bEof;                  /* True at end of results */
  sqlite3_int64 iRow;        /* Position of the row in this xFilter's rows */
};

/* Functions used before the section that defines them */
static sqlite3_stmt *upsertWriteStmt(UpsertTab*, int, const unsigned char*,
                                     int*, char**);
static int upsertRefresh(UpsertTab*, int*);
static UpsertStats *upsertStatsAttach(sqlite3*, UpsertModule*,
                                      const char*, const char*, int);
static void upsertStatsDrop(UpsertModule*, UpsertStats*);
static int upsertStatsShared(UpsertTab*);

/*****************************************************************************
** Errors
*/

/*
** Replace the error message of pTab with a new one formatted from zFmt.
*/
static void upsertError(UpsertTab *pTab, const char *zFmt, ...){
  va_list ap;
  sqlite3_free(pTab->base.zErrMsg);
  va_start(ap, zFmt);
  pTab->base.zErrMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
}

/*
** Set *pzErr to a message formatted from zFmt, unless *pRc already holds
** an error, and set *pRc to SQLITE_ERROR (SQLITE_NOMEM if out of memory).
*/
static void upsertFail(int *pRc, char **pzErr, const char *zFmt, ...){
  va_list ap;
  if( *pRc ) return;
  va_start(ap, zFmt);
  *pzErr = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  *pRc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/*
** Prepare zSql on db, unless *pRc already holds an error.  zSql is
** freed.  Returns the statement, or NULL with *pRc and *pzErr set.
*/
static sqlite3_stmt *upsertPrepare(
  int *pRc,
  sqlite3 *db,
  char **pzErr,
  char *zSql,
  unsigned int flags
){
  sqlite3_stmt *pStmt = 0;
  if( *pRc==SQLITE_OK ){
    if( zSql==0 ){
      *pRc = SQLITE_NOMEM;
    }else{
      *pRc = sqlite3_prepare_v3(db, zSql, -1, flags, &pStmt, 0);
      if( *pRc!=SQLITE_OK && *pRc!=SQLITE_NOMEM ){
        sqlite3_free(*pzErr);
        *pzErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(db));
      }
    }
  }
  sqlite3_free(zSql);
  return pStmt;
}

/*
** Report the error of a statement that reads or writes the backing
** table.  Returns the error code.
*/
static int upsertStmtError(UpsertTab *pTab, int rc){
  const char *zMsg = sqlite3_errmsg(pTab->db);
  int bNative = pTab->pMod->bNativeMsg;
  pTab->pMod->bNativeMsg = 0;
  if( rc==SQLITE_NOMEM ) return rc;
  if( (rc&0xff)==SQLITE_CONSTRAINT || bNative
   || strncmp(zMsg, UPSERT_ERR, sizeof(UPSERT_ERR)-1)==0 ){
    /* SQLite's own message, or that of an upsert_into table written by
    ** a trigger, unchanged */
    upsertError(pTab, "%s", zMsg);
  }else{
    upsertError(pTab, UPSERT_ERR "%s", zMsg);
  }
  return rc;
}

/*****************************************************************************
** Argument parsing
*/

static int upsertIsSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r';
}

/*
** Read one identifier from *pz: bare, or quoted with "", [], `` or ''.
** Leading and trailing spaces are skipped.  Returns a dequoted copy
** that the caller frees, or NULL with *pRc set (SQLITE_ERROR if there
** is no identifier; a quoted one may be empty, as in SQL).  *pz is
** advanced past the identifier.  A bare identifier ends at the end of
** input or at a character of zStop.
*/
static char *upsertIdent(int *pRc, const char **pz, const char *zStop){
  const char *z = *pz;
  char *zOut = 0;
  int n = 0;
  int bQuoted = 0;
  if( *pRc ) return 0;
  while( upsertIsSpace(*z) ) z++;
  zOut = sqlite3_malloc64(strlen(z)+1);
  if( zOut==0 ){ *pRc = SQLITE_NOMEM; return 0; }
  if( *z=='"' || *z=='`' || *z=='\'' || *z=='[' ){
    char cEnd = *z=='[' ? ']' : *z;
    bQuoted = 1;
    for(z++; *z; z++){
      if( *z==cEnd ){
        if( cEnd!=']' && z[1]==cEnd ){ z++; }else{ break; }
      }
      zOut[n++] = *z;
    }
    if( *z!=cEnd ){ n = -1; }else{ z++; }
  }else{
    while( *z && strchr(zStop, *z)==0 ) zOut[n++] = *(z++);
    while( n>0 && upsertIsSpace(zOut[n-1]) ) n--;
  }
  while( upsertIsSpace(*z) ) z++;
  if( n<0 || (n==0 && !bQuoted) ){
    sqlite3_free(zOut);
    *pRc = SQLITE_ERROR;
    return 0;
  }
  zOut[n] = 0;
  *pz = z;
  return zOut;
}

/*
** Split zSpec, "name" or "schema.name" (either part quoted or not), into
** *pzA and *pzB: the name and NULL, or the schema and the name.  The
** caller frees both, also on error.  Returns SQLITE_OK, SQLITE_NOMEM, or
** SQLITE_ERROR if zSpec is malformed.
*/
static int upsertSplitName(const char *zSpec, char **pzA, char **pzB){
  int rc = SQLITE_OK;
  const char *z = zSpec;
  *pzB = 0;
  *pzA = upsertIdent(&rc, &z, ".");
  if( rc==SQLITE_OK && *z=='.' ){
    z++;
    *pzB = upsertIdent(&rc, &z, ".");
  }
  if( rc==SQLITE_OK && *z ) rc = SQLITE_ERROR;
  return rc;
}

/*
** Parse zList, a list of column names "(a, b)", "()" or a single name,
** into *paz (an array of *pn names the caller frees with upsertFreeList).
** Returns SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR if malformed.
*/
static int upsertList(const char *zList, char ***paz, int *pn){
  int rc = SQLITE_OK;
  const char *z = zList;
  char **az;
  int n = 0;
  az = sqlite3_malloc64(sizeof(char*)*(strlen(zList)+1));
  if( az==0 ) return SQLITE_NOMEM;
  while( upsertIsSpace(*z) ) z++;
  if( *z=='(' ){
    z++;
    while( upsertIsSpace(*z) ) z++;
    if( *z!=')' ){
      do{
        az[n] = upsertIdent(&rc, &z, ",)");
        if( rc==SQLITE_OK ) n++;
      }while( rc==SQLITE_OK && *(z++)==',' );
      if( rc==SQLITE_OK && z[-1]!=')' ) rc = SQLITE_ERROR;
    }else{
      z++;
    }
  }else{
    az[n] = upsertIdent(&rc, &z, "(),");
    if( rc==SQLITE_OK ) n++;
  }
  while( upsertIsSpace(*z) ) z++;
  if( rc==SQLITE_OK && *z ) rc = SQLITE_ERROR;
  *paz = az;
  *pn = n;
  return rc;
}

static void upsertFreeList(char **az, int n){
  int i;
  if( az==0 ) return;
  for(i=0; i<n; i++) sqlite3_free(az[i]);
  sqlite3_free(az);
}

/*
** The options, in the order of UpsertOpt.az[].
*/
static const char *azUpsertOpt[] = {
  "key", "columns", "update", "keep", "nulls", "where", "unchanged"
};

#define UPSERT_OPT_KEY     0
#define UPSERT_OPT_COLUMNS 1
#define UPSERT_OPT_UPDATE  2
#define UPSERT_OPT_KEEP    3
#define UPSERT_OPT_NULLS   4
#define UPSERT_OPT_WHERE   5
#define UPSERT_OPT_UNCHANGED 6
#define UPSERT_N_OPT       7

/*
** Split the arguments "name=value" into az[], one per option of
** azUpsertOpt[], pointing into argv.  Returns SQLITE_OK or SQLITE_ERROR
** with *pzErr set.
*/
static int upsertOptions(
  int argc, const char *const*argv,
  const char **az, int *an,
  char **pzErr
){
  int rc = SQLITE_OK;
  int i, j;
  for(i=0; i<argc && rc==SQLITE_OK; i++){
    const char *z = argv[i];
    const char *zName;
    int n;
    while( upsertIsSpace(*z) ) z++;
    zName = z;
    for(n=0; z[n] && z[n]!='=' && !upsertIsSpace(z[n]); n++){}
    for(j=0; j<UPSERT_N_OPT; j++){
      if( (int)strlen(azUpsertOpt[j])==n
       && sqlite3_strnicmp(z, azUpsertOpt[j], n)==0 ) break;
    }
    z += n;
    while( upsertIsSpace(*z) ) z++;
    if( *z!='=' ){
      upsertFail(&rc, pzErr, UPSERT_ERR "unexpected argument '%s'", argv[i]);
    }else if( j==UPSERT_N_OPT ){
      upsertFail(&rc, pzErr, UPSERT_ERR "unknown option '%.*s'", n, zName);
    }else if( az[j] ){
      upsertFail(&rc, pzErr, UPSERT_ERR "option '%s' given twice",
                 azUpsertOpt[j]);
    }else{
      for(z++; upsertIsSpace(*z); z++){}
      az[j] = z;
      an[j] = (int)strlen(z);
      while( an[j]>0 && upsertIsSpace(z[an[j]-1]) ) an[j]--;
    }
  }
  return rc;
}

/*****************************************************************************
** The SQL the extension runs: every statement is built here
*/


/*
** The statements of fixed text, by UPSERT_SQL_*: format strings of
** sqlite3_mprintf(), "%w" for names.  The others are built below.
*/
static const char *const azUpsertSql[] = {
#define UPSERT_SQL_DB_SEQ 0          /* ?1 is an attached schema */
  "SELECT seq FROM pragma_database_list WHERE name=?1 COLLATE nocase",
#define UPSERT_SQL_RESOLVE 1         /* ?1 table, ?2 schema or NULL */
  "SELECT l.schema, l.name, l.type, l.wr, d.seq, l.strict"
  "  FROM pragma_database_list AS d, pragma_table_list AS l"
  " WHERE l.schema=d.name AND l.name=?1 COLLATE nocase"
  "   AND (?2 IS NULL OR d.name=?2 COLLATE nocase)"
  " ORDER BY d.seq<>1, d.seq LIMIT 1",
#define UPSERT_SQL_COLUMNS 2         /* ?1 table, ?2 schema */
  "SELECT name, type, pk, \"notnull\" AND dflt_value IS NULL"
  "  FROM pragma_table_xinfo(?1, ?2)"
  " WHERE hidden=0 ORDER BY cid",
#define UPSERT_SQL_INDEXES 3         /* ?1 table, ?2 schema */
  "SELECT name, origin='pk' FROM pragma_index_list(?1, ?2)"
  " WHERE \"unique\" AND NOT partial ORDER BY seq",
#define UPSERT_SQL_INDEX_COLUMNS 4   /* ?1 index, ?2 schema */
  "SELECT name, coll FROM pragma_index_xinfo(?1, ?2) WHERE key"
  " ORDER BY seqno",
#define UPSERT_SQL_ENCODING 5
  "PRAGMA encoding",
#define UPSERT_SQL_COOKIE 6          /* %w schema */
  "PRAGMA \"%w\".schema_version",
#define UPSERT_SQL_ROOTPAGES 7       /* %w schema; ?1 table */
  "SELECT rootpage FROM \"%w\".sqlite_schema"
  " WHERE tbl_name=?1 COLLATE nocase AND rootpage>0",
#define UPSERT_SQL_TABLE_EXISTS 8    /* %w schema; ?1 table */
  "SELECT 1 FROM \"%w\".sqlite_schema"
  " WHERE type='table' AND name=?1 COLLATE nocase",
#define UPSERT_SQL_TOUCH 9           /* %w schema, %w table */
  "SELECT 1 FROM \"%w\".\"%w\"",
#define UPSERT_SQL_TOUCH_TEMP 10     /* %w table */
  "SELECT 1 FROM \"%w\"",
#define UPSERT_SQL_OPENER 11         /* %w schema, table, key, key */
  "UPDATE OR ABORT \"%w\".\"%w\" SET \"%w\"=\"%w\" WHERE false",
#define UPSERT_SQL_DEFER_FK 12
  "PRAGMA defer_foreign_keys=ON",
#define UPSERT_SQL_MODULES 13
  "PRAGMA module_list",
#define UPSERT_SQL_NOT_NATIVE 14     /* %w schema; ?1 table */
  "SELECT 1 FROM \"%w\".sqlite_schema WHERE tbl_name=?1 COLLATE nocase"
  "   AND (type='trigger' OR (type='table'"
  "        AND instr(upper(sql), 'CONFLICT')>0))"
  " UNION ALL SELECT 1 FROM temp.sqlite_schema"
  " WHERE type='trigger' AND tbl_name=?1 COLLATE nocase",
};

/*
** Prepare the statement UPSERT_SQL_* iSql, formatted with the arguments
** that follow, as upsertPrepare() does.
*/
static sqlite3_stmt *upsertSqlPrepare(
  int *pRc,
  sqlite3 *db,
  char **pzErr,
  int iSql,
  ...
){
  va_list ap;
  char *zSql;
  if( *pRc ) return 0;
  va_start(ap, iSql);
  zSql = sqlite3_vmprintf(azUpsertSql[iSql], ap);
  va_end(ap);
  return upsertPrepare(pRc, db, pzErr, zSql, 0);
}

/*
** Append to p "k1=?1 AND k2=?2 ...", the equality of each key column with
** its parameter, after zFirst.  Each compares in the key index's
** collation, which may not be the column's: the one a conflict is found
** with, and the one the index is searched with.  The parameter of key
** column k is ?(k+1) if bByKey, else that of its declared column.
*/
static void upsertAppendKeyEq(
  sqlite3_str *p,
  UpsertTab *pTab,
  const char *zFirst,
  int bByKey
){
  int k;
  for(k=0; k<pTab->nKey; k++){
    sqlite3_str_appendf(p, "%s\"%w\"=?%d", k ? " AND " : zFirst,
                        pTab->azCol[pTab->aiKey[k]],
                        bByKey ? k+1 : pTab->aiKey[k]+1);
    if( pTab->azKeyColl && pTab->azKeyColl[k] ){
      sqlite3_str_appendf(p, " COLLATE \"%w\"", pTab->azKeyColl[k]);
    }
  }
}

/*
** Build the statement that reads the backing table with plan iPlan.
*/
static sqlite3_stmt *upsertScanStmt(UpsertTab *pTab, int iPlan, int *pRc){
  sqlite3_str *p = sqlite3_str_new(pTab->db);
  int i;
  if( pTab->zRowid ){
    sqlite3_str_appendf(p, "SELECT %s", pTab->zRowid);
  }else{
    sqlite3_str_appendall(p, "SELECT NULL");
  }
  for(i=0; i<pTab->nCol; i++){
    sqlite3_str_appendf(p, ", \"%w\"", pTab->azCol[i]);
  }
  sqlite3_str_appendf(p, " FROM \"%w\".\"%w\"", pTab->zDb, pTab->zTab);
  if( iPlan==UPSERT_PLAN_KEY ) upsertAppendKeyEq(p, pTab, " WHERE ", 1);
  return upsertPrepare(pRc, pTab->db, &pTab->base.zErrMsg,
                       sqlite3_str_finish(p), 0);
}

/*
** Append to p, after zSep, the stored value of column zCol in the row
** whose key is given, as a subquery.  It stands in for a NOT NULL column
** without DEFAULT that the row does not give: SQLite checks NOT NULL
** before it looks for a conflict, so leaving the column out would fail
** even an update.  A new row still fails, as it must, on the NULL that
** the subquery yields when no row has the key.  zSelf is the argument of
** upsert_into_fresh(): see upsertWriteSql().
*/
static void upsertAppendStored(
  sqlite3_str *p,
  UpsertTab *pTab,
  const char *zSep,
  const char *zCol,
  const char *zSelf
){
  /* The lookup compares in the key index's collation, which a schema
  ** change may have changed: upsert_into_fresh() fails the statement
  ** before it writes if SQLite re-prepared it (see upsertRefresh()) */
  sqlite3_str_appendf(p, "%s(SELECT \"%w\" FROM \"%w\".\"%w\""
                      " WHERE upsert_into_fresh(%s)", zSep,
                      zCol, pTab->zDb, pTab->zTab, zSelf);
  upsertAppendKeyEq(p, pTab, " AND ", 0);
  sqlite3_str_appendall(p, ")");
}

/*
** Append to p the INSERT of an inner write statement of kind eKind, for
** the NULL pattern aNull: see upsertWriteStmt().
*/
static void upsertAppendInsert(
  sqlite3_str *p,
  UpsertTab *pTab,
  int eKind,
  const unsigned char *aNull,
  const char *zSelf
){
  /* Indexed by UPSERT_W_*.  An explicit OR clause, as a native INSERT
  ** with one, overrides the columns' own ON CONFLICT clauses */
  static const char *azVerb[] = {
    "INSERT", "INSERT OR IGNORE", "INSERT OR REPLACE", "INSERT OR FAIL",
    "INSERT OR ABORT"
  };
  const char *zSep = "";
  int i;
  sqlite3_str_appendf(p, "%s INTO \"%w\".\"%w\"(",
                      azVerb[eKind & UPSERT_W_MODE], pTab->zDb, pTab->zTab);
  for(i=0; i<pTab->nCol; i++){
    if( aNull && aNull[i] && !(pTab->aFlag[i] & UPSERT_F_NEED) ) continue;
    sqlite3_str_appendf(p, "%s\"%w\"", zSep, pTab->azCol[i]);
    zSep = ",";
  }
  for(i=0; i<pTab->nNeed; i++){
    sqlite3_str_appendf(p, ",\"%w\"", pTab->azNeed[i]);
  }
  if( eKind & UPSERT_W_ROWID ){
    /* Last, so that it wins over an INTEGER PRIMARY KEY column, as the
    ** last of the two named in a native INSERT does */
    sqlite3_str_appendf(p, ",%s", pTab->zRowid);
  }
  sqlite3_str_appendall(p, ") VALUES(");
  zSep = "";
  for(i=0; i<pTab->nCol; i++){
    if( aNull && aNull[i] ){
      if( pTab->aFlag[i] & UPSERT_F_NEED ){
        upsertAppendStored(p, pTab, zSep, pTab->azCol[i], zSelf);
        zSep = ",";
      }
      continue;
    }
    sqlite3_str_appendf(p, "%s?%d", zSep, i+1);
    zSep = ",";
  }
  for(i=0; i<pTab->nNeed; i++){
    upsertAppendStored(p, pTab, ",", pTab->azNeed[i], zSelf);
  }
  if( eKind & UPSERT_W_ROWID ){
    sqlite3_str_appendf(p, ",?%d", pTab->nCol+2);
  }
  sqlite3_str_appendall(p, ")");
}

/* True if a conflict overwrites declared column i, for the NULL pattern
** aNull (see upsertWriteStmt()) */
static int upsertOverwrites(
  UpsertTab *pTab,
  const unsigned char *aNull,
  int i
){
  return (pTab->aFlag[i] & UPSERT_F_UPDATE)!=0 && !(aNull && aNull[i]);
}

/*
** Append to p, for unchanged=skip, "NOT (c1 IS ... AND c2 IS ...) AND ",
** true where the update would change what a column it overwrites holds.
**
** excluded.c is the value before the column's affinity applies, so it is
** compared as +excluded.c, which has no affinity: the comparison then
** applies the column's, as the write would.  After a numeric affinity,
** an integer and an equal real cannot both remain (a real with an integer
** value becomes an integer; REAL columns read back as reals), so equal
** means the same value of the same type; a column that stores values as
** given compares their types too, since IS takes 1 and 1.0 as equal.
** COLLATE BINARY: 'a' and 'A' differ in any column.  Which columns
** compare their types depends on the schema, so upsert_into_fresh()
** first fails the row if SQLite prepared the statement again (see
** upsertRefresh()): a backing table dropped and created again with other
** types would otherwise be compared by the old text.  zSelf is its
** argument, as in upsertAppendStored().
*/
static void upsertAppendChanged(
  sqlite3_str *p,
  UpsertTab *pTab,
  const unsigned char *aNull,
  const char *zSelf
){
  const char *zSep = "NOT (";
  int i;
  sqlite3_str_appendf(p, "upsert_into_fresh(%s) AND ", zSelf);
  for(i=0; i<pTab->nCol; i++){
    const char *z = pTab->azCol[i];
    if( !upsertOverwrites(pTab, aNull, i) ) continue;
    sqlite3_str_appendf(p, "%s\"%w\" IS +excluded.\"%w\" COLLATE BINARY",
                        zSep, z, z);
    if( pTab->aFlag[i] & UPSERT_F_ASIS ){
      sqlite3_str_appendf(p, " AND typeof(\"%w\")=typeof(excluded.\"%w\")",
                          z, z);
    }
    zSep = " AND ";
  }
  sqlite3_str_appendall(p, ") AND ");
}

/*
** Append to p the ON CONFLICT clause of an inner upsert for the NULL
** pattern aNull: see upsertWriteStmt().
*/
static void upsertAppendConflict(
  sqlite3_str *p,
  UpsertTab *pTab,
  const unsigned char *aNull,
  const char *zSelf
){
  const char *zSep = "UPDATE SET ";
  int i, k;
  sqlite3_str_appendall(p, " ON CONFLICT(");
  for(k=0; k<pTab->nKey; k++){
    sqlite3_str_appendf(p, "%s\"%w\"", k ? "," : "",
                        pTab->azCol[pTab->aiKey[k]]);
  }
  sqlite3_str_appendall(p, ") DO ");
  for(i=0; i<pTab->nCol; i++){
    if( !upsertOverwrites(pTab, aNull, i) ) continue;
    sqlite3_str_appendf(p, "%s\"%w\"=excluded.\"%w\"",
                        zSep, pTab->azCol[i], pTab->azCol[i]);
    zSep = ",";
  }
  if( zSep[0]=='U' ){
    sqlite3_str_appendall(p, "NOTHING");
  }else{
    /* upsert_into_count() runs only for rows that are updated */
    sqlite3_str_appendall(p, " WHERE ");
    if( pTab->zWhere ) sqlite3_str_appendf(p, "(%s) AND ", pTab->zWhere);
    if( pTab->bSkipSame ) upsertAppendChanged(p, pTab, aNull, zSelf);
    sqlite3_str_appendf(p, "upsert_into_count(%s)", zSelf);
  }
}

/*
** The text of an inner write statement of kind eKind (UPSERT_W_*), or
** NULL if out of memory; the caller frees it.  aNull, if not NULL, marks
** the declared columns whose argument is NULL under nulls=keep: those
** are left out of the INSERT, so that a new row takes their DEFAULT, and
** out of the update, so that an existing row keeps them.  Parameter ?N is declared column N-1 in every statement,
** parameter nCol+1, where used, is a pointer to pTab for
** upsert_into_count(), and parameter nCol+2, with UPSERT_W_ROWID, is the
** rowid.  With bNative, for upsert_into_sql(), the text is the same but
** for the argument of upsert_into_count() and upsert_into_fresh(), which
** is the integer 1 instead of parameter nCol+1: a client that runs it
** binds the declared columns only.
*/
static char *upsertWriteSql(
  UpsertTab *pTab,
  int eKind,
  const unsigned char *aNull,
  int bNative
){
  sqlite3_str *p = sqlite3_str_new(pTab->db);
  int eMode = eKind & UPSERT_W_MODE;
  char zSelf[16];            /* Argument of upsert_into_count() and _fresh() */

  if( bNative ){
    sqlite3_snprintf(sizeof(zSelf), zSelf, "1");
  }else{
    sqlite3_snprintf(sizeof(zSelf), zSelf, "?%d", pTab->nCol+1);
  }
  upsertAppendInsert(p, pTab, eKind, aNull, zSelf);
  if( eMode!=UPSERT_W_IGNORE && eMode!=UPSERT_W_REPLACE ){
    upsertAppendConflict(p, pTab, aNull, zSelf);
  }
  return sqlite3_str_finish(p);
}

/*
** Build and prepare an inner write statement of kind eKind (UPSERT_W_*),
** the text of upsertWriteSql().  Returns the statement, or NULL with *pRc
** set.
*/
static sqlite3_stmt *upsertWriteStmt(
  UpsertTab *pTab,
  int eKind,
  const unsigned char *aNull,
  int *pRc,
  char **pzErr
){
  sqlite3_stmt *pStmt;

  pStmt = upsertPrepare(pRc, pTab->db, pzErr,
                        upsertWriteSql(pTab, eKind, aNull, 0),
                        SQLITE_PREPARE_PERSISTENT);
  if( *pRc==SQLITE_ERROR && pTab->zWhere && *pzErr ){
    char *zMsg = sqlite3_mprintf(UPSERT_ERR "where=%s: %s", pTab->zWhere,
                                 *pzErr + sizeof(UPSERT_ERR)-1);
    sqlite3_free(*pzErr);
    *pzErr = zMsg;
  }
  if( pStmt && sqlite3_column_count(pStmt)!=0 ){
    /* where= smuggled in a RETURNING clause */
    sqlite3_finalize(pStmt);
    pStmt = 0;
    upsertFail(pRc, pzErr, UPSERT_ERR "where= is not one expression");
  }
  if( pStmt && sqlite3_bind_parameter_count(pStmt)>pTab->nCol ){
    sqlite3_bind_pointer(pStmt, pTab->nCol+1, pTab, "upsert_into", 0);
  }
  return pStmt;
}

/*
** Build the opener of pTab: a statement that writes nothing but opens a
** statement journal on the backing table's database.
**
** Why: when the outer statement (INSERT INTO the virtual table) fails,
** SQLite rolls back its statement savepoint on every database.  But the
** outer statement opens that savepoint only on the virtual table's own
** database, and the backing table's database gets savepoints only up to
** the level of the statements that write to it.  An inner statement that
** cannot abort (INSERT OR IGNORE, OR REPLACE, DO NOTHING, and a plain
** VALUES upsert on a table without constraints) opens none, so the rows
** it wrote would survive the outer statement's rollback whenever the
** virtual table lives in another schema (temp) than the backing table.
** A statement that opens a statement journal opens every lower level on
** the backing database too, the outer statement's among them, and it
** stays open when the opener finishes.  The opener does that: it is a
** multi-row UPDATE (no rowid or key lookup) that changes the key, so
** SQLite codes an ABORT path and gives it a journal; OR ABORT, for a key
** whose constraint has an ON CONFLICT clause of its own (REPLACE, say)
** would code none.  It is an UPDATE and
** not an INSERT because an INSERT into an AUTOINCREMENT table writes its
** sqlite_sequence row even when it inserts nothing, and that write would
** outlive a failed statement that opened no savepoint.  It runs once,
** before the first row written after the outer statement opened its
** savepoint (xSavepoint); single-row statements in a transaction need
** none, and in autocommit mode a failed statement rolls back the whole
** transaction.
*/
static sqlite3_stmt *upsertOpenerStmt(UpsertTab *pTab, int *pRc){
  const char *zKey0 = pTab->azCol[pTab->aiKey[0]];
  return upsertPrepare(pRc, pTab->db, &pTab->base.zErrMsg,
      sqlite3_mprintf(azUpsertSql[UPSERT_SQL_OPENER],
                      pTab->zDb, pTab->zTab, zKey0, zKey0),
      SQLITE_PREPARE_PERSISTENT);
}

/*
** Prepare "EXPLAIN " and zSql, the text of a running statement, for
** upsertReadsBacking().  The text fitted SQLITE_LIMIT_SQL_LENGTH when
** it was prepared, but the longer one may not: the limit is raised for
** this prepare alone, and set back.  Returns the statement, or NULL
** with *pRc set.
*/
static sqlite3_stmt *upsertExplainStmt(sqlite3 *db, const char *zSql,
                                       int *pRc){
  char *zExplain = sqlite3_mprintf("EXPLAIN %s", zSql);
  char *zDummy = 0;
  sqlite3_stmt *pStmt;
  int nOld = sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, -1);
  size_t n = zExplain ? strlen(zExplain) : 0;
  if( n>(size_t)nOld ){
    /* SQLite caps it at SQLITE_MAX_SQL_LENGTH; the prepare fails above */
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, n>0x7fffffff ? 0x7fffffff
                                                            : (int)n);
  }
  pStmt = upsertPrepare(pRc, db, &zDummy, zExplain, 0);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, nOld);
  sqlite3_free(zDummy);
  return pStmt;
}

/*
** Set *piCookie to the schema_version of the backing table's database.
*/
static int upsertCookie(UpsertTab *pTab, int *piCookie){
  int rc = SQLITE_OK;
  char *zDummy = 0;
  sqlite3_stmt *pStmt = upsertSqlPrepare(&rc, pTab->db, &zDummy,
                                         UPSERT_SQL_COOKIE, pTab->zDb);
  if( pStmt ){
    *piCookie = 0;
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      *piCookie = sqlite3_column_int(pStmt, 0);
    }
    rc = sqlite3_finalize(pStmt);
  }
  sqlite3_free(zDummy);
  return rc;
}

/*****************************************************************************
** Connect: the backing table, its columns and key, the options
*/

/*
** Find the backing table named by zSpec ("name" or "schema.name") for a
** virtual table in schema zVtabDb.  Sets pTab->zDb, zTab, iDb, bRowid and
** bShadow.  Returns SQLITE_OK, or an error code with *pzErr set.
**
** A TEMP virtual table resolves an unqualified name as SQLite does: temp,
** main, then attached databases.  A persistent one is bound to its own
** database, as a view or trigger is: schema names belong to the
** connection, not to the file, so the same "main.users" or "users" would
** name another database's table wherever the file is attached.  It writes
** only tables of its own schema: when zSpec names another, *pzRefused is
** set to the reason (the caller frees it) and the name is resolved all
** the same, so that the caller can declare the columns it would have.
*/
static int upsertResolve(
  UpsertTab *pTab,
  const char *zSpec,
  const char *zVtabDb,
  char **pzRefused,
  char **pzErr
){
  int rc = SQLITE_OK;
  char *zA = 0, *zB = 0;
  const char *zSchema;       /* The schema to search, or NULL for all */
  sqlite3_stmt *pStmt = 0;

  rc = upsertSplitName(zSpec, &zA, &zB);
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_ERROR ){
      rc = SQLITE_OK;
      upsertFail(&rc, pzErr, UPSERT_ERR "malformed table name '%s'", zSpec);
    }
    goto resolve_out;
  }
  zSchema = zB ? zA : 0;
  if( zB==0 && sqlite3_stricmp(zVtabDb, "temp")!=0 ){
    zSchema = zVtabDb;
  }else if( zB && sqlite3_stricmp(zVtabDb, "temp")!=0
         && sqlite3_stricmp(zA, zVtabDb)!=0 ){
    upsertFail(&rc, pzRefused, UPSERT_ERR "a table in schema '%s' may only"
        " write tables of '%s', not '%s.%s': create it in temp to write"
        " another database", zVtabDb, zVtabDb, zA, zB);
    if( rc!=SQLITE_NOMEM ) rc = SQLITE_OK;
  }
  if( zB && sqlite3_stricmp(zA, "temp")!=0 ){
    /* schema.name: the schema must exist.  temp always does, though
    ** pragma database_list lists it only once it is open */
    pStmt = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_DB_SEQ);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pStmt, 1, zA, -1, SQLITE_STATIC);
      if( sqlite3_step(pStmt)!=SQLITE_ROW ){
        rc = sqlite3_finalize(pStmt);
        pStmt = 0;
        upsertFail(&rc, pzErr, UPSERT_ERR "no such schema '%s'", zA);
        goto resolve_out;
      }
      sqlite3_finalize(pStmt);
      pStmt = 0;
    }
  }
  pStmt = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_RESOLVE);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zB ? zB : zA, -1, SQLITE_STATIC);
    if( zSchema ) sqlite3_bind_text(pStmt, 2, zSchema, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(pStmt, 2);
      if( zType && strcmp(zType, "table")!=0 && strcmp(zType, "shadow")!=0 ){
        upsertFail(&rc, pzErr, UPSERT_ERR "'%s' is a %s, not a table",
                   zSpec, zType);
      }else{
        pTab->zDb = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
        pTab->zTab = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 1));
        pTab->bRowid = sqlite3_column_int(pStmt, 3)==0;
        pTab->bShadow = zType && strcmp(zType, "shadow")==0;
        pTab->iDb = sqlite3_column_int(pStmt, 4);
        pTab->bStrict = sqlite3_column_int(pStmt, 5);
        if( pTab->zDb==0 || pTab->zTab==0 ) rc = SQLITE_NOMEM;
      }
    }else{
      rc = sqlite3_finalize(pStmt);
      pStmt = 0;
      upsertFail(&rc, pzErr, UPSERT_ERR "no such table '%s'", zSpec);
    }
  }
resolve_out:
  sqlite3_finalize(pStmt);
  sqlite3_free(zA);
  sqlite3_free(zB);
  return rc;
}

/*
** The writable columns of the backing table, read while connecting.
*/
typedef struct UpsertSchema UpsertSchema;

struct UpsertSchema {
  int nCol;                  /* Number of writable columns */
  char **azName;             /* Their names */
  char **azType;             /* Their declared types */
  int *aiPk;                 /* Position in the PRIMARY KEY, or 0 */
  unsigned char *aNeed;      /* True if NOT NULL without a DEFAULT */
  char **azColl;             /* Collation of each key column, or NULL */
  int nColl;                 /* Entries of azColl[] */
  int nPk;                   /* Number of PRIMARY KEY columns */
  sqlite3_str *pKeys;        /* Usable keys, "(a), (b, c)", for messages */
};

static void upsertSchemaFree(UpsertSchema *p){
  upsertFreeList(p->azName, p->nCol);
  upsertFreeList(p->azType, p->nCol);
  sqlite3_free(p->aiPk);
  sqlite3_free(p->aNeed);
  upsertFreeList(p->azColl, p->nColl);
  sqlite3_free(sqlite3_str_finish(p->pKeys));
}

/* Index of column zName in p, or -1 */
static int upsertSchemaCol(UpsertSchema *p, const char *zName){
  int i;
  for(i=0; i<p->nCol; i++){
    if( sqlite3_stricmp(p->azName[i], zName)==0 ) return i;
  }
  return -1;
}

/*
** Read the writable columns of the backing table into p.  Returns
** SQLITE_OK or an error code with *pzErr set.
*/
static int upsertSchemaRead(UpsertTab *pTab, UpsertSchema *p, char **pzErr){
  int rc = SQLITE_OK;
  int nAlloc = 0;
  sqlite3_stmt *pStmt;
  pStmt = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_COLUMNS);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, pTab->zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, pTab->zDb, -1, SQLITE_STATIC);
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( p->nCol>=nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 16;
      char **az1 = sqlite3_realloc64(p->azName, nNew*sizeof(char*));
      char **az2 = az1 ? sqlite3_realloc64(p->azType, nNew*sizeof(char*)) : 0;
      int *ai = az2 ? sqlite3_realloc64(p->aiPk, nNew*sizeof(int)) : 0;
      unsigned char *a = ai ? sqlite3_realloc64(p->aNeed, nNew) : 0;
      if( az1 ) p->azName = az1;
      if( az2 ) p->azType = az2;
      if( ai ) p->aiPk = ai;
      if( a==0 ){ rc = SQLITE_NOMEM; break; }
      p->aNeed = a;
      nAlloc = nNew;
    }
    p->azName[p->nCol] = sqlite3_mprintf("%s", sqlite3_column_text(pStmt,0));
    p->azType[p->nCol] = sqlite3_mprintf("%s", sqlite3_column_text(pStmt,1));
    p->aiPk[p->nCol] = sqlite3_column_int(pStmt, 2);
    p->aNeed[p->nCol] = (unsigned char)sqlite3_column_int(pStmt, 3);
    p->nCol++;
    if( p->azName[p->nCol-1]==0 || p->azType[p->nCol-1]==0 ){
      rc = SQLITE_NOMEM;
    }
    if( p->aiPk[p->nCol-1]>p->nPk ) p->nPk = p->aiPk[p->nCol-1];
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(pTab->db));
    }
  }else{
    sqlite3_finalize(pStmt);
  }
  return rc;
}

/*
** Resolve the list option zOpt, whose value is the first nVal bytes of
** zVal, into indexes of columns of p: aiOut[] (room for p->nCol) and *pn.
** Returns SQLITE_OK or an error code with *pzErr set.
*/
static int upsertColumnList(
  UpsertTab *pTab, UpsertSchema *p,
  const char *zOpt, const char *zVal, int nVal,
  int *aiOut, int *pn,
  char **pzErr
){
  int rc = SQLITE_OK;
  char *zCopy = sqlite3_mprintf("%.*s", nVal, zVal);
  char **az = 0;
  int n = 0;
  int i, j;
  *pn = 0;
  if( zCopy==0 ) return SQLITE_NOMEM;
  rc = upsertList(zCopy, &az, &n);
  if( rc==SQLITE_ERROR ){
    rc = SQLITE_OK;
    upsertFail(&rc, pzErr, UPSERT_ERR "malformed list in %s=%s", zOpt, zCopy);
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    int iCol = upsertSchemaCol(p, az[i]);
    if( iCol<0 ){
      upsertFail(&rc, pzErr, UPSERT_ERR "%s=: no column '%s' in table '%s'",
                 zOpt, az[i], pTab->zTab);
    }
    for(j=0; rc==SQLITE_OK && j<*pn; j++){
      if( aiOut[j]==iCol ){
        upsertFail(&rc, pzErr, UPSERT_ERR "%s=: column '%s' listed twice",
                   zOpt, az[i]);
      }
    }
    if( rc==SQLITE_OK ) aiOut[(*pn)++] = iCol;
  }
  upsertFreeList(az, n);
  sqlite3_free(zCopy);
  return rc;
}

/* Position of schema column iCol among the n entries of ai[], or -1 */
static int upsertFindInt(const int *ai, int n, int iCol){
  int i;
  for(i=0; i<n; i++){
    if( ai[i]==iCol ) return i;
  }
  return -1;
}

/*
** Append "(a, b)", the names of nName columns, to pStr.
*/
static void upsertAppendNames(sqlite3_str *pStr, char **az, int n){
  int i;
  sqlite3_str_appendchar(pStr, 1, '(');
  for(i=0; i<n; i++){
    sqlite3_str_appendf(pStr, "%s%s", i ? ", " : "", az[i]);
  }
  sqlite3_str_appendchar(pStr, 1, ')');
}

/*
** Read the key columns of one index of the backing table, pInfo (a bound
** UPSERT_SQL_INDEX_COLUMNS), for upsertKeyCheck(): their names into az[]
** (*pn of them), the collation of each of the nKey key columns azKey[] it
** holds into azTmp[], *pbExpr if one is an expression, and *pbMatch
** cleared if one is not a key column.
*/
static int upsertIndexRead(
  UpsertSchema *p,
  sqlite3_stmt *pInfo,
  char **azKey, int nKey,
  char **az, int *pn,
  char **azTmp,
  int *pbExpr, int *pbMatch
){
  int rc = SQLITE_OK;
  int i, j;
  while( sqlite3_step(pInfo)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pInfo, 0);
    j = zName ? upsertSchemaCol(p, zName) : -1;
    if( j<0 ){ *pbExpr = 1; continue; }
    az[(*pn)++] = p->azName[j];
    for(i=0; i<nKey && sqlite3_stricmp(azKey[i], zName); i++){}
    if( i==nKey ){
      *pbMatch = 0;
    }else if( azTmp[i]==0 ){
      azTmp[i] = sqlite3_mprintf("%s", sqlite3_column_text(pInfo, 1));
      if( azTmp[i]==0 ) rc = SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ) rc = sqlite3_reset(pInfo);
  return rc;
}

/*
** Decide whether azKey (nKey column names of the backing table) is a
** usable conflict target: the PRIMARY KEY or the columns of a UNIQUE
** index that is not partial, in any order.  Sets *pbOk.  Also collects
** the usable keys, for messages, in p->pKeys.
*/
static int upsertKeyCheck(
  UpsertTab *pTab, UpsertSchema *p,
  char **azKey, int nKey,
  int *pbOk, char **pzErr
){
  int rc = SQLITE_OK;
  sqlite3_stmt *pList;
  sqlite3_stmt *pInfo;
  char **az = 0;
  char **azTmp = 0;
  int bColl = 0;             /* True once p->azColl is filled */
  int i, j;

  *pbOk = 0;
  p->pKeys = sqlite3_str_new(pTab->db);
  az = sqlite3_malloc64(sizeof(char*)*(p->nCol+1));
  if( az==0 ) return SQLITE_NOMEM;
  /* The PRIMARY KEY, in key order */
  for(i=0; i<p->nCol; i++){
    if( p->aiPk[i] ) az[p->aiPk[i]-1] = p->azName[i];
  }
  if( p->nPk ){
    upsertAppendNames(p->pKeys, az, p->nPk);
    if( nKey==p->nPk ){
      for(i=0; i<nKey; i++){
        j = upsertSchemaCol(p, azKey[i]);
        if( j<0 || p->aiPk[j]==0 ) break;
      }
      if( i==nKey ) *pbOk = 1;
    }
  }
  pList = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_INDEXES);
  pInfo = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_INDEX_COLUMNS);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pList, 1, pTab->zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(pList, 2, pTab->zDb, -1, SQLITE_STATIC);
    sqlite3_bind_text(pInfo, 2, pTab->zDb, -1, SQLITE_STATIC);
  }
  /* p->azColl[i] gets the collation of key column i in the first index
  ** that is the key; azTmp[] holds those of the index being read. */
  p->azColl = sqlite3_malloc64(sizeof(char*)*2*(nKey+1));
  if( p->azColl==0 ){
    rc = SQLITE_NOMEM;
  }else{
    memset(p->azColl, 0, sizeof(char*)*2*(nKey+1));
    azTmp = &p->azColl[nKey+1];
    p->nColl = nKey;
  }
  while( rc==SQLITE_OK && sqlite3_step(pList)==SQLITE_ROW ){
    int n = 0;
    int bExpr = 0;
    int bMatch = 1;
    int bPk = sqlite3_column_int(pList, 1);
    rc = sqlite3_bind_value(pInfo, 1, sqlite3_column_value(pList, 0));
    if( rc==SQLITE_OK ){
      rc = upsertIndexRead(p, pInfo, azKey, nKey, az, &n, azTmp,
                           &bExpr, &bMatch);
    }
    bMatch = rc==SQLITE_OK && bMatch && !bExpr && n==nKey;
    for(i=0; i<nKey; i++){
      if( bMatch && !bColl ){
        p->azColl[i] = azTmp[i];
      }else{
        sqlite3_free(azTmp[i]);
      }
      azTmp[i] = 0;
    }
    if( bMatch ){
      *pbOk = 1;
      bColl = 1;
    }
    if( bPk || bExpr || n==0 ) continue;
    sqlite3_str_appendall(p->pKeys, sqlite3_str_length(p->pKeys) ? ", " : "");
    upsertAppendNames(p->pKeys, az, n);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_reset(pList);
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(p->pKeys);
  sqlite3_finalize(pList);
  sqlite3_finalize(pInfo);
  sqlite3_free(az);
  return rc;
}

/*
** The collation with which the key lookup compares key column k: that
** of the key's index (see upsertScanStmt()), BINARY for an INTEGER
** PRIMARY KEY, which has no index and holds integers only.
*/
static const char *upsertLookupColl(UpsertTab *pTab, int k){
  if( pTab->azKeyColl && pTab->azKeyColl[k] ) return pTab->azKeyColl[k];
  return "BINARY";
}

/*
** Choose how the rowid of the backing table is named in SQL: the first
** of rowid, _rowid_ and oid that is no column name, or NULL.
*/
static void upsertRowidName(UpsertTab *pTab, UpsertSchema *p){
  static const char *azName[] = { "rowid", "_rowid_", "oid" };
  int i;
  pTab->zRowid = 0;
  if( !pTab->bRowid ) return;
  for(i=0; i<3; i++){
    if( upsertSchemaCol(p, azName[i])<0 ){ pTab->zRowid = azName[i]; return; }
  }
}

/*
** Name the hidden PRIMARY KEY column of a virtual table whose backing
** table has no rowid that SQL can name (WITHOUT ROWID, or a rowid table
** whose rowid, _rowid_ and oid are all column names), or leave
** pTab->zRowKey empty if it has one.
**
** Why: SQLite tells the rows of a virtual table apart by their rowid, or
** by the PRIMARY KEY of one declared WITHOUT ROWID.  A multi-index OR
** (each term a key lookup) drops a row whose rowid it has seen, and a
** RIGHT JOIN takes a row as matched by it.  A row counter would not do:
** every key lookup would report the same rowid.  So such a table is
** declared WITHOUT ROWID, with a hidden column as its PRIMARY KEY whose
** value tells rows apart (see upsertRowKey()).  A key column cannot be
** it: SQLite allows a writable WITHOUT ROWID virtual table a one-column
** PRIMARY KEY only, and a key column may hold NULL, with which an UPDATE
** of the virtual table would reach xUpdate looking like an INSERT.
**
** A table that declares as many columns as SQLITE_LIMIT_COLUMN allows
** has no room for it, and is declared as before, so that it can still
** be written.  It cannot be read anyway: the statement that reads the
** backing table would return one column too many.
*/
static void upsertRowKeyName(UpsertTab *pTab){
  int i;
  int n = 0;
  pTab->zRowKey[0] = 0;
  if( pTab->zRowid || pTab->nKey==0 ) return;
  if( pTab->nCol>=sqlite3_limit(pTab->db, SQLITE_LIMIT_COLUMN, -1) ) return;
  sqlite3_snprintf(sizeof(pTab->zRowKey), pTab->zRowKey, "upsert_into_row");
  for(i=0; i<pTab->nCol; i++){
    if( sqlite3_stricmp(pTab->azCol[i], pTab->zRowKey)==0 ){
      sqlite3_snprintf(sizeof(pTab->zRowKey), pTab->zRowKey,
                       "upsert_into_row%d", ++n);
      i = -1;
    }
  }
  pTab->iRowKey = pTab->nCol;
}

/*
** Append to pDecl, after a space, zType, the declared type of a column of
** the backing table, so that the virtual table's column gets exactly that
** type and so its affinity.  The type is written as one quoted token,
** which SQLite dequotes: whatever it holds, it is never read as SQL.
**
** One thing cannot come through as it is: in a virtual table's column
** type, SQLite takes the word "hidden" (any case, with a space or an end
** of the type on each side) for the hidden-column marker, removes it and
** hides the column.  So the space before each such word is written as a
** tab, and a tab is put before one that opens the type.  The column stays
** visible, and its affinity, which spaces take no part in, is the same.
*/
static void upsertAppendType(sqlite3_str *pDecl, const char *zType){
  int i;
  sqlite3_str_appendall(pDecl, " \"");
  for(i=0; zType[i]; i++){
    const char *zNext = &zType[i + (zType[i]==' ')];
    if( (i==0 || zType[i]==' ')
     && sqlite3_strnicmp(zNext, "hidden", 6)==0
     && (zNext[6]==0 || zNext[6]==' ') ){
      sqlite3_str_appendchar(pDecl, 1, '\t');
      if( zType[i]==' ' ) continue;
    }
    sqlite3_str_appendchar(pDecl, zType[i]=='"' ? 2 : 1, zType[i]);
  }
  sqlite3_str_appendchar(pDecl, 1, '"');
}

/*
** What upsertConfigure() has chosen so far: columns as indexes into the
** UpsertSchema p, and the options (UPSERT_OPT_*; NULL if not given).
*/
typedef struct UpsertConfig UpsertConfig;

struct UpsertConfig {
  UpsertSchema *p;           /* The backing table's columns */
  const char **azOpt;        /* The value of each option, or NULL */
  const int *anOpt;          /* Their lengths */
  int *aiKey;                /* The key columns, in key order */
  int nKey;                  /* Entries of aiKey[] */
  int *aiDecl;               /* The declared columns */
  int nDecl;                 /* Entries of aiDecl[] */
  int *aiList;               /* Scratch: the columns of update= or keep= */
};

/*
** Fail with a message that says why the key chosen, the nKey columns
** azKey[], cannot be used, and which keys can.
*/
static int upsertKeyRefused(
  UpsertTab *pTab, UpsertSchema *p,
  char **azKey, int nKey,
  char **pzErr
){
  int rc = SQLITE_OK;
  const char *zKeys = sqlite3_str_value(p->pKeys);
  if( nKey==0 && zKeys ){
    upsertFail(&rc, pzErr, UPSERT_ERR "table '%s' has no PRIMARY KEY:"
        " choose a key with key=, one of %s", pTab->zTab, zKeys);
  }else if( nKey==0 ){
    upsertFail(&rc, pzErr, UPSERT_ERR "table '%s' has no PRIMARY KEY"
        " and no UNIQUE index to use as key", pTab->zTab);
  }else{
    sqlite3_str *pStr = sqlite3_str_new(pTab->db);
    char *zKey;
    upsertAppendNames(pStr, azKey, nKey);
    zKey = sqlite3_str_finish(pStr);
    if( zKey==0 || (zKeys==0 && sqlite3_str_errcode(p->pKeys)) ){
      rc = SQLITE_NOMEM;
    }
    upsertFail(&rc, pzErr, UPSERT_ERR "key %s is not the PRIMARY KEY"
        " or a UNIQUE index of '%s': usable keys are %s",
        zKey, pTab->zTab, zKeys ? zKeys : "none");
    sqlite3_free(zKey);
  }
  return rc;
}

/*
** key=: the key columns (default: the PRIMARY KEY), which must be the
** PRIMARY KEY or a UNIQUE index that is not partial.  Takes the key
** index's collations for pTab->azKeyColl.
*/
static int upsertConfigKey(UpsertTab *pTab, UpsertConfig *pC, char **pzErr){
  UpsertSchema *p = pC->p;
  int rc = SQLITE_OK;
  char **az;
  int bOk = 0;
  int i;
  if( pC->azOpt[UPSERT_OPT_KEY] ){
    rc = upsertColumnList(pTab, p, "key", pC->azOpt[UPSERT_OPT_KEY],
                          pC->anOpt[UPSERT_OPT_KEY], pC->aiKey, &pC->nKey,
                          pzErr);
    if( rc==SQLITE_OK && pC->nKey==0 ){
      upsertFail(&rc, pzErr, UPSERT_ERR "key=() names no column");
    }
    if( rc ) return rc;
  }else{
    for(i=0; i<p->nCol; i++){
      if( p->aiPk[i] ) pC->aiKey[p->aiPk[i]-1] = i;
    }
    pC->nKey = p->nPk;
  }
  az = sqlite3_malloc64(sizeof(char*)*(pC->nKey+1));
  if( az==0 ) return SQLITE_NOMEM;
  for(i=0; i<pC->nKey; i++) az[i] = p->azName[pC->aiKey[i]];
  rc = upsertKeyCheck(pTab, p, az, pC->nKey, &bOk, pzErr);
  if( rc==SQLITE_OK && bOk ){
    pTab->azKeyColl = p->azColl;
    pTab->nKeyColl = p->nColl;
    p->azColl = 0;
    p->nColl = 0;
  }else if( rc==SQLITE_OK ){
    rc = upsertKeyRefused(pTab, p, az, pC->nKey, pzErr);
  }
  sqlite3_free(az);
  return rc;
}

/* True if the declared type zType contains zWord, in any case */
static int upsertTypeHas(const char *zType, const char *zWord){
  int n = (int)strlen(zWord);
  for(; *zType; zType++){
    if( sqlite3_strnicmp(zType, zWord, n)==0 ) return 1;
  }
  return 0;
}

/*
** True if a column of declared type zType, in a table that is STRICT if
** bStrict, has no affinity and so stores every value as given: its type
** is empty or names a BLOB (by the rules of "Determination Of Column
** Affinity" in SQLite's datatype3 document, in their order), or it is
** ANY in a STRICT table.
*/
static int upsertStoresAsIs(const char *zType, int bStrict){
  if( bStrict ) return sqlite3_stricmp(zType, "ANY")==0
                    || sqlite3_stricmp(zType, "BLOB")==0;
  if( upsertTypeHas(zType, "INT") ) return 0;
  if( upsertTypeHas(zType, "CHAR") || upsertTypeHas(zType, "CLOB")
   || upsertTypeHas(zType, "TEXT") ){
    return 0;
  }
  return zType[0]==0 || upsertTypeHas(zType, "BLOB");
}

/*
** columns=: the declared columns (default: all), which must hold the key.
** Fills pTab->azCol, aFlag and aiKey, appends the declaration of each
** column to pDecl, and lists in pTab->azNeed the columns left out that
** are NOT NULL without a DEFAULT.
*/
static int upsertConfigColumns(
  UpsertTab *pTab, UpsertConfig *pC,
  sqlite3_str *pDecl,
  char **pzErr
){
  UpsertSchema *p = pC->p;
  int rc = SQLITE_OK;
  int i, k;
  if( pC->azOpt[UPSERT_OPT_COLUMNS] ){
    rc = upsertColumnList(pTab, p, "columns", pC->azOpt[UPSERT_OPT_COLUMNS],
                          pC->anOpt[UPSERT_OPT_COLUMNS], pC->aiDecl,
                          &pC->nDecl, pzErr);
    for(k=0; rc==SQLITE_OK && k<pC->nKey; k++){
      if( upsertFindInt(pC->aiDecl, pC->nDecl, pC->aiKey[k])<0 ){
        upsertFail(&rc, pzErr, UPSERT_ERR "columns= leaves out key column"
            " '%s'", p->azName[pC->aiKey[k]]);
      }
    }
    if( rc ) return rc;
  }else{
    for(i=0; i<p->nCol; i++) pC->aiDecl[pC->nDecl++] = i;
  }
  pTab->azCol = sqlite3_malloc64(sizeof(char*)*pC->nDecl);
  pTab->aFlag = sqlite3_malloc64(pC->nDecl);
  pTab->aiKey = sqlite3_malloc64(sizeof(int)*pC->nKey);
  if( pTab->azCol==0 || pTab->aFlag==0 || pTab->aiKey==0 ) return SQLITE_NOMEM;
  for(i=0; i<pC->nDecl; i++){
    int iCol = pC->aiDecl[i];
    pTab->azCol[i] = sqlite3_mprintf("%s", p->azName[iCol]);
    if( pTab->azCol[i]==0 ) return SQLITE_NOMEM;
    pTab->nCol++;
    pTab->aFlag[i] = upsertFindInt(pC->aiKey, pC->nKey, iCol)>=0 ?
                     UPSERT_F_KEY : UPSERT_F_UPDATE;
    if( p->aNeed[iCol] ) pTab->aFlag[i] |= UPSERT_F_NEED;
    if( upsertStoresAsIs(p->azType[iCol], pTab->bStrict) ){
      pTab->aFlag[i] |= UPSERT_F_ASIS;
    }
    sqlite3_str_appendf(pDecl, "%s\"%w\"", i ? ", " : "", p->azName[iCol]);
    if( p->azType[iCol][0] ) upsertAppendType(pDecl, p->azType[iCol]);
  }
  for(k=0; k<pC->nKey; k++){
    pTab->aiKey[k] = upsertFindInt(pC->aiDecl, pC->nDecl, pC->aiKey[k]);
  }
  pTab->nKey = pC->nKey;
  for(i=0; i<p->nCol; i++){
    if( p->aNeed[i] && upsertFindInt(pC->aiDecl, pC->nDecl, i)<0 ){
      char **azNew = sqlite3_realloc64(pTab->azNeed,
                                       sizeof(char*)*(pTab->nNeed+1));
      if( azNew==0 ) return SQLITE_NOMEM;
      pTab->azNeed = azNew;
      azNew[pTab->nNeed] = sqlite3_mprintf("%s", p->azName[i]);
      if( azNew[pTab->nNeed]==0 ) return SQLITE_NOMEM;
      pTab->nNeed++;
    }
  }
  return SQLITE_OK;
}

/*
** update= and keep=: which declared columns a conflict overwrites
** (UPSERT_F_UPDATE; default: every one that is not key).
*/
static int upsertConfigUpdate(
  UpsertTab *pTab, UpsertConfig *pC,
  char **pzErr
){
  int rc = SQLITE_OK;
  int i, k;
  if( pC->azOpt[UPSERT_OPT_UPDATE] && pC->azOpt[UPSERT_OPT_KEEP] ){
    upsertFail(&rc, pzErr, UPSERT_ERR "keep= and update= cannot be used"
        " together");
  }
  for(k=UPSERT_OPT_UPDATE; rc==SQLITE_OK && k<=UPSERT_OPT_KEEP; k++){
    int nList = 0;
    if( pC->azOpt[k]==0 ) continue;
    rc = upsertColumnList(pTab, pC->p, azUpsertOpt[k], pC->azOpt[k],
                          pC->anOpt[k], pC->aiList, &nList, pzErr);
    if( k==UPSERT_OPT_UPDATE ){
      for(i=0; i<pC->nDecl; i++) pTab->aFlag[i] &= ~UPSERT_F_UPDATE;
    }
    for(i=0; rc==SQLITE_OK && i<nList; i++){
      int iDecl = upsertFindInt(pC->aiDecl, pC->nDecl, pC->aiList[i]);
      const char *zName = pC->p->azName[pC->aiList[i]];
      if( iDecl<0 ){
        upsertFail(&rc, pzErr, UPSERT_ERR "%s=: column '%s' is not declared"
            " (see columns=)", azUpsertOpt[k], zName);
      }else if( pTab->aFlag[iDecl] & UPSERT_F_KEY ){
        upsertFail(&rc, pzErr, UPSERT_ERR "%s=: '%s' is a key column",
            azUpsertOpt[k], zName);
      }else if( k==UPSERT_OPT_UPDATE ){
        pTab->aFlag[iDecl] |= UPSERT_F_UPDATE;
      }else{
        pTab->aFlag[iDecl] &= ~UPSERT_F_UPDATE;
      }
    }
  }
  return rc;
}

/*
** Option iOpt, whose value is zYes or zNo (the default), in any case:
** 1 for zYes, 0 for zNo or when it is not given.  Any other value sets
** *pRc and *pzErr (see upsertFail()).
*/
static int upsertConfigChoice(
  UpsertConfig *pC, int iOpt,
  const char *zYes, const char *zNo,
  int *pRc, char **pzErr
){
  const char *z = pC->azOpt[iOpt];
  int n = pC->anOpt[iOpt];
  if( z==0 ) return 0;
  if( n==(int)strlen(zYes) && sqlite3_strnicmp(z, zYes, n)==0 ) return 1;
  if( n==(int)strlen(zNo) && sqlite3_strnicmp(z, zNo, n)==0 ) return 0;
  upsertFail(pRc, pzErr, UPSERT_ERR "%s= must be %s or %s, not '%.*s'",
             azUpsertOpt[iOpt], zYes, zNo, n, z);
  return 0;
}

/*
** nulls=: keep or overwrite (the default); unchanged=: skip or update
** (the default).
*/
static int upsertConfigNulls(
  UpsertTab *pTab, UpsertConfig *pC,
  char **pzErr
){
  int rc = SQLITE_OK;
  pTab->bNullsKeep = upsertConfigChoice(pC, UPSERT_OPT_NULLS, "keep",
                                        "overwrite", &rc, pzErr);
  pTab->bSkipSame = upsertConfigChoice(pC, UPSERT_OPT_UNCHANGED, "skip",
                                       "update", &rc, pzErr);
  if( rc==SQLITE_OK && pTab->bNullsKeep ){
    pTab->aNull = sqlite3_malloc64(pC->nDecl);
    if( pTab->aNull==0 ) rc = SQLITE_NOMEM;
  }
  return rc;
}

/*
** where=, on a TEMP table only: it carries SQL (see the comment above
** upsertInit()).  The statement is compiled now, so that a bad
** expression fails here.
*/
static int upsertConfigWhere(
  UpsertTab *pTab, UpsertConfig *pC,
  const char *zVtabDb,
  char **pzErr
){
  int rc = SQLITE_OK;
  int i;
  sqlite3_stmt *pStmt;
  if( pC->azOpt[UPSERT_OPT_WHERE]==0 ) return SQLITE_OK;
  if( sqlite3_stricmp(zVtabDb, "temp")!=0 ){
    upsertFail(&rc, pzErr, UPSERT_ERR "where= is allowed on TEMP tables"
        " only: it carries SQL, which a database file must never carry"
        " into a connection that opens it");
    return rc;
  }
  for(i=0; i<pC->nDecl && !(pTab->aFlag[i] & UPSERT_F_UPDATE); i++){}
  if( i==pC->nDecl ){
    upsertFail(&rc, pzErr, UPSERT_ERR "where= has no effect when no"
        " column is updated");
    return rc;
  }
  pTab->zWhere = sqlite3_mprintf("%.*s", pC->anOpt[UPSERT_OPT_WHERE],
                                 pC->azOpt[UPSERT_OPT_WHERE]);
  if( pTab->zWhere==0 ) return SQLITE_NOMEM;
  pStmt = upsertWriteStmt(pTab, UPSERT_W_UPSERT, 0, &rc, pzErr);
  sqlite3_finalize(pStmt);
  return rc;
}

/*
** Apply the options to pTab, whose backing table's columns are in p:
** choose the key, the declared columns and what is updated, and append
** the declared columns to pDecl.  zVtabDb is the schema of the virtual
** table.  Returns SQLITE_OK or an error code with *pzErr set.
*/
static int upsertConfigure(
  UpsertTab *pTab, UpsertSchema *p,
  const char **azOpt, const int *anOpt,
  const char *zVtabDb,
  sqlite3_str *pDecl,
  char **pzErr
){
  UpsertConfig c;
  int *ai;                   /* Room for the three lists of c */
  int rc;
  memset(&c, 0, sizeof(c));
  c.p = p;
  c.azOpt = azOpt;
  c.anOpt = anOpt;
  ai = sqlite3_malloc64(sizeof(int)*3*(p->nCol+1));
  if( ai==0 ) return SQLITE_NOMEM;
  c.aiKey = ai;
  c.aiDecl = ai + (p->nCol+1);
  c.aiList = ai + 2*(p->nCol+1);
  rc = upsertConfigKey(pTab, &c, pzErr);
  if( rc==SQLITE_OK ) rc = upsertConfigColumns(pTab, &c, pDecl, pzErr);
  if( rc==SQLITE_OK ) rc = upsertConfigUpdate(pTab, &c, pzErr);
  if( rc==SQLITE_OK ) rc = upsertConfigNulls(pTab, &c, pzErr);
  if( rc==SQLITE_OK ) rc = upsertConfigWhere(pTab, &c, zVtabDb, pzErr);
  sqlite3_free(ai);
  return rc;
}

/*
** Set pTab->eEnc to the connection's text encoding, that of every text
** value xUpdate is given.
*/
static int upsertEncoding(UpsertTab *pTab, char **pzErr){
  int rc = SQLITE_OK;
  sqlite3_stmt *pStmt;
  pStmt = upsertSqlPrepare(&rc, pTab->db, pzErr, UPSERT_SQL_ENCODING);
  if( pStmt ){
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pStmt, 0);
      if( z && strcmp(z, "UTF-16le")==0 ){
        pTab->eEnc = SQLITE_UTF16LE;
      }else if( z && strcmp(z, "UTF-16be")==0 ){
        pTab->eEnc = SQLITE_UTF16BE;
      }else{
        pTab->eEnc = SQLITE_UTF8;
      }
    }
    rc = sqlite3_finalize(pStmt);
  }
  return rc;
}

/*
** Derive from argv[], the arguments of xCreate and xConnect (argv[1] is
** the schema of the virtual table, argv[3] names the backing table,
** argv[4..] are options), and from the backing table's schema, what pTab
** knows of them: the backing table, its columns and key, what is
** updated, and the declaration of the virtual table, returned in *pzDecl
** (NULL if out of memory).  Run at connect, and again by upsertRefresh()
** on a table of its own after a schema change.  Returns SQLITE_OK or an
** error code with *pzErr set.
*/
static int upsertDerive(
  UpsertTab *pTab,
  int argc, const char *const*argv,
  int bCreate,
  char **pzDecl,
  char **pzErr
){
  UpsertSchema s;
  const char *azOpt[UPSERT_N_OPT];
  int anOpt[UPSERT_N_OPT];
  sqlite3_str *pDecl = sqlite3_str_new(pTab->db);
  char *zRefused = 0;        /* Why it may not write that table */
  int rc = SQLITE_OK;

  memset(&s, 0, sizeof(s));
  memset(azOpt, 0, sizeof(azOpt));
  memset(anOpt, 0, sizeof(anOpt));
  sqlite3_str_appendall(pDecl, "CREATE TABLE x(");
  if( argc<4 ){
    upsertFail(&rc, pzErr, UPSERT_ERR "no table given: use %s(TABLE)",
               argv[0]);
  }else{
    rc = upsertOptions(argc-4, argv+4, azOpt, anOpt, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = upsertResolve(pTab, argv[3], argv[1], &zRefused, pzErr);
  }
  if( rc==SQLITE_OK ) rc = upsertSchemaRead(pTab, &s, pzErr);
  if( rc==SQLITE_OK ){
    rc = upsertConfigure(pTab, &s, azOpt, anOpt, argv[1], pDecl, pzErr);
  }
  if( zRefused && rc!=SQLITE_NOMEM ){
    /* The reason wins over any other error.  A connected table declares
    ** the columns it would have, so that a trigger's INSERT into it
    ** compiles and fails with the reason */
    sqlite3_free(*pzErr);
    *pzErr = 0;
    if( rc==SQLITE_OK && !bCreate ){
      pTab->zUnusable = zRefused;
    }else{
      *pzErr = zRefused;
      rc = SQLITE_ERROR;
    }
    zRefused = 0;
  }
  sqlite3_free(zRefused);
  if( rc==SQLITE_OK ) upsertRowidName(pTab, &s);
  if( rc==SQLITE_OK ) rc = upsertEncoding(pTab, pzErr);
  if( rc==SQLITE_OK ) rc = upsertCookie(pTab, &pTab->iCookie);
  if( rc==SQLITE_OK ){
    const char *zFile = sqlite3_db_filename(pTab->db, pTab->zDb);
    pTab->zDbFile = sqlite3_mprintf("%s", zFile ? zFile : "");
    if( pTab->zDbFile==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) upsertRowKeyName(pTab);
  upsertSchemaFree(&s);
  if( pTab->zRowKey[0] ){
    sqlite3_str_appendf(pDecl, ", \"%w\" HIDDEN, PRIMARY KEY(\"%w\")",
                        pTab->zRowKey, pTab->zRowKey);
  }
  sqlite3_str_appendall(pDecl, ")");
  if( pTab->zRowKey[0] ) sqlite3_str_appendall(pDecl, " WITHOUT ROWID");
  *pzDecl = sqlite3_str_finish(pDecl);
  if( *pzDecl==0 && rc==SQLITE_OK ) rc = SQLITE_NOMEM;
  return rc;
}

/*
** Keep a copy of the argc arguments argv[] of xConnect in pTab, for
** upsertRefresh().
*/
static int upsertKeepArgs(UpsertTab *pTab, int argc, const char *const*argv){
  sqlite3_int64 nByte = sizeof(char*)*argc;
  char *z;
  int i;
  for(i=0; i<argc; i++) nByte += strlen(argv[i])+1;
  pTab->azArg = sqlite3_malloc64(nByte);
  if( pTab->azArg==0 ) return SQLITE_NOMEM;
  z = (char*)&pTab->azArg[argc];
  for(i=0; i<argc; i++){
    int n = (int)strlen(argv[i])+1;
    memcpy(z, argv[i], n);
    pTab->azArg[i] = z;
    z += n;
  }
  pTab->nArg = argc;
  return SQLITE_OK;
}

/*
** Finalize every cached write statement of pTab.
*/
static void upsertClearWrites(UpsertTab *pTab){
  int i;
  for(i=0; i<pTab->nWrite; i++){
    sqlite3_finalize(pTab->aWrite[i].pStmt);
    sqlite3_free(pTab->aWrite[i].aNull);
  }
  memset(pTab->aWrite, 0, sizeof(pTab->aWrite));
  pTab->nWrite = 0;
  pTab->iEvict = 0;
}

/*
** Finalize every statement pTab has cached.
*/
static void upsertClearStmts(UpsertTab *pTab){
  int i;
  upsertClearWrites(pTab);
  sqlite3_finalize(pTab->pOpener);
  pTab->pOpener = 0;
  for(i=0; i<2; i++){
    sqlite3_finalize(pTab->apScan[i]);
    pTab->apScan[i] = 0;
  }
}

/*
** Free everything a table owns, then the table itself.
*/
static void upsertFree(UpsertTab *pTab){
  int i;
  if( pTab==0 ) return;
  if( pTab->pMod ){
    UpsertTab **pp;
    for(pp=&pTab->pMod->pList; *pp; pp=&(*pp)->pNext){
      if( *pp==pTab ){ *pp = pTab->pNext; break; }
    }
  }
  upsertClearWrites(pTab);
  sqlite3_finalize(pTab->pOpener);
  for(i=0; i<2; i++) sqlite3_finalize(pTab->apScan[i]);
  upsertFreeList(pTab->azCol, pTab->nCol);
  upsertFreeList(pTab->azNeed, pTab->nNeed);
  upsertFreeList(pTab->azKeyColl, pTab->nKeyColl);
  sqlite3_free(pTab->aFlag);
  sqlite3_free(pTab->aNull);
  sqlite3_free(pTab->aiKey);
  sqlite3_free(pTab->zDb);
  sqlite3_free(pTab->zTab);
  sqlite3_free(pTab->zUnusable);
  sqlite3_free(pTab->zWhere);
  sqlite3_free(pTab->zDecl);
  sqlite3_free(pTab->zDbFile);
  sqlite3_free(pTab->azArg);
  sqlite3_free(pTab->base.zErrMsg);
  sqlite3_free(pTab);
}

/*
** The xConnect and xCreate methods.  argv[1] is the schema of the virtual
** table, argv[3] names the backing table, argv[4..] are options.
**
** xCreate fails when the backing table cannot be used.  xConnect does
** not: it declares a placeholder column and remembers why, so that a
** persistent virtual table whose backing table is gone, or whose stored
** arguments are bad (a crafted file, or an option of a later version),
** can still be dropped.  INSERT and SELECT on it then fail with that
** reason.  So does a persistent table whose schema holds where=: SQL
** that came with a database file is never run; and one that names a
** table of another schema (see upsertResolve()), which declares that
** table's columns.
*/
static int upsertInit(
  sqlite3 *db,
  void *pAux,
  int argc, const char *const*argv,
  sqlite3_vtab **ppVtab,
  char **pzErr,
  int bCreate
){
  UpsertTab *pTab;
  char *zDecl = 0;
  int rc = SQLITE_OK;

  *ppVtab = 0;
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  pTab->pMod = (UpsertModule*)pAux;
  sqlite3_snprintf(sizeof(pTab->zPtr), pTab->zPtr, "vtab:%p", &pTab->base);

  rc = upsertDerive(pTab, argc, argv, bCreate, &zDecl, pzErr);
  if( rc==SQLITE_OK ) rc = upsertKeepArgs(pTab, argc, argv);
  if( rc==SQLITE_ERROR && !bCreate ){
    /* See the comment above this function */
    sqlite3_free(pTab->zUnusable);
    pTab->zUnusable = *pzErr;
    *pzErr = 0;
    upsertFreeList(pTab->azCol, pTab->nCol);
    pTab->azCol = 0;
    pTab->nCol = 0;
    pTab->nKey = 0;
    sqlite3_free(zDecl);
    zDecl = sqlite3_mprintf("CREATE TABLE x(\"upsert_into unusable\")");
    rc = pTab->zUnusable && zDecl ? SQLITE_OK : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_declare_vtab(db, zDecl);
    if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(db));
    }
  }
  pTab->zDecl = zDecl;
  if( rc==SQLITE_OK ){
    pTab->pStats = upsertStatsAttach(db, pTab->pMod, argv[1], argv[2],
                                     bCreate);
    if( pTab->pStats==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    /* The backing table's own constraint handling decides what an
    ** OR FAIL, OR IGNORE or OR ROLLBACK statement does with a row that
    ** breaks a constraint, as it would for a native statement.
    **
    ** Trust: the module keeps SQLite's default policy, neither
    ** DIRECTONLY nor INNOCUOUS.  It writes only to a table the schema
    ** names, through quoted identifiers, so a trigger or view may use
    ** it when the application trusts its schema (trusted_schema=ON);
    ** it is not innocuous, because it writes, so a schema from an
    ** untrusted file cannot use it with trusted_schema=OFF. */
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
    pTab->pNext = pTab->pMod->pList;
    pTab->pMod->pList = pTab;
    *ppVtab = &pTab->base;
  }else{
    pTab->pMod = 0;
    upsertFree(pTab);
  }
  return rc;
}

static int upsertCreate(
  sqlite3 *db, void *pAux,
  int argc, const char *const*argv,
  sqlite3_vtab **ppVtab, char **pzErr
){
  return upsertInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int upsertConnect(
  sqlite3 *db, void *pAux,
  int argc, const char *const*argv,
  sqlite3_vtab **ppVtab, char **pzErr
){
  return upsertInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

/*
** xDisconnect.  The backing table is never touched.  Counts that are
** all zero and that no other connected table shares go too: so a CREATE
** that was rolled back leaves no counts behind, and a table connected
** again starts from zero all the same.  So do the counts of a dropped
** table, with the last table that shares them.
*/
static int upsertDisconnect(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  UpsertStats *p = pTab->pStats;
  if( p && pTab->pMod
   && (p->bDropped || (p->a[0]==0 && p->a[1]==0 && p->a[2]==0))
   && !upsertStatsShared(pTab) ){
    upsertStatsDrop(pTab->pMod, p);
  }
  upsertFree(pTab);
  return SQLITE_OK;
}

/*
** xDestroy: as xDisconnect, and the counts of the table go too.  While
** another table still uses them (the same table, renamed or reconnected
** in this transaction, whose transaction methods are still to come),
** they only leave the list, and go with the last of those tables.
*/
static int upsertDestroy(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  UpsertStats *p = pTab->pStats;
  if( p && upsertStatsShared(pTab) ){
    UpsertStats **pp;
    for(pp=&pTab->pMod->pStats; *pp && *pp!=p; pp=&(*pp)->pNext){}
    if( *pp ) *pp = p->pNext;
    p->bDropped = 1;
  }else if( p ){
    upsertStatsDrop(pTab->pMod, p);
  }
  pTab->pStats = 0;
  upsertFree(pTab);
  return SQLITE_OK;
}

/*****************************************************************************
** Following schema changes
*/

/*
** Exchange what upsertDerive() derived from the schema between a and b.
** aNull is kept: the columns, and so its size, are the same.
*/
static void upsertSwapDerived(UpsertTab *a, UpsertTab *b){
  UpsertTab t;
#define UPSERT_SWAP(F) (t.F = a->F, a->F = b->F, b->F = t.F)
  UPSERT_SWAP(zDb);
  UPSERT_SWAP(zTab);
  UPSERT_SWAP(zWhere);
  UPSERT_SWAP(iDb);
  UPSERT_SWAP(bRowid);
  UPSERT_SWAP(bNullsKeep);
  UPSERT_SWAP(bSkipSame);
  UPSERT_SWAP(bStrict);
  UPSERT_SWAP(eEnc);
  UPSERT_SWAP(nCol);
  UPSERT_SWAP(azCol);
  UPSERT_SWAP(aFlag);
  UPSERT_SWAP(nNeed);
  UPSERT_SWAP(azNeed);
  UPSERT_SWAP(azKeyColl);
  UPSERT_SWAP(nKeyColl);
  UPSERT_SWAP(nKey);
  UPSERT_SWAP(aiKey);
  UPSERT_SWAP(zRowid);
  UPSERT_SWAP(iCookie);
  UPSERT_SWAP(zDbFile);
  UPSERT_SWAP(iRowKey);
  UPSERT_SWAP(bShadow);
#undef UPSERT_SWAP
  memcpy(t.zRowKey, a->zRowKey, sizeof(t.zRowKey));
  memcpy(a->zRowKey, b->zRowKey, sizeof(t.zRowKey));
  memcpy(b->zRowKey, t.zRowKey, sizeof(t.zRowKey));
}

/*
** Follow a schema change.  SQLite connects a virtual table again when it
** reloads a schema, but DDL this connection runs itself (DROP INDEX and
** CREATE INDEX, a table dropped and created again) changes the schema in
** place, and a TEMP virtual table stays connected.  So when the backing
** database's schema_version has moved since pTab derived its state,
** derive it again, on a scratch table, and take the new state if it
** declares the same columns; every cached statement is finalized then,
** and *pbNew set.  If the columns differ, the virtual table no longer
** stands for the backing table: an error.  Called only where no
** statement of pTab runs.
*/
static int upsertRefresh(UpsertTab *pTab, int *pbNew){
  UpsertTab *p;
  const char **azArg = 0;
  char *zTab = 0;
  char *zDecl = 0;
  char *zErr = 0;
  int iCookie = 0;
  int rc;

  *pbNew = 0;
  if( pTab->zUnusable || pTab->azArg==0 || pTab->nInner ) return SQLITE_OK;
  rc = upsertCookie(pTab, &iCookie);
  if( rc!=SQLITE_OK ) return rc;
  if( iCookie==pTab->iCookie ){
    /* The same schema, unless another file was attached under the name */
    const char *zFile = sqlite3_db_filename(pTab->db, pTab->zDb);
    if( strcmp(zFile ? zFile : "", pTab->zDbFile ? pTab->zDbFile : "")==0 ){
      return SQLITE_OK;
    }
  }
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = pTab->db;
  /* The table resolved at connect, whatever the name now resolves to */
  zTab = sqlite3_mprintf("\"%w\".\"%w\"", pTab->zDb, pTab->zTab);
  azArg = sqlite3_malloc64(sizeof(char*)*pTab->nArg);
  if( zTab==0 || azArg==0 ){
    rc = SQLITE_NOMEM;
  }else{
    memcpy(azArg, pTab->azArg, sizeof(char*)*pTab->nArg);
    azArg[3] = zTab;
    rc = upsertDerive(p, pTab->nArg, azArg, 1, &zDecl, &zErr);
  }
  if( rc==SQLITE_OK && strcmp(zDecl, pTab->zDecl)!=0 ){
    upsertFail(&rc, &zErr, UPSERT_ERR "the columns of table \"%s\" have"
        " changed since \"%s\" was connected: drop \"%s\" and create it"
        " again", pTab->zTab, pTab->azArg[2], pTab->azArg[2]);
    if( rc==SQLITE_ERROR ){
      /* For good: every use fails so, until SQLite connects it again */
      pTab->zUnusable = sqlite3_mprintf("%s", zErr);
      if( pTab->zUnusable==0 ) rc = SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ){
    int k;
    upsertClearStmts(pTab);
    upsertSwapDerived(pTab, p);
    pTab->nRefresh++;
    for(k=0; k<pTab->nKey; k++){
      if( pTab->nKey!=p->nKey || pTab->aiKey[k]!=p->aiKey[k]
       || sqlite3_stricmp(upsertLookupColl(pTab, k), upsertLookupColl(p, k))
      ){
        /* Plans chosen on the old key are answered by scans */
        pTab->iGen++;
        break;
      }
    }
    *pbNew = 1;
  }else if( zErr ){
    upsertError(pTab, "%s", zErr);
  }
  sqlite3_free(zErr);
  sqlite3_free(zDecl);
  sqlite3_free(zTab);
  sqlite3_free(azArg);
  upsertFree(p);
  return rc;
}

/*
** upsert_into_fresh(P): P is the pointer to an UpsertTab bound to the
** inner statement.  Fails if SQLite re-prepared the statement since it
** was built, after a schema change (see upsertRefresh()); else true.
*/
static void upsertFreshFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  UpsertTab *pTab = sqlite3_value_pointer(argv[0], "upsert_into");
  (void)argc;
  if( pTab && pTab->pStep && pTab->nStepPrep!=sqlite3_stmt_status(
        pTab->pStep, SQLITE_STMTSTATUS_REPREPARE, 0) ){
    pTab->bStale = 1;
    sqlite3_result_error(ctx, UPSERT_ERR "the schema of the backing table"
        " changed", -1);
    return;
  }
  sqlite3_result_int(ctx, 1);
}

/*
** True if SQLite expired pStmt: DDL on this connection, an ATTACH or a
** DETACH happened since it last ran, and it will be prepared again.
** Always false when the host's SQLite has no sqlite3_expired().
*/
static int upsertExpired(sqlite3_stmt *pStmt){
#if defined(SQLITE_OMIT_DEPRECATED)
  (void)pStmt;
  return 0;
#elif !defined(SQLITE_CORE)
  /* A SQLite built without its deprecated interfaces (better-sqlite3's
  ** is) hands the extension no sqlite3_expired(): the later checks of
  ** upsertWriteRow() and upsertRefresh() must do */
  return sqlite3_api->expired ? sqlite3_expired(pStmt) : 0;
#else
  return sqlite3_expired(pStmt);
#endif
}

/*****************************************************************************
** The read path
*/

/*
** Query plans, as idxNum (idxStr is not used):
**
**   UPSERT_PLAN_SCAN (0)   scan the whole backing table
**   UPSERT_PLAN_KEY  (1)   equality on every key column: argv[i] is the
**                          value of key column i, in key order, and the
**                          backing table is searched through its key
**
** The key plan takes an equality only if it compares with the collation
** of the key's index, for the lookup compares with that one: a query's
** k='a' COLLATE NOCASE on a BINARY key must find 'a' and 'A', which
** only a scan does.  Constraints are not omitted: SQLite checks them
** again on every row returned.
**
** The key plan's idxNum also holds, above its lowest bit, how many times
** the key or its collations had changed when it was chosen (iGen, see
** upsertRefresh()).  A statement prepared before a schema change that
** changed the key's collation runs on after it; xFilter answers such a
** plan with a scan, which is right whatever the collations.
*/
static int upsertBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  int i, k;
  int nFound = 0;
  int bNew = 0;
  /* Plan on the schema as it is: an error shows when the statement runs */
  upsertRefresh(pTab, &bNew);
  for(k=0; k<pTab->nKey; k++){
    for(i=0; i<pInfo->nConstraint; i++){
      const struct sqlite3_index_constraint *p = &pInfo->aConstraint[i];
      if( p->usable && p->op==SQLITE_INDEX_CONSTRAINT_EQ
       && p->iColumn==pTab->aiKey[k]
       && sqlite3_stricmp(sqlite3_vtab_collation(pInfo, i),
                          upsertLookupColl(pTab, k))==0 ){
        pInfo->aConstraintUsage[i].argvIndex = k+1;
        nFound++;
        break;
      }
    }
    if( i==pInfo->nConstraint ) break;
  }
  if( pTab->nKey>0 && nFound==pTab->nKey ){
    pInfo->idxNum = UPSERT_PLAN_KEY | ((pTab->iGen & 0xffffff)<<1);
    pInfo->estimatedCost = 10.0;
    pInfo->estimatedRows = 1;
    pInfo->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
  }else{
    for(i=0; i<pInfo->nConstraint; i++){
      pInfo->aConstraintUsage[i].argvIndex = 0;
    }
    pInfo->idxNum = UPSERT_PLAN_SCAN;
    pInfo->estimatedCost = 1000000.0;
    pInfo->estimatedRows = 1000000;
  }
  return SQLITE_OK;
}

static int upsertOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  UpsertCursor *pCur;
  (void)pVtab;
  pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

/*
** Hand the read statement of pCur back to its table for reuse, or
** finalize it if the table already holds one for that plan.
*/
static void upsertCursorRelease(UpsertCursor *pCur){
  UpsertTab *pTab = (UpsertTab*)pCur->base.pVtab;
  if( pCur->pStmt ){
    sqlite3_reset(pCur->pStmt);
    if( pTab->apScan[pCur->iPlan]==0 && pCur->nRefresh==pTab->nRefresh ){
      sqlite3_clear_bindings(pCur->pStmt);
      pTab->apScan[pCur->iPlan] = pCur->pStmt;
    }else{
      sqlite3_finalize(pCur->pStmt);
    }
    pCur->pStmt = 0;
  }
}

static int upsertClose(sqlite3_vtab_cursor *cur){
  upsertCursorRelease((UpsertCursor*)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

static int upsertNext(sqlite3_vtab_cursor *cur){
  UpsertCursor *pCur = (UpsertCursor*)cur;
  int rc = sqlite3_step(pCur->pStmt);
  pCur->iRow++;
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  pCur->bEof = 1;
  rc = sqlite3_reset(pCur->pStmt);
  if( rc!=SQLITE_OK ){
    return upsertStmtError((UpsertTab*)cur->pVtab, rc);
  }
  return SQLITE_OK;
}

/*
** xFilter.  idxNum is a plan, see the comment above upsertBestIndex().
*/
static int upsertFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum, const char *idxStr,
  int argc, sqlite3_value **argv
){
  UpsertCursor *pCur = (UpsertCursor*)cur;
  UpsertTab *pTab = (UpsertTab*)cur->pVtab;
  sqlite3_stmt *pStmt;
  int rc = SQLITE_OK;
  int i;
  (void)idxStr;
  pStmt = pCur->pStmt ? pCur->pStmt : pTab->apScan[idxNum & 1];
  if( pStmt && upsertExpired(pStmt) ){
    /* DDL on this connection expired it: follow the schema first */
    int bNew = 0;
    upsertRefresh(pTab, &bNew);
  }
  if( pTab->zUnusable ){
    upsertError(pTab, "%s", pTab->zUnusable);
    return SQLITE_ERROR;
  }
  if( idxNum!=UPSERT_PLAN_SCAN ){
    /* See the comment above upsertBestIndex() */
    if( (idxNum>>1)!=(pTab->iGen & 0xffffff) ) argc = 0;
    idxNum = argc ? UPSERT_PLAN_KEY : UPSERT_PLAN_SCAN;
  }
  if( pCur->pStmt
   && (pCur->iPlan!=idxNum || pCur->nRefresh!=pTab->nRefresh) ){
    upsertCursorRelease(pCur);
  }
  if( pCur->pStmt==0 ){
    pCur->iPlan = idxNum;
    pCur->nRefresh = pTab->nRefresh;
    pCur->pStmt = pTab->apScan[idxNum];
    pTab->apScan[idxNum] = 0;
    if( pCur->pStmt==0 ){
      pCur->pStmt = upsertScanStmt(pTab, idxNum, &rc);
      if( rc ) return rc;
    }
  }else{
    sqlite3_reset(pCur->pStmt);
  }
  for(i=0; i<argc; i++){
    sqlite3_bind_value(pCur->pStmt, i+1, argv[i]);
  }
  pCur->bEof = 0;
  pCur->iRow = 0;
  return upsertNext(cur);
}

static int upsertEof(sqlite3_vtab_cursor *cur){
  return ((UpsertCursor*)cur)->bEof;
}

/*
** Return, as the value of the hidden PRIMARY KEY column (see
** upsertRowKeyName()), a blob that tells the current row of pCur from
** every other: the type and bytes of each key column's value, a text
** or blob preceded by its length, so that two rows give the same blob
** only if their keys are the same values.  The key is unique in the
** backing table, except that a UNIQUE key may be NULL in many rows.  A
** row whose key holds a NULL is found by a scan only, never by a key
** lookup, and gets its position in the scan instead: the same in every
** scan a statement makes, so a RIGHT JOIN finds it again.
*/
static int upsertRowKey(UpsertCursor *pCur, sqlite3_context *ctx){
  UpsertTab *pTab = (UpsertTab*)pCur->base.pVtab;
  sqlite3_str *p = sqlite3_str_new(pTab->db);
  unsigned char a[9];
  char *zBlob;
  int bNull = 0;
  int n;
  int k, j;
  for(k=0; k<pTab->nKey; k++){
    sqlite3_value *pVal;
    pVal = sqlite3_column_value(pCur->pStmt, pTab->aiKey[k]+1);
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) bNull = 1;
  }
  if( bNull ){
    /* A NULL in the key: 'P' and the position, as 8 bytes */
    for(j=0; j<8; j++) a[j+1] = (unsigned char)(pCur->iRow >> (56-8*j));
    a[0] = 'P';
    sqlite3_str_append(p, (const char*)a, 9);
  }
  for(k=0; k<pTab->nKey && !bNull; k++){
    sqlite3_value *pVal;
    sqlite3_uint64 u = 0;
    const char *z = 0;
    pVal = sqlite3_column_value(pCur->pStmt, pTab->aiKey[k]+1);
    switch( sqlite3_value_type(pVal) ){
      case SQLITE_INTEGER:
        a[0] = 'I';
        u = (sqlite3_uint64)sqlite3_value_int64(pVal);
        break;
      case SQLITE_FLOAT: {
        double r = sqlite3_value_double(pVal);
        a[0] = 'F';
        memcpy(&u, &r, 8);
        break;
      }
      default:
        /* The bytes as they are, in the database's encoding: blob first,
        ** so that the length is not that of a conversion */
        a[0] = sqlite3_value_type(pVal)==SQLITE_TEXT ? 'T' : 'B';
        z = (const char*)sqlite3_value_blob(pVal);
        u = (sqlite3_uint64)sqlite3_value_bytes(pVal);
        break;
    }
    for(j=0; j<8; j++) a[j+1] = (unsigned char)(u >> (56-8*j));
    sqlite3_str_append(p, (const char*)a, 9);
    if( z ) sqlite3_str_append(p, z, (int)u);
  }
  n = sqlite3_str_length(p);
  if( sqlite3_str_errcode(p) ){
    sqlite3_free(sqlite3_str_finish(p));
    return SQLITE_NOMEM;
  }
  zBlob = sqlite3_str_finish(p);
  sqlite3_result_blob(ctx, zBlob, n, sqlite3_free);
  return SQLITE_OK;
}

static int upsertColumn(
  sqlite3_vtab_cursor *cur,
  sqlite3_context *ctx,
  int i
){
  UpsertCursor *pCur = (UpsertCursor*)cur;
  UpsertTab *pTab = (UpsertTab*)cur->pVtab;
  if( pTab->zRowKey[0] && i==pTab->iRowKey ){
    return upsertRowKey(pCur, ctx);
  }
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i+1));
  return SQLITE_OK;
}

/*
** xRowid: the backing table's rowid.  A table with no rowid to name is
** declared WITHOUT ROWID (see upsertRowKeyName()), and SQLite does not
** ask for it.
*/
static int upsertRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  UpsertCursor *pCur = (UpsertCursor*)cur;
  UpsertTab *pTab = (UpsertTab*)cur->pVtab;
  if( pTab->zRowid ){
    *pRowid = sqlite3_column_int64(pCur->pStmt, 0);
  }else{
    *pRowid = pCur->iRow;
  }
  return SQLITE_OK;
}

/*****************************************************************************
** The runaway guard: a statement that reads the backing table it writes
*/

/*
** Judge one row of the EXPLAIN of a running statement, for
** upsertReadsBacking(): set *pbWriter if it writes into pTab, *pbReads if
** it reads the backing table (an OpenRead of one of the nRoot root pages
** aRoot[] in database iDb, or of any page there if nRoot<0), or another
** upsert_into table over it.
*/
static void upsertExplainRow(
  UpsertTab *pTab,
  sqlite3_stmt *pExplain,
  const int *aRoot, int nRoot,
  int iDb,
  int *pbWriter, int *pbReads
){
  const char *zOp = (const char*)sqlite3_column_text(pExplain, 1);
  const char *zP4 = (const char*)sqlite3_column_text(pExplain, 5);
  if( zOp==0 ) return;
  if( strcmp(zOp, "VUpdate")==0 ){
    if( zP4 && strcmp(zP4, pTab->zPtr)==0 ) *pbWriter = 1;
  }else if( strcmp(zOp, "OpenRead")==0 ){
    if( sqlite3_column_int(pExplain, 4)==iDb ){
      int iRoot = sqlite3_column_int(pExplain, 3);
      int i;
      for(i=0; i<nRoot && aRoot[i]!=iRoot; i++){}
      if( nRoot<0 || i<nRoot ) *pbReads = 1;
    }
  }else if( strcmp(zOp, "VOpen")==0 && zP4 ){
    UpsertTab *pOther;
    for(pOther=pTab->pMod->pList; pOther; pOther=pOther->pNext){
      if( pOther!=pTab && pOther->zUnusable==0
       && strcmp(zP4, pOther->zPtr)==0
       && sqlite3_stricmp(pOther->zDb, pTab->zDb)==0
       && sqlite3_stricmp(pOther->zTab, pTab->zTab)==0 ){
        *pbReads = 1;
      }
    }
  }
}

/*
** Decide whether the statement now writing into pTab also reads the
** backing table, directly or through another upsert_into table over it.
** Such a statement could read the rows it has just written, without
** end.  Sets *pbReads.  Returns SQLITE_OK or an error code, with the
** message in pTab->base.zErrMsg.
**
** The statement is found as the busy one whose program holds OP_VUpdate
** on this table, and its program (re-prepared from its text, with
** EXPLAIN) is searched for an OpenRead of the backing table or of one
** of its indexes, as SQLite's own readsTable() does for native INSERT.
** That over-approximates: a statement that reads the table into a
** sorter or a materialized view first is refused too.  A read-only
** statement writes nothing, so it is not the one.  When a statement
** that may be the one cannot be prepared again, the check cannot
** decide, and fails: running on could be running without end.
*/
static int upsertReadsBacking(UpsertTab *pTab, int *pbReads){
  sqlite3 *db = pTab->db;
  int rc = SQLITE_OK;
  int nRoot = 0;
  int aRoot[64];             /* Root pages of the table and its indexes */
  int bOverflow = 0;         /* Too many indexes for aRoot[] */
  int iDb = -1;              /* Index of pTab->zDb in the EXPLAIN output */
  sqlite3_stmt *pStmt;
  sqlite3_stmt *pExplain = 0;
  char *zDummy = 0;

  *pbReads = 0;
  pStmt = upsertSqlPrepare(&rc, db, &zDummy, UPSERT_SQL_ROOTPAGES, pTab->zDb);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, pTab->zTab, -1, SQLITE_STATIC);
    while( sqlite3_step(pStmt)==SQLITE_ROW ){
      if( nRoot<(int)(sizeof(aRoot)/sizeof(aRoot[0])) ){
        aRoot[nRoot++] = sqlite3_column_int(pStmt, 0);
      }else{
        bOverflow = 1;
      }
    }
    rc = sqlite3_finalize(pStmt);
  }
  /* The index now, not the one at connect time: DETACH renumbers the
  ** databases after the one it detaches, and does not reconnect a TEMP
  ** virtual table over a table in one of them */
  pStmt = upsertSqlPrepare(&rc, db, &zDummy, UPSERT_SQL_DB_SEQ);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, pTab->zDb, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ) iDb = sqlite3_column_int(pStmt, 0);
    rc = sqlite3_finalize(pStmt);
    if( rc==SQLITE_OK && iDb<0 ){
      upsertError(pTab, UPSERT_ERR "no such database '%s'", pTab->zDb);
      rc = SQLITE_ERROR;
      goto reads_out;
    }
  }
  for(pStmt=sqlite3_next_stmt(db, 0);
      rc==SQLITE_OK && pStmt && *pbReads==0;
      pStmt=sqlite3_next_stmt(db, pStmt)){
    int bWriter = 0;
    int bReads = 0;
    const char *zSql;
    if( !sqlite3_stmt_busy(pStmt) || sqlite3_stmt_isexplain(pStmt)
     || sqlite3_stmt_readonly(pStmt) ){
      continue;
    }
    zSql = sqlite3_sql(pStmt);
    if( zSql==0 ){
      rc = SQLITE_NOMEM;
      break;
    }
    pExplain = upsertExplainStmt(db, zSql, &rc);
    if( rc!=SQLITE_OK ) break;
    while( sqlite3_step(pExplain)==SQLITE_ROW ){
      upsertExplainRow(pTab, pExplain, aRoot, bOverflow ? -1 : nRoot, iDb,
                       &bWriter, &bReads);
    }
    rc = sqlite3_finalize(pExplain);
    if( bWriter && bReads ) *pbReads = 1;
  }
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
    upsertError(pTab, UPSERT_ERR "cannot tell whether this statement reads"
        " table \"%s\" while it writes to it, so it does not run: %s",
        pTab->zTab, sqlite3_errmsg(db));
  }
reads_out:
  sqlite3_free(zDummy);
  return rc;
}

/*
** Decide whether the statement writing into pTab may write this row, as
** its second: see the runaway guard above upsertUpdate().  Returns
** SQLITE_OK, or an error code with the table's error set.
*/
static int upsertGuard(UpsertTab *pTab, int iDepth){
  int bReads = 0;
  int rc = upsertReadsBacking(pTab, &bReads);
  if( rc==SQLITE_OK && bReads ){
    upsertError(pTab, UPSERT_ERR "this statement reads table \"%s\" while"
        " it writes to it, and could read its own rows without end:"
        " select from the upsert_into table instead (SQLite then reads"
        " every row first) or copy the rows into a TEMP table first",
        pTab->zTab);
    pTab->anRun[iDepth] = 0;
    rc = SQLITE_ERROR;
  }
  return rc;
}

/*****************************************************************************
** The write path
*/

/*
** Return non-zero, with the error set, if the backing table is a shadow
** table and the connection is in defensive mode, in which SQLite refuses
** to write one (SQLITE_DBCONFIG_DEFENSIVE).  SQLite checks that only when
** it prepares a statement while no other runs, so it never sees the inner
** statements, which are prepared and stepped inside xUpdate: the check is
** made here, for every row, since the mode may change at any time.
*/
static int upsertShadowLocked(UpsertTab *pTab){
  int bOn = 0;
  sqlite3_db_config(pTab->db, SQLITE_DBCONFIG_DEFENSIVE, -1, &bOn);
  if( bOn ){
    /* SQLite's own message for a native write */
    upsertError(pTab, "table %s may not be modified", pTab->zTab);
  }
  return bOn;
}

/*
** Set *pbHolds if pStmt, an inner statement of pTab, writes or reads an
** upsert_into table (this one or another), in a trigger on the backing
** table.  Such a statement holds that table (SQLite locks every virtual
** table a statement uses) and must not stay cached: a table is
** disconnected only once no statement holds it, and it finalizes its
** cached statements only when it is disconnected, so a cached statement
** holding its own table, or tables holding each other so, would never be
** finalized, and the connection could not be closed.  Returns SQLITE_OK
** or an error code.
*/
static int upsertHoldsUpsert(UpsertTab *pTab, sqlite3_stmt *pStmt,
                             int *pbHolds){
  int rc = SQLITE_OK;
  const char *zSql = sqlite3_sql(pStmt);
  sqlite3_stmt *pExplain;
  *pbHolds = 0;
  if( zSql==0 ) return SQLITE_NOMEM;
  pExplain = upsertExplainStmt(pTab->db, zSql, &rc);
  while( rc==SQLITE_OK && !*pbHolds && sqlite3_step(pExplain)==SQLITE_ROW ){
    const char *zP4 = (const char*)sqlite3_column_text(pExplain, 5);
    UpsertTab *p;
    if( zP4==0 || strncmp(zP4, "vtab:", 5)!=0 ) continue;
    for(p=pTab->pMod->pList; p && strcmp(zP4, p->zPtr); p=p->pNext){}
    if( p || strcmp(zP4, pTab->zPtr)==0 ) *pbHolds = 1;
  }
  if( pExplain ){
    int rc2 = sqlite3_finalize(pExplain);
    if( rc==SQLITE_OK ) rc = rc2;
  }
  return rc;
}

/*
** Return the cached write statement of kind eKind for the NULL pattern
** aNull (NULL without nulls=keep), preparing it if it is not cached.
** Returns NULL with *pRc set on error.
*/
static UpsertWrite *upsertWriteFind(
  UpsertTab *pTab,
  int eKind,
  const unsigned char *aNull,
  int *pRc
){
  UpsertWrite *pW;
  int bNew = 0;
  int bHolds = 0;
  int i;
  for(i=0; i<pTab->nWrite; i++){
    pW = &pTab->aWrite[i];
    if( pW->eKind==eKind
     && (aNull==0 || memcmp(pW->aNull, aNull, pTab->nCol)==0) ){
      return pW;
    }
  }
  /* A statement is built from what was derived from the schema, so that
  ** must be up to date */
  *pRc = upsertRefresh(pTab, &bNew);
  if( *pRc ) return 0;
  if( pTab->nWrite<UPSERT_N_WRITE ){
    pW = &pTab->aWrite[pTab->nWrite];
  }else{
    pW = &pTab->aWrite[pTab->iEvict];
    pTab->iEvict = (pTab->iEvict+1) % UPSERT_N_WRITE;
    sqlite3_finalize(pW->pStmt);
    sqlite3_free(pW->aNull);
    memset(pW, 0, sizeof(*pW));
  }
  if( aNull ){
    pW->aNull = sqlite3_malloc64(pTab->nCol);
    if( pW->aNull==0 ){ *pRc = SQLITE_NOMEM; return 0; }
    memcpy(pW->aNull, aNull, pTab->nCol);
  }
  pW->eKind = eKind;
  pW->pStmt = upsertWriteStmt(pTab, eKind, aNull, pRc, &pTab->base.zErrMsg);
  if( pW->pStmt && (*pRc = upsertHoldsUpsert(pTab, pW->pStmt, &bHolds))==0
   && bHolds ){
    /* Not cached: see bNoCache */
    pTab->bNoCache = 1;
    sqlite3_finalize(pW->pStmt);
    pW->pStmt = 0;
  }
  if( pW->pStmt==0 ){
    sqlite3_free(pW->aNull);
    pW->aNull = 0;
    return 0;
  }
  if( pTab->nWrite<UPSERT_N_WRITE ) pTab->nWrite++;
  return pW;
}

/*
** upsert_into_count(P): P is the pointer to an UpsertTab bound to the
** inner statement.  Marks the row being written as updated and returns
** true.  P an integer, as in the text of upsert_into_sql(): adds one to
** the connection's count of updated rows, which upsert_into_count() with
** no argument returns (upsertCountedFunc()).
** Any other argument returns true and does nothing.
*/
static void upsertCountFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  UpsertTab *pTab = sqlite3_value_pointer(argv[0], "upsert_into");
  (void)argc;
  if( pTab ){
    pTab->bUpdated = 1;
  }else if( sqlite3_value_type(argv[0])==SQLITE_INTEGER ){
    ((UpsertModule*)sqlite3_user_data(ctx))->nCounted++;
  }
  sqlite3_result_int(ctx, 1);
}

/*
** upsert_into_count(): how many rows upsert_into_count(N), N an integer,
** counted on this connection since the extension was loaded.
*/
static void upsertCountedFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  UpsertModule *pMod = (UpsertModule*)sqlite3_user_data(ctx);
  sqlite3_result_int64(ctx, pMod->nCounted);
}

/*
** Bind value pVal to parameter i of pStmt without copying it: the value
** outlives the step that uses it, so no allocation is made per row.
** eEnc is the database's text encoding, that of every text value here.
*/
static void upsertBind(
  sqlite3_stmt *pStmt,
  int i,
  sqlite3_value *pVal,
  int eEnc
){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
      sqlite3_bind_int64(pStmt, i, sqlite3_value_int64(pVal));
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double(pStmt, i, sqlite3_value_double(pVal));
      break;
    case SQLITE_TEXT: {
      /* The value is in the database's encoding: bind its bytes as they
      ** are, in that encoding.  sqlite3_value_text() would copy a value
      ** that points into a page, to give it a terminator, and in a UTF-16
      ** database convert it to UTF-8 and back, which is not lossless */
      const char *z = (const char*)sqlite3_value_blob(pVal);
      sqlite3_bind_text64(pStmt, i, z ? z : "",
                          (sqlite3_uint64)sqlite3_value_bytes(pVal),
                          SQLITE_STATIC, (unsigned char)eEnc);
      break;
    }
    case SQLITE_BLOB: {
      const void *z = sqlite3_value_blob(pVal);
      int n = sqlite3_value_bytes(pVal);
      if( z ){
        sqlite3_bind_blob(pStmt, i, z, n, SQLITE_STATIC);
      }else{
        sqlite3_bind_zeroblob(pStmt, i, 0);
      }
      break;
    }
    default:
      sqlite3_bind_null(pStmt, i);
      break;
  }
}

/*
** The inner statement of pTab failed with rc, the extended code eErr;
** its message is the table's error.  Return the code that makes the
** outer statement (the INSERT into the virtual table) act on the error as
** a native INSERT of kind eKind would.
**
** SQLite acts on an error a virtual table returns by its code alone: a
** constraint code takes the action of the outer statement's conflict
** mode (SQLITE_VTAB_CONSTRAINT_SUPPORT), any other code aborts the
** statement.  Natively, some constraint errors carry an action of their
** own whatever the mode: a failure inside DO UPDATE, a STRICT type error
** and an immediate foreign key checked at the end of the statement
** abort it; a trigger's RAISE(ABORT) aborts and its RAISE(FAIL) fails;
** nothing of these is ignored by OR IGNORE (which ignores every error
** that can be ignored inside the inner INSERT OR IGNORE itself).  For
** these the code is SQLITE_ERROR, with SQLite's own message.  A
** RAISE(ROLLBACK), and an OR ROLLBACK conflict, roll the transaction back
** inside the inner statement, or through the outer statement's mode.
**
** bAborted is true if the inner statement rolled back its own statement
** journal, as RAISE(ABORT) does and RAISE(FAIL) does not, and bGone if
** it rolled back the transaction.  What cannot
** be had: FAIL where the outer mode is not FAIL (a RAISE(FAIL) under a
** plain INSERT aborts the statement), and a constraint code with an
** action other than the mode's.
*/
static int upsertFailAction(
  UpsertTab *pTab,
  int eKind,
  int rc,
  int eErr,
  int bAborted,
  int bGone
){
  int bAbort = 0;
  if( (rc&0xff)!=SQLITE_CONSTRAINT ) return rc;
  /* The transaction is gone: every code fails the statement */
  if( bGone && (eKind & UPSERT_W_MODE)!=UPSERT_W_IGNORE ) return rc;
  switch( eKind & UPSERT_W_MODE ){
    case UPSERT_W_IGNORE:
      bAbort = 1;
      break;
    case UPSERT_W_FAIL:
      bAbort = eErr==SQLITE_CONSTRAINT_DATATYPE
            || eErr==SQLITE_CONSTRAINT_FOREIGNKEY
            || (eErr==SQLITE_CONSTRAINT_TRIGGER ? bAborted : pTab->bUpdated);
      break;
    case UPSERT_W_ROLLBACK:
      bAbort = eErr==SQLITE_CONSTRAINT_DATATYPE
            || eErr==SQLITE_CONSTRAINT_FOREIGNKEY
            || eErr==SQLITE_CONSTRAINT_TRIGGER
            || pTab->bUpdated;
      break;
  }
  if( bAbort ) pTab->pMod->bNativeMsg = 1;
  return bAbort ? SQLITE_ERROR : rc;
}

/*
** The inner statement of pTab just failed with the extended code eErr.
** If that is an immediate foreign key,
** which a native statement checks only when it ends: a multi-row INSERT
** may insert a child before its parent.  The inner statement checks at
** its own end, after each row.  In autocommit mode the outer statement
** ends by committing, and a commit checks the deferred foreign keys: so
** defer the immediate ones (PRAGMA defer_foreign_keys, which the commit
** or rollback that ends the statement switches off again) and return
** true, for the row to be written again.  In a transaction no callback
** comes when the outer statement ends, so the check stays per row (see
** README, Limitations), and this returns false.
*/
static int upsertDeferForeignKeys(UpsertTab *pTab, int eErr){
  sqlite3 *db = pTab->db;
  if( eErr!=SQLITE_CONSTRAINT_FOREIGNKEY || !sqlite3_get_autocommit(db) ){
    return 0;
  }
  return sqlite3_exec(db, azUpsertSql[UPSERT_SQL_DEFER_FK], 0, 0, 0)==0;
}

/*
** Step pStmt, an inner statement of pTab (a write statement that SQLite
** re-prepared nPrep times, or the opener) once.  Returns its result, with
** *pbAborted set if
** it rolled back its own statement journal (see upsertFailAction()).
*/
static int upsertStep(
  UpsertTab *pTab,
  sqlite3_stmt *pStmt,
  int nPrep,
  int *pbAborted
){
  UpsertModule *pMod = pTab->pMod;
  int iDepth = ++pMod->nDepth;
  int rc;
  pMod->iAbort = 0;
  pMod->bNativeMsg = 0;
  pTab->nInner++;
  pTab->pStep = pStmt;
  pTab->nStepPrep = nPrep;
  pTab->bStale = 0;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  pTab->pStep = 0;
  pTab->nInner--;
  pMod->nDepth--;
  *pbAborted = pMod->iAbort==iDepth;
  return rc;
}

/*
** The NULL pattern of the row argv[] under nulls=keep, in pTab->aNull
** (which a write nested in the row also uses: so it is made again for
** each try of the row), or NULL.
*/
static const unsigned char *upsertNullPattern(
  UpsertTab *pTab,
  sqlite3_value **argv
){
  int i;
  if( !pTab->bNullsKeep ) return 0;
  for(i=0; i<pTab->nCol; i++){
    pTab->aNull[i] = (pTab->aFlag[i] & UPSERT_F_KEY)==0
                  && sqlite3_value_type(argv[i+2])==SQLITE_NULL;
  }
  return pTab->aNull;
}

/*
** pStmt, a cached inner statement of pTab, was prepared again, after a
** schema change such as a trigger created on the backing table: if it
** now holds an upsert_into table, no statement is cached any more (see
** upsertHoldsUpsert()).  Called where no statement of pTab runs.
*/
static void upsertRecheckHolds(UpsertTab *pTab, sqlite3_stmt *pStmt){
  int bHolds = 0;
  if( upsertHoldsUpsert(pTab, pStmt, &bHolds)==SQLITE_OK && bHolds ){
    pTab->bNoCache = 1;
    upsertClearWrites(pTab);
    sqlite3_finalize(pTab->pOpener);
    pTab->pOpener = 0;
  }
}

/*
** The inner write statement of kind eKind for the NULL pattern aNull:
** the cached one, returned in *ppW too; or, if bOwn or bNoCache (see
** upsertWriteRow() and upsertHoldsUpsert()), with *ppW NULL, one
** prepared for this row alone, which the caller finalizes.  Returns NULL
** with *pRc set on error.
*/
static sqlite3_stmt *upsertWriteGet(
  UpsertTab *pTab,
  int eKind,
  const unsigned char *aNull,
  int bOwn,
  UpsertWrite **ppW,
  int *pRc
){
  UpsertWrite *pW = 0;
  *ppW = 0;
  if( bOwn || pTab->bNoCache ){
    /* A statement of its own */
  }else if( aNull==0 && pTab->nWrite>0 && pTab->aWrite[0].eKind==eKind ){
    pW = &pTab->aWrite[0];   /* The common case, without a call */
  }else{
    pW = upsertWriteFind(pTab, eKind, aNull, pRc);
  }
  if( pW==0 ){
    /* Not cached, or not to be (upsertWriteFind() may set bNoCache) */
    if( *pRc ) return 0;
    return upsertWriteStmt(pTab, eKind, aNull, pRc, &pTab->base.zErrMsg);
  }
  if( pW && upsertExpired(pW->pStmt) ){
    /* DDL on this connection expired it: follow the schema first */
    int bNew = 0;
    upsertRefresh(pTab, &bNew);
    if( pTab->zUnusable ){
      *pRc = SQLITE_ERROR;
      return 0;
    }
    if( bNew ){
      pW = upsertWriteFind(pTab, eKind, aNull, pRc);
      if( pW==0 ){
        if( *pRc ) return 0;
        return upsertWriteStmt(pTab, eKind, aNull, pRc, &pTab->base.zErrMsg);
      }
    }
  }
  *ppW = pW;
  return pW->pStmt;
}

/*
** Count the row pTab just wrote, of kind eKind, as inserted, updated or
** skipped; nChange is sqlite3_changes64() after it.  Returns SQLITE_OK,
** or SQLITE_CONSTRAINT for a row that OR IGNORE ignored: SQLite takes that
** as "row ignored" and leaves it out of changes(), as a native statement
** does (SQLITE_VTAB_CONSTRAINT_SUPPORT).
*/
static int upsertCountRow(
  UpsertTab *pTab,
  int eKind,
  sqlite3_int64 nChange
){
  sqlite3_int64 *a = pTab->pStats->a;
  if( nChange==0 ){
    a[UPSERT_N_SKIPPED]++;
    if( (eKind & UPSERT_W_MODE)==UPSERT_W_IGNORE ) return SQLITE_CONSTRAINT;
  }else{
    a[pTab->bUpdated ? UPSERT_N_UPDATED : UPSERT_N_INSERTED]++;
  }
  return SQLITE_OK;
}

/*
** Write one row, argv[] as xUpdate has it, with an inner statement of
** kind eKind for the NULL pattern aNull, and count it.  Returns
** SQLITE_OK, or SQLITE_CONSTRAINT for a row OR IGNORE ignored, or an
** error code (see upsertFailAction()).
**
** Re-entry: a trigger fired by the inner statement may write into this
** table again, while its statement is running.  That write gets a
** statement of its own, prepared for it and finalized after it; the
** cached ones serve only the outermost.  Every inner statement running
** counts in pMod->nDepth, which SQLITE_LIMIT_TRIGGER_DEPTH bounds, as
** SQLite bounds native trigger recursion: SQLite cannot see the
** recursion through the inner statements.
**
** The row is written a second time, after its first try failed and was
** taken back, in two cases: SQLite re-prepared the statement, after a
** schema change, and the state derived from the schema changed with it
** (upsertRefresh()); or an immediate foreign key failed in autocommit
** mode (upsertDeferForeignKeys()).
*/
static int upsertWriteRow(
  UpsertTab *pTab,
  int eKind,
  sqlite3_value **argv,
  sqlite_int64 *pRowid
){
  sqlite3 *db = pTab->db;
  UpsertModule *pMod = pTab->pMod;
  UpsertStats *pStats = pTab->pStats;
  int bOwn = pTab->nInner>0;      /* Re-entered: a statement of its own */
  int bUpdated = pTab->bUpdated;  /* That of the write this one is inside */
  int nRollback = pMod->nRollback;
  int bAborted = 0;
  int eErr = SQLITE_OK;
  sqlite3_int64 nChange = 0;
  int nTry;
  sqlite3_int64 a[3];
  int rc = SQLITE_OK;
  int i;

  memcpy(a, pStats->a, sizeof(a));
  for(nTry=0; nTry<3; nTry++){
    UpsertWrite *pW = 0;
    sqlite3_stmt *pStmt;
    int nPrep;
    rc = SQLITE_OK;
    pStmt = upsertWriteGet(pTab, eKind, upsertNullPattern(pTab, argv), bOwn,
                           &pW, &rc);
    if( pStmt==0 ) return rc;
    nPrep = pW ? pW->nPrep : 0;
    for(i=0; i<pTab->nCol; i++){
      upsertBind(pStmt, i+1, argv[i+2], pTab->eEnc);
    }
    if( eKind & UPSERT_W_ROWID ){
      /* Not upsertBind(): its one call, in the loop above, is inlined */
      sqlite3_bind_value(pStmt, pTab->nCol+2, argv[1]);
    }
    pTab->bUpdated = 0;
    rc = upsertStep(pTab, pStmt, nPrep, &bAborted);
    nChange = sqlite3_changes64(db);   /* Before another statement runs */
    if( rc!=SQLITE_OK ){
      /* Before another statement runs and resets them.  The extended
      ** code is returned, for a write this one is nested in to see it */
      eErr = sqlite3_extended_errcode(db);
      rc = upsertStmtError(pTab, (rc&0xff)==(eErr&0xff) ? eErr : rc);
    }
    if( pW==0 ){
      sqlite3_finalize(pStmt);
    }else if( nPrep!=(i = sqlite3_stmt_status(pStmt,
                                              SQLITE_STMTSTATUS_REPREPARE, 0))
    ){
      /* Re-prepared after a schema change: follow the change, and write
      ** the row again if it failed on what changed */
      int bNew = 0;
      int bStale = pTab->bStale;
      pW->nPrep = i;
      if( upsertRefresh(pTab, &bNew)==SQLITE_OK && !bNew ){
        upsertRecheckHolds(pTab, pStmt);
      }
      if( rc!=SQLITE_OK && (bNew || bStale) ){
        memcpy(pStats->a, a, sizeof(a));
        if( pTab->zUnusable ){
          /* The columns changed: the row is not written again with the
          ** statement of the old ones */
          upsertError(pTab, "%s", pTab->zUnusable);
          return SQLITE_ERROR;
        }
        continue;
      }
    }
    if( rc==SQLITE_OK || !upsertDeferForeignKeys(pTab, eErr) ){
      break;
    }
    memcpy(pStats->a, a, sizeof(a));
  }
  if( rc!=SQLITE_OK ){
    int bGone = pMod->nRollback!=nRollback;
    rc = upsertFailAction(pTab, eKind, rc, eErr, bAborted, bGone);
    /* Rows that writes inside this one counted are taken back with it,
    ** unless the transaction went, and xRollback set the counts */
    if( !bGone ) memcpy(pStats->a, a, sizeof(a));
  }else{
    rc = upsertCountRow(pTab, eKind, nChange);
  }
  pTab->bUpdated = bUpdated;
  if( rc==SQLITE_OK ) *pRowid = sqlite3_last_insert_rowid(db);
  return rc;
}

/*
** Run the opener of pTab if one is due: see upsertOpenerStmt().
*/
static int upsertRunOpener(UpsertTab *pTab){
  int rc = SQLITE_OK;
  int bAborted;
  int bHolds = 0;
  if( pTab->pOpener==0 ){
    pTab->pOpener = upsertOpenerStmt(pTab, &rc);
    if( rc==SQLITE_OK ) rc = upsertHoldsUpsert(pTab, pTab->pOpener, &bHolds);
    if( rc ) return rc;
  }
  rc = upsertStep(pTab, pTab->pOpener, 0, &bAborted);
  if( !bHolds && sqlite3_stmt_status(pTab->pOpener,
                                     SQLITE_STMTSTATUS_REPREPARE, 1) ){
    /* Prepared again since it was built: an UPDATE trigger may have come */
    bHolds = upsertHoldsUpsert(pTab, pTab->pOpener, &bHolds)==SQLITE_OK
          && bHolds;
  }
  if( bHolds ){
    /* Its UPDATE triggers write an upsert_into table: not cached */
    sqlite3_finalize(pTab->pOpener);
    pTab->pOpener = 0;
  }
  if( rc!=SQLITE_OK ) return upsertStmtError(pTab, rc);
  pTab->bOpenerDue = 0;
  return SQLITE_OK;
}

/*
** The most inner statements that may run one inside another: see
** UPSERT_MAX_DEPTH.
*/
static int upsertMaxDepth(sqlite3 *db){
  int n = sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, -1);
  return n<UPSERT_MAX_DEPTH ? n : UPSERT_MAX_DEPTH;
}

/*
** xUpdate.  Only INSERT is allowed: each row is written to the backing
** table by an inner statement before this returns, and counted as
** inserted, updated or skipped (upsertWriteRow()).
**
** Runaway guard: a multi-row statement that reads the backing table
** could read its own writes and never end.  Rows of one statement are
** counted in nRun (reset at every transaction or savepoint boundary and
** whenever another statement completed in between, which
** sqlite3_total_changes64() tells); at the second row of a statement,
** upsertGuard() decides whether it may go on.  Single-row statements
** pay nothing for this.
*/
static int upsertUpdate(
  sqlite3_vtab *pVtab,
  int argc, sqlite3_value **argv,
  sqlite_int64 *pRowid
){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  sqlite3 *db = pTab->db;
  int iDepth = pTab->pMod->nDepth;  /* Inner statements running below */
  int eKind;
  int rc;

  if( argc==1 || sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    upsertError(pTab, UPSERT_ERR "cannot %s rows of an upsert_into table:"
        " %s table \"%s\" itself", argc==1 ? "DELETE" : "UPDATE",
        argc==1 ? "DELETE from" : "UPDATE", pTab->zTab);
    return SQLITE_ERROR;
  }
  if( pTab->zUnusable ){
    upsertError(pTab, "%s", pTab->zUnusable);
    return SQLITE_ERROR;
  }
  if( pTab->bShadow && upsertShadowLocked(pTab) ) return SQLITE_ERROR;

  if( iDepth>0 && iDepth>=upsertMaxDepth(db) ){
    upsertError(pTab, UPSERT_ERR "too many levels of trigger recursion");
    return SQLITE_ERROR;
  }
  if( pTab->anRun[iDepth]>0
   && sqlite3_total_changes64(db)!=pTab->anMark[iDepth] ){
    pTab->anRun[iDepth] = 0;
  }
  if( ++pTab->anRun[iDepth]==2 && (rc = upsertGuard(pTab, iDepth)) ){
    return rc;
  }

  switch( sqlite3_vtab_on_conflict(db) ){
    case SQLITE_IGNORE:   eKind = UPSERT_W_IGNORE;   break;
    case SQLITE_REPLACE:  eKind = UPSERT_W_REPLACE;  break;
    case SQLITE_FAIL:     eKind = UPSERT_W_FAIL;     break;
    case SQLITE_ROLLBACK: eKind = UPSERT_W_ROLLBACK; break;
    default:              eKind = UPSERT_W_UPSERT;   break;
  }
  if( sqlite3_value_type(argv[1])!=SQLITE_NULL && pTab->zRowKey[0]==0 ){
    /* INSERT INTO up(rowid, ...): the backing table's rowid.  (Declared
    ** WITHOUT ROWID, the virtual table has none, and argv[1] is the value
    ** given for its hidden key, which is not written.) */
    if( pTab->zRowid==0 ){
      upsertError(pTab, UPSERT_ERR "table \"%s\" has no rowid that can be"
          " set: %s", pTab->zTab, pTab->bRowid ?
          "rowid, _rowid_ and oid are all names of its columns" :
          "it is a WITHOUT ROWID table");
      return SQLITE_ERROR;
    }
    eKind |= UPSERT_W_ROWID;
  }
  if( pTab->bOpenerDue && (rc = upsertRunOpener(pTab))!=SQLITE_OK ) return rc;
  /* Held, so that a trigger cannot drop the table under its write: the
  ** DROP fails with "database table is locked", as natively */
  pTab->base.nRef++;
  rc = upsertWriteRow(pTab, eKind, argv, pRowid);
  pTab->base.nRef--;
  if( rc==SQLITE_OK || rc==SQLITE_CONSTRAINT ){
    pTab->anMark[iDepth] = sqlite3_total_changes64(db);
  }
  return rc;
}

/*****************************************************************************
** Transactions and counts
*/

/*
** Return the counts of virtual table zSchema.zName, creating them if
** bCreate and they do not exist yet.  NULL if not found or no memory.
*/
static UpsertStats *upsertStatsFind(
  UpsertModule *pMod,
  const char *zSchema,
  const char *zName,
  int bCreate
){
  UpsertStats *p;
  UpsertStats *pBest = 0;
  int iBest = 3;
  for(p=pMod->pStats; p; p=p->pNext){
    int iRank;
    if( sqlite3_stricmp(p->zName, zName) ) continue;
    if( zSchema ){
      if( sqlite3_stricmp(p->zSchema, zSchema)==0 ) return p;
      continue;
    }
    /* Unqualified: temp, then main, then any other */
    iRank = sqlite3_stricmp(p->zSchema, "temp")==0 ? 0 :
            sqlite3_stricmp(p->zSchema, "main")==0 ? 1 : 2;
    if( iRank<iBest ){ pBest = p; iBest = iRank; }
  }
  if( pBest || !bCreate ) return pBest;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->iNoSnap = -1;
  p->zSchema = sqlite3_mprintf("%s", zSchema);
  p->zName = sqlite3_mprintf("%s", zName);
  if( p->zSchema==0 || p->zName==0 ){
    sqlite3_free(p->zSchema);
    sqlite3_free(p->zName);
    sqlite3_free(p);
    return 0;
  }
  p->pNext = pMod->pStats;
  pMod->pStats = p;
  return p;
}

static void upsertStatsFree(UpsertStats *p){
  upsertFreeList(p->azFrom, p->nFrom);
  sqlite3_free(p->zSchema);
  sqlite3_free(p->zName);
  sqlite3_free(p->aSnap);
  sqlite3_free(p);
}

/*
** Return the counts for virtual table zSchema.zName, which is being
** connected (or created, if bCreate), creating them if there are none.
** NULL if out of memory.
**
** Counts follow a rename (see upsertRename()), and a rename can be taken
** back by a ROLLBACK, which tells no method of the renamed table, or fail
** after xRename: the table then connects again under a name it had.  So
** counts that once had that name, and whose current name is no table of
** the schema, are its counts, and take the name back.
*/
static UpsertStats *upsertStatsAttach(
  sqlite3 *db,
  UpsertModule *pMod,
  const char *zSchema,
  const char *zName,
  int bCreate
){
  UpsertStats *p = upsertStatsFind(pMod, zSchema, zName, 0);
  if( p || bCreate ) return p ? p : upsertStatsFind(pMod, zSchema, zName, 1);
  for(p=pMod->pStats; p; p=p->pNext){
    sqlite3_stmt *pStmt;
    char *zDummy = 0;
    int rc = SQLITE_OK;
    int bGone = 0;
    int i;
    if( sqlite3_stricmp(p->zSchema, zSchema) ) continue;
    for(i=0; i<p->nFrom && sqlite3_stricmp(p->azFrom[i], zName); i++){}
    if( i==p->nFrom ) continue;
    pStmt = upsertSqlPrepare(&rc, db, &zDummy, UPSERT_SQL_TABLE_EXISTS,
                             zSchema);
    if( pStmt ){
      sqlite3_bind_text(pStmt, 1, p->zName, -1, SQLITE_STATIC);
      bGone = sqlite3_step(pStmt)==SQLITE_DONE;
      sqlite3_finalize(pStmt);
    }
    sqlite3_free(zDummy);
    if( bGone ){
      /* Back to azFrom[i]; the renames after it are undone too */
      sqlite3_free(p->zName);
      p->zName = p->azFrom[i];
      while( p->nFrom>i+1 ) sqlite3_free(p->azFrom[--p->nFrom]);
      p->nFrom = i;
      return p;
    }
  }
  return upsertStatsFind(pMod, zSchema, zName, 1);
}

/*
** Unlink the counts p from pMod, if they are linked, and free them.
*/
static void upsertStatsDrop(UpsertModule *pMod, UpsertStats *p){
  UpsertStats **pp;
  for(pp=&pMod->pStats; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){
      *pp = p->pNext;
      break;
    }
  }
  upsertStatsFree(p);
}

/* True if a connected table other than pTab uses the counts of pTab */
static int upsertStatsShared(UpsertTab *pTab){
  UpsertTab *pOther;
  for(pOther=pTab->pMod->pList; pOther; pOther=pOther->pNext){
    if( pOther!=pTab && pOther->pStats==pTab->pStats ) return 1;
  }
  return 0;
}

/*
** Transaction and savepoint boundaries.  Each ends the current
** statement's run of rows, and keeps the counts in step with what is
** committed and rolled back.  Those of the inner statement itself are
** ignored: its rows are counted only once it has succeeded.
*/
static void upsertSnapClear(UpsertStats *p, int iFrom){
  int i;
  for(i=iFrom<0 ? 0 : iFrom; i<p->nSnap; i++) p->aSnap[i].bValid = 0;
}

static int upsertBegin(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  pTab->anRun[0] = 0;
  if( pTab->pStats->bTxn ) return SQLITE_OK;  /* Shared: see UpsertStats */
  pTab->pStats->bTxn = 1;
  memcpy(pTab->pStats->aTxn, pTab->pStats->a, sizeof(pTab->pStats->a));
  upsertSnapClear(pTab->pStats, 0);
  return SQLITE_OK;
}

static int upsertSync(sqlite3_vtab *pVtab){
  ((UpsertTab*)pVtab)->anRun[0] = 0;
  return SQLITE_OK;
}

static int upsertCommit(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  pTab->anRun[0] = 0;
  pTab->pStats->bTxn = 0;
  upsertSnapClear(pTab->pStats, 0);
  return SQLITE_OK;
}

static int upsertRollback(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  pTab->pMod->nRollback++;
  pTab->anRun[0] = 0;
  pTab->pStats->bTxn = 0;
  memcpy(pTab->pStats->a, pTab->pStats->aTxn, sizeof(pTab->pStats->a));
  upsertSnapClear(pTab->pStats, 0);
  return SQLITE_OK;
}

static int upsertSavepoint(sqlite3_vtab *pVtab, int iSavepoint){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  UpsertStats *p = pTab->pStats;
  if( pTab->nInner || iSavepoint<0 ) return SQLITE_OK;
  pTab->anRun[0] = 0;
  pTab->bOpenerDue = 1;
  if( iSavepoint<p->nSnap && p->aSnap[iSavepoint].bValid ){
    /* Taken already, by a table that shares the counts */
    return SQLITE_OK;
  }
  if( iSavepoint>=p->nSnap ){
    int nNew = iSavepoint+8;
    struct UpsertSnap *aNew;
    aNew = sqlite3_realloc64(p->aSnap, nNew*sizeof(p->aSnap[0]));
    if( aNew==0 ){
      /* SQLite rolls back to this level next: nothing to take back */
      p->iNoSnap = iSavepoint;
      return SQLITE_NOMEM;
    }
    memset(&aNew[p->nSnap], 0, (nNew-p->nSnap)*sizeof(p->aSnap[0]));
    p->aSnap = aNew;
    p->nSnap = nNew;
  }
  upsertSnapClear(p, iSavepoint);
  p->iNoSnap = -1;
  p->aSnap[iSavepoint].bValid = 1;
  memcpy(p->aSnap[iSavepoint].a, p->a, sizeof(p->a));
  return SQLITE_OK;
}

static int upsertRelease(sqlite3_vtab *pVtab, int iSavepoint){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  if( pTab->nInner ) return SQLITE_OK;
  pTab->anRun[0] = 0;
  upsertSnapClear(pTab->pStats, iSavepoint);
  return SQLITE_OK;
}

static int upsertRollbackTo(sqlite3_vtab *pVtab, int iSavepoint){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  UpsertStats *p = pTab->pStats;
  /* An inner statement that rolls back its own journal: see
  ** upsertFailAction() */
  if( pTab->pMod->nDepth ) pTab->pMod->iAbort = pTab->pMod->nDepth;
  if( pTab->nInner ) return SQLITE_OK;
  pTab->anRun[0] = 0;
  /* SQLite passes -1 for the outermost level */
  if( iSavepoint>=0 && iSavepoint<p->nSnap && p->aSnap[iSavepoint].bValid ){
    memcpy(p->a, p->aSnap[iSavepoint].a, sizeof(p->a));
  }else if( iSavepoint>=0 && iSavepoint==p->iNoSnap ){
    /* xSavepoint failed for want of memory; nothing was counted since */
  }else{
    /* The table joined the transaction after that savepoint opened */
    memcpy(p->a, p->aTxn, sizeof(p->a));
  }
  upsertSnapClear(p, iSavepoint+1);
  return SQLITE_OK;
}

/*
** xRename: ALTER TABLE ... RENAME TO zNew.  The counts go with the table
** and the old name is kept, so that a rename that is rolled back can
** give them back to it (see upsertStatsAttach()).  The backing table and
** the inner statements, which never name the virtual table, stay.
*/
static int upsertRename(sqlite3_vtab *pVtab, const char *zNew){
  UpsertStats *p = ((UpsertTab*)pVtab)->pStats;
  char *zName = sqlite3_mprintf("%s", zNew);
  char **az = 0;
  if( zName ){
    az = sqlite3_realloc64(p->azFrom, sizeof(char*)*(p->nFrom+1));
  }
  if( az==0 ){
    sqlite3_free(zName);
    return SQLITE_NOMEM;
  }
  p->azFrom = az;
  p->azFrom[p->nFrom++] = p->zName;
  p->zName = zName;
  return SQLITE_OK;
}

/*
** upsert_into_stats(NAME [, 'reset']): the counts of upsert_into table
** NAME ("name" or "schema.name") on this connection, as JSON text
** {"inserted":N,"updated":M,"skipped":K}.  With 'reset', returns them
** and then sets them to zero.
*/
static void upsertStatsFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  UpsertModule *pMod = (UpsertModule*)sqlite3_user_data(ctx);
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zArg = (const char*)sqlite3_value_text(argv[0]);
  char *zA = 0, *zB = 0;
  UpsertStats *p = 0;
  int rc = SQLITE_OK;
  int bReset = 0;

  if( argc==2 ){
    const char *zAct = (const char*)sqlite3_value_text(argv[1]);
    if( zAct==0 || sqlite3_stricmp(zAct, "reset")!=0 ){
      char *zMsg = sqlite3_mprintf(UPSERT_ERR "unknown action '%s':"
          " the only one is 'reset'", zAct ? zAct : "NULL");
      sqlite3_result_error(ctx, zMsg, -1);
      sqlite3_free(zMsg);
      return;
    }
    bReset = 1;
  }
  if( zArg ) rc = upsertSplitName(zArg, &zA, &zB);
  if( rc==SQLITE_OK && zA ){
    const char *zSchema = zB ? zA : 0;
    const char *zName = zB ? zB : zA;
    p = upsertStatsFind(pMod, zSchema, zName, 0);
    if( p==0 || p->nFrom>0 ){
      /* Connect the table: a persistent table not used yet on this
      ** connection, or one whose counts were renamed on this connection.
      ** Those answer only while a table of their name exists, for the
      ** rename may have been rolled back since (upsertStatsAttach() gives
      ** them back when the table connects under its old name) */
      sqlite3_stmt *pStmt = 0;
      int rc2 = SQLITE_NOMEM;
      char *zSql = zSchema ?
        sqlite3_mprintf(azUpsertSql[UPSERT_SQL_TOUCH], zSchema, zName) :
        sqlite3_mprintf(azUpsertSql[UPSERT_SQL_TOUCH_TEMP], zName);
      if( zSql ) rc2 = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
      if( rc2==SQLITE_NOMEM ) rc = SQLITE_NOMEM;
      sqlite3_finalize(pStmt);
      sqlite3_free(zSql);
      p = upsertStatsFind(pMod, zSchema, zName, 0);
      if( p && p->nFrom>0 && rc2!=SQLITE_OK ) p = 0;
    }
  }
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( p==0 ){
    char *zMsg = sqlite3_mprintf(UPSERT_ERR "no upsert_into table '%s'",
                                 zArg ? zArg : "NULL");
    sqlite3_result_error(ctx, zMsg, -1);
    sqlite3_free(zMsg);
  }else{
    char *zJson = sqlite3_mprintf(
          "{\"inserted\":%lld,\"updated\":%lld,\"skipped\":%lld}",
          p->a[UPSERT_N_INSERTED], p->a[UPSERT_N_UPDATED],
          p->a[UPSERT_N_SKIPPED]);
    if( zJson==0 ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
      if( bReset ){
        memset(p->a, 0, sizeof(p->a));
        memset(p->aTxn, 0, sizeof(p->aTxn));
        upsertSnapClear(p, 0);
      }
    }
  }
  sqlite3_free(zA);
  sqlite3_free(zB);
}

/*
** upsert_into_sql(TABLE [, 'option=value' ...]): the text of the statement
** that a TEMP table upsert_into(TABLE, option=value ...) runs for each row
** of a plain INSERT into it, derived and built by the same code
** (upsertDerive(), upsertWriteSql()), for a client that runs it itself,
** row by row (an executemany).  ?1 to ?N are the declared columns, in
** order, and the only parameters: where the virtual table binds itself
** to ?N+1, for upsert_into_count() and upsert_into_fresh(), the text has
** the integer 1.  The counts equal the virtual table's:
** sqlite3_changes() after a row is 1 if it was inserted or updated and 0
** if skipped, and the rows updated are what upsert_into_count() with no
** argument went up by.
**
** NULL, and not a text, where running it so could differ from the
** virtual table: with nulls=keep, which has a statement per pattern of
** NULL arguments; and where the backing table has triggers or a
** constraint with an ON CONFLICT clause (its CREATE TABLE holds the word
** CONFLICT), by which an update can skip the row after
** upsert_into_count() counted it (RAISE(IGNORE), ON CONFLICT IGNORE).
** The client then inserts into a virtual table.  Errors are those of
** CREATE VIRTUAL TABLE.
*/
static void upsertSqlFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  UpsertTab *pTab = 0;
  const char **azArg = 0;
  char *zDecl = 0;
  char *zErr = 0;
  char *zSql = 0;
  sqlite3_stmt *pStmt = 0;
  int bNative = 0;
  int rc = SQLITE_OK;
  int i;

  azArg = sqlite3_malloc64(sizeof(char*)*(argc+3));
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if( pTab ) memset(pTab, 0, sizeof(*pTab));
  if( azArg==0 || pTab==0 ){
    rc = SQLITE_NOMEM;
    goto sql_done;
  }
  pTab->db = db;
  pTab->pMod = (UpsertModule*)sqlite3_user_data(ctx);
  /* The arguments of CREATE VIRTUAL TABLE temp.x USING upsert_into(...) */
  azArg[0] = "upsert_into_sql";
  azArg[1] = "temp";
  azArg[2] = "upsert_into_sql";
  for(i=0; i<argc; i++){
    azArg[i+3] = (const char*)sqlite3_value_text(argv[i]);
    if( azArg[i+3]==0 ){
      if( sqlite3_value_type(argv[i])!=SQLITE_NULL ){
        rc = SQLITE_NOMEM;
      }else{
        upsertFail(&rc, &zErr, UPSERT_ERR "upsert_into_sql(): argument %d"
                   " is NULL", i+1);
      }
      goto sql_done;
    }
  }
  rc = upsertDerive(pTab, argc+3, azArg, 1, &zDecl, &zErr);
  if( rc==SQLITE_OK && !pTab->bNullsKeep ){
    pStmt = upsertSqlPrepare(&rc, db, &zErr, UPSERT_SQL_NOT_NATIVE,
                             pTab->zDb);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pStmt, 1, pTab->zTab, -1, SQLITE_STATIC);
      bNative = sqlite3_step(pStmt)==SQLITE_DONE;
      rc = sqlite3_finalize(pStmt);
      if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
        zErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(db));
        if( zErr==0 ) rc = SQLITE_NOMEM;
      }
    }
  }
  if( rc==SQLITE_OK && bNative ){
    zSql = upsertWriteSql(pTab, UPSERT_W_UPSERT, 0, 1);
    if( zSql==0 ) rc = SQLITE_NOMEM;
  }

sql_done:
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc!=SQLITE_OK ){
    sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
  }else if( zSql ){
    sqlite3_result_text(ctx, zSql, -1, sqlite3_free);
    zSql = 0;
  }else{
    sqlite3_result_null(ctx);
  }
  if( pTab ) pTab->pMod = 0;   /* Never in pMod->pList */
  upsertFree(pTab);
  sqlite3_free(azArg);
  sqlite3_free(zDecl);
  sqlite3_free(zErr);
  sqlite3_free(zSql);
}

/*****************************************************************************
** Registration
*/

static sqlite3_module upsertModule = {
  /* iVersion    */ 2,
  /* xCreate     */ upsertCreate,
  /* xConnect    */ upsertConnect,
  /* xBestIndex  */ upsertBestIndex,
  /* xDisconnect */ upsertDisconnect,
  /* xDestroy    */ upsertDestroy,
  /* xOpen       */ upsertOpen,
  /* xClose      */ upsertClose,
  /* xFilter     */ upsertFilter,
  /* xNext       */ upsertNext,
  /* xEof        */ upsertEof,
  /* xColumn     */ upsertColumn,
  /* xRowid      */ upsertRowid,
  /* xUpdate     */ upsertUpdate,
  /* xBegin      */ upsertBegin,
  /* xSync       */ upsertSync,
  /* xCommit     */ upsertCommit,
  /* xRollback   */ upsertRollback,
  /* xFindFunction */ 0,
  /* xRename     */ upsertRename,
  /* xSavepoint  */ upsertSavepoint,
  /* xRelease    */ upsertRelease,
  /* xRollbackTo */ upsertRollbackTo,
  /* xShadowName */ 0
};

/*
** Free the module data once both the module and upsert_into_stats()
** are done with it.
*/
static void upsertModuleUnref(void *pArg){
  UpsertModule *pMod = (UpsertModule*)pArg;
  if( --pMod->nRef==0 ){
    while( pMod->pStats ){
      UpsertStats *p = pMod->pStats;
      pMod->pStats = p->pNext;
      upsertStatsFree(p);
    }
    sqlite3_free(pMod);
  }
}

/*
** upsert_into_version(): the version of this extension, UPSERT_VERSION,
** as text.
*/
static void upsertVersionFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  sqlite3_result_text(ctx, UPSERT_VERSION, -1, SQLITE_STATIC);
}

#ifdef _WIN32
__declspec(dllexport)
#endif

/*
** The entry point.  Registers the module "upsert_into" and the functions
** upsert_into_stats(), upsert_into_count(), upsert_into_sql(),
** upsert_into_fresh() and upsert_into_version() on db.
*/
int sqlite3_upsert_init(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  UpsertModule *pMod;
  sqlite3_stmt *pStmt = 0;
  int rc;
  SQLITE_EXTENSION_INIT2(pApi);
  if( sqlite3_libversion_number()<UPSERT_MIN_VERSION ){
    if( pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf(UPSERT_ERR "needs SQLite %d.%d.%d or later,"
          " this is SQLite %s", UPSERT_MIN_VERSION/1000000,
          UPSERT_MIN_VERSION/1000%1000, UPSERT_MIN_VERSION%1000,
          sqlite3_libversion());
    }
    return SQLITE_ERROR;
  }
  /* Loaded already on this connection: keep that registration, whose
  ** list of tables the runaway guard and the counts rely on.  (Replacing
  ** a function would also fail while a statement runs, as it does when
  ** the extension is loaded by SELECT load_extension(...).)  The PRAGMA
  ** and not the pragma_module_list table: a table name would make SQLite
  ** read the schema, which fails while another connection holds an
  ** exclusive lock or when the schema is malformed. */
  rc = sqlite3_prepare_v2(db, azUpsertSql[UPSERT_SQL_MODULES], -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    int bLoaded = 0;
    int rc2;
    while( rc==SQLITE_OK && !bLoaded && sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pStmt, 0);
      if( z==0 ) rc = SQLITE_NOMEM;
      else bLoaded = strcmp(z, "upsert_into")==0;
    }
    rc2 = sqlite3_finalize(pStmt);
    if( rc2!=SQLITE_OK ) rc = rc2;
    if( rc==SQLITE_OK && bLoaded ) return SQLITE_OK;
  }
  if( rc!=SQLITE_OK ) return rc;
  pMod = sqlite3_malloc64(sizeof(*pMod));
  if( pMod==0 ) return SQLITE_NOMEM;
  memset(pMod, 0, sizeof(*pMod));
  pMod->nRef = 2;
  /* The module last: its presence means "loaded" (see above), and a
  ** failed registration can then be tried again.  On failure, each
  ** sqlite3_create_*_v2() calls its destructor itself. */
  rc = sqlite3_create_function_v2(db, "upsert_into_stats", 2,
      SQLITE_UTF8|SQLITE_DIRECTONLY, pMod, upsertStatsFunc, 0, 0,
      upsertModuleUnref);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "upsert_into_stats", 1,
        SQLITE_UTF8|SQLITE_DIRECTONLY, pMod, upsertStatsFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    /* Used by the inner statements only; harmless anywhere else */
    rc = sqlite3_create_function_v2(db, "upsert_into_count", 1,
        SQLITE_UTF8|SQLITE_DIRECTONLY, pMod, upsertCountFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "upsert_into_count", 0,
        SQLITE_UTF8|SQLITE_DIRECTONLY, pMod, upsertCountedFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    /* It reads the schema and takes SQL (where=): not from a schema */
    rc = sqlite3_create_function_v2(db, "upsert_into_sql", -1,
        SQLITE_UTF8|SQLITE_DIRECTONLY, pMod, upsertSqlFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function_v2(db, "upsert_into_fresh", 1,
        SQLITE_UTF8|SQLITE_DIRECTONLY, 0, upsertFreshFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    /* A constant: safe anywhere, in a view or trigger too */
    rc = sqlite3_create_function_v2(db, "upsert_into_version", 0,
        SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, 0,
        upsertVersionFunc, 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_module_v2(db, "upsert_into", &upsertModule, pMod,
                                  upsertModuleUnref);
  }else{
    upsertModuleUnref(pMod);
  }
  return rc;
}
