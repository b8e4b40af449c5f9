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
**   INSERT INTO posts(<cols>) SELECT ?1,?2,... WHERE true
**     ON CONFLICT(<key>) DO UPDATE SET c=excluded.c, ...
**
** prepared once per virtual table and reused for every row.
**
** Arguments:
**
**   TABLE      name or schema.name of the backing table (quoted
**              identifiers allowed).  An unqualified name resolves as
**              SQLite resolves one: temp, main, then attached databases.
**              The key is the backing table's PRIMARY KEY.
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

typedef struct UpsertTab UpsertTab;
typedef struct UpsertCursor UpsertCursor;
typedef struct UpsertModule UpsertModule;

/* Write statements, one per kind of inner statement.  Prepared lazily. */
#define UPSERT_W_UPSERT  0     /* INSERT ... ON CONFLICT DO UPDATE */
#define UPSERT_W_IGNORE  1     /* INSERT OR IGNORE */
#define UPSERT_W_REPLACE 2     /* INSERT OR REPLACE */

/* Query plans: see the comment above upsertBestIndex() */
#define UPSERT_PLAN_SCAN 0
#define UPSERT_PLAN_KEY  1

/*
** One per connection, the client data of the module.  It lists the live
** virtual tables so that a statement reading the backing table through
** another upsert_into table can be recognised.
*/
struct UpsertModule {
  UpsertTab *pList;          /* Every connected upsert_into table */
};

struct UpsertTab {
  sqlite3_vtab base;         /* Base class.  Must be first */
  sqlite3 *db;               /* The connection */
  UpsertModule *pMod;        /* Module data holding the list of tables */
  UpsertTab *pNext;          /* Next table in pMod->pList */
  char *zDb;                 /* Schema of the backing table */
  char *zTab;                /* Name of the backing table */
  char *zMissing;            /* Why the backing table is unusable, or NULL */
  int iDb;                   /* Index of zDb in pragma database_list */
  int bRowid;                /* True if the backing table has a rowid */
  int nCol;                  /* Number of declared columns */
  char **azCol;              /* Names of the declared columns */
  int nKey;                  /* Number of key columns */
  int *aiKey;                /* Declared-column index of each key column */
  const char *zRowid;        /* How to name the rowid in SQL, or NULL */
  sqlite3_stmt *apWrite[3];  /* Inner write statements, UPSERT_W_* */
  sqlite3_stmt *apScan[2];   /* Idle read statements, UPSERT_PLAN_* */
  int bInner;                /* True while an inner statement steps */
  int nRun;                  /* Rows of the current statement so far */
  sqlite3_int64 nMark;       /* sqlite3_total_changes64() after last row */
  char zPtr[40];             /* "vtab:%p" of this table, as EXPLAIN says */
};

struct UpsertCursor {
  sqlite3_vtab_cursor base;  /* Base class.  Must be first */
  sqlite3_stmt *pStmt;       /* Statement reading the backing table */
  int iPlan;                 /* UPSERT_PLAN_* that pStmt implements */
  int bEof;                  /* True at end of results */
  sqlite3_int64 iRow;        /* Row counter, the rowid of rowless tables */
};

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
** Read one identifier from *pz: bare, or quoted with "", [], `` or ''.
** Leading and trailing spaces are skipped.  Returns a dequoted copy
** that the caller frees, or NULL with *pRc set.  *pz is advanced past
** the identifier.  A bare identifier ends at '.' or the end of input.
*/
static char *upsertIdent(int *pRc, const char **pz){
  const char *z = *pz;
  char *zOut = 0;
  int n = 0;
  if( *pRc ) return 0;
  while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' ) z++;
  zOut = sqlite3_malloc64(strlen(z)+1);
  if( zOut==0 ){ *pRc = SQLITE_NOMEM; return 0; }
  if( *z=='"' || *z=='`' || *z=='\'' || *z=='[' ){
    char cEnd = *z=='[' ? ']' : *z;
    for(z++; *z; z++){
      if( *z==cEnd ){
        if( cEnd!=']' && z[1]==cEnd ){ z++; }else{ break; }
      }
      zOut[n++] = *z;
    }
    if( *z!=cEnd ){ n = -1; }else{ z++; }
  }else{
    while( *z && *z!='.' ) zOut[n++] = *(z++);
    while( n>0 && (zOut[n-1]==' ' || zOut[n-1]=='\t'
                || zOut[n-1]=='\n' || zOut[n-1]=='\r') ) n--;
  }
  while( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' ) z++;
  if( n<=0 ){
    sqlite3_free(zOut);
    *pRc = SQLITE_ERROR;
    return 0;
  }
  zOut[n] = 0;
  *pz = z;
  return zOut;
}

/*
** Return non-zero if zType, a declared column type from the backing
** table's schema, can be pasted into the virtual table's declaration
** as it is: words, and at most one parenthesised list of numbers.  A
** type that could carry anything else is never pasted.
*/
static int upsertSafeType(const char *zType){
  int nDepth = 0;
  int nParen = 0;
  for(; *zType; zType++){
    char c = *zType;
    if( (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
     || c=='_' || c==' ' ){
      continue;
    }
    if( c=='(' ){ if( nDepth++ || nParen++ ) return 0; continue; }
    if( c==')' ){ if( --nDepth ) return 0; continue; }
    if( nDepth==1 && (c==',' || c=='+' || c=='-' || c=='.') ) continue;
    return 0;
  }
  return nDepth==0;
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
  for(i=0; i<3; i++) sqlite3_finalize(pTab->apWrite[i]);
  for(i=0; i<2; i++) sqlite3_finalize(pTab->apScan[i]);
  for(i=0; i<pTab->nCol; i++) sqlite3_free(pTab->azCol[i]);
  sqlite3_free(pTab->azCol);
  sqlite3_free(pTab->aiKey);
  sqlite3_free(pTab->zDb);
  sqlite3_free(pTab->zTab);
  sqlite3_free(pTab->zMissing);
  sqlite3_free(pTab->base.zErrMsg);
  sqlite3_free(pTab);
}

/*
** Find the backing table named by zSpec ("name" or "schema.name").
** Sets pTab->zDb, zTab, iDb and bRowid.  Returns SQLITE_OK, or an error
** code with *pzErr set.
*/
static int upsertResolve(UpsertTab *pTab, const char *zSpec, char **pzErr){
  int rc = SQLITE_OK;
  const char *z = zSpec;
  char *zA = 0, *zB = 0;
  sqlite3_stmt *pStmt = 0;

  zA = upsertIdent(&rc, &z);
  if( rc==SQLITE_OK && *z=='.' ){
    z++;
    zB = upsertIdent(&rc, &z);
  }
  if( rc==SQLITE_OK && *z ) rc = SQLITE_ERROR;
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_ERROR ){
      *pzErr = sqlite3_mprintf(UPSERT_ERR "malformed table name '%s'", zSpec);
    }
    goto resolve_out;
  }
  if( zB ){
    /* schema.name: the schema must exist */
    pStmt = upsertPrepare(&rc, pTab->db, pzErr, sqlite3_mprintf(
          "SELECT seq, name FROM pragma_database_list WHERE name=?1"
          " COLLATE nocase"), 0);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(pStmt, 1, zA, -1, SQLITE_STATIC);
      if( sqlite3_step(pStmt)!=SQLITE_ROW ){
        rc = sqlite3_finalize(pStmt);
        pStmt = 0;
        if( rc==SQLITE_OK ){
          *pzErr = sqlite3_mprintf(UPSERT_ERR "no such schema '%s'", zA);
          rc = SQLITE_ERROR;
        }
        goto resolve_out;
      }
      sqlite3_finalize(pStmt);
      pStmt = 0;
    }
  }
  pStmt = upsertPrepare(&rc, pTab->db, pzErr, sqlite3_mprintf(
        "SELECT l.schema, l.name, l.type, l.wr, d.seq"
        "  FROM pragma_database_list AS d, pragma_table_list AS l"
        " WHERE l.schema=d.name AND l.name=?1 COLLATE nocase"
        "   AND (?2 IS NULL OR d.name=?2 COLLATE nocase)"
        " ORDER BY d.seq<>1, d.seq LIMIT 1"), 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zB ? zB : zA, -1, SQLITE_STATIC);
    if( zB ) sqlite3_bind_text(pStmt, 2, zA, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(pStmt, 2);
      if( zType && strcmp(zType, "table")!=0 && strcmp(zType, "shadow")!=0 ){
        *pzErr = sqlite3_mprintf(UPSERT_ERR "'%s' is a %s, not a table",
                                 zSpec, zType);
        rc = SQLITE_ERROR;
      }else{
        pTab->zDb = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
        pTab->zTab = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 1));
        pTab->bRowid = sqlite3_column_int(pStmt, 3)==0;
        pTab->iDb = sqlite3_column_int(pStmt, 4);
        if( pTab->zDb==0 || pTab->zTab==0 ) rc = SQLITE_NOMEM;
      }
    }else{
      rc = sqlite3_finalize(pStmt);
      pStmt = 0;
      if( rc==SQLITE_OK ){
        *pzErr = sqlite3_mprintf(UPSERT_ERR "no such table '%s'", zSpec);
        rc = SQLITE_ERROR;
      }
    }
  }
resolve_out:
  sqlite3_finalize(pStmt);
  sqlite3_free(zA);
  sqlite3_free(zB);
  return rc;
}

/*
** Read the writable columns of the backing table and its PRIMARY KEY.
** Appends the column definitions to pDecl.  Returns SQLITE_OK or an
** error code with *pzErr set.
*/
static int upsertColumns(UpsertTab *pTab, sqlite3_str *pDecl, char **pzErr){
  int rc = SQLITE_OK;
  int nAlloc = 0;
  int *aiPk = 0;             /* Position in the PK of each column, or 0 */
  int i;
  sqlite3_stmt *pStmt;
  pStmt = upsertPrepare(&rc, pTab->db, pzErr, sqlite3_mprintf(
        "SELECT name, type, pk FROM pragma_table_xinfo(?1, ?2)"
        " WHERE hidden=0 ORDER BY cid"), 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, pTab->zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, pTab->zDb, -1, SQLITE_STATIC);
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zType = (const char*)sqlite3_column_text(pStmt, 1);
    if( pTab->nCol>=nAlloc ){
      int nNew = nAlloc ? nAlloc*2 : 16;
      char **azNew = sqlite3_realloc64(pTab->azCol, nNew*sizeof(char*));
      int *aiNew = azNew ? sqlite3_realloc64(aiPk, nNew*sizeof(int)) : 0;
      if( azNew ) pTab->azCol = azNew;
      if( aiNew==0 ){ rc = SQLITE_NOMEM; break; }
      aiPk = aiNew;
      nAlloc = nNew;
    }
    pTab->azCol[pTab->nCol] = sqlite3_mprintf("%s", zName);
    if( pTab->azCol[pTab->nCol]==0 ){ rc = SQLITE_NOMEM; break; }
    aiPk[pTab->nCol] = sqlite3_column_int(pStmt, 2);
    if( aiPk[pTab->nCol]>pTab->nKey ) pTab->nKey = aiPk[pTab->nCol];
    if( pTab->nCol ) sqlite3_str_appendall(pDecl, ", ");
    sqlite3_str_appendf(pDecl, "\"%w\"", zName);
    if( zType && zType[0] ){
      if( upsertSafeType(zType) ){
        sqlite3_str_appendf(pDecl, " %s", zType);
      }else{
        sqlite3_str_appendf(pDecl, " \"%w\"", zType);
      }
    }
    pTab->nCol++;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(pTab->db));
    }
  }else{
    sqlite3_finalize(pStmt);
  }
  if( rc==SQLITE_OK && pTab->nKey==0 ){
    *pzErr = sqlite3_mprintf(UPSERT_ERR "table '%s' has no PRIMARY KEY",
                             pTab->zTab);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    pTab->aiKey = sqlite3_malloc64(pTab->nKey*sizeof(int));
    if( pTab->aiKey==0 ) rc = SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<pTab->nCol; i++){
    if( aiPk[i] ) pTab->aiKey[aiPk[i]-1] = i;
  }
  sqlite3_free(aiPk);
  return rc;
}

/*
** Choose how the rowid of the backing table is named in SQL: the first
** of rowid, _rowid_ and oid that is no column name, or NULL.
*/
static void upsertRowidName(UpsertTab *pTab){
  static const char *azName[] = { "rowid", "_rowid_", "oid" };
  int i, j;
  pTab->zRowid = 0;
  if( !pTab->bRowid ) return;
  for(i=0; i<3; i++){
    for(j=0; j<pTab->nCol; j++){
      if( sqlite3_stricmp(pTab->azCol[j], azName[i])==0 ) break;
    }
    if( j==pTab->nCol ){ pTab->zRowid = azName[i]; return; }
  }
}

/*
** The xConnect and xCreate methods.  argv[3] names the backing table.
**
** xCreate fails when the backing table cannot be used.  xConnect does
** not: it declares a placeholder column and remembers why, so that a
** persistent virtual table whose backing table is gone can still be
** dropped.  INSERT and SELECT on it then fail with that reason.
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
  sqlite3_str *pDecl = 0;
  char *zDecl = 0;
  int rc = SQLITE_OK;

  *ppVtab = 0;
  if( argc<4 ){
    *pzErr = sqlite3_mprintf(UPSERT_ERR "no table given: use %s(TABLE)",
                             argv[0]);
    return SQLITE_ERROR;
  }
  if( argc>4 ){
    *pzErr = sqlite3_mprintf(UPSERT_ERR "unexpected argument '%s'", argv[4]);
    return SQLITE_ERROR;
  }
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  sqlite3_snprintf(sizeof(pTab->zPtr), pTab->zPtr, "vtab:%p", &pTab->base);

  pDecl = sqlite3_str_new(db);
  sqlite3_str_appendall(pDecl, "CREATE TABLE x(");
  rc = upsertResolve(pTab, argv[3], pzErr);
  if( rc==SQLITE_OK ) rc = upsertColumns(pTab, pDecl, pzErr);
  sqlite3_str_appendall(pDecl, ")");
  zDecl = sqlite3_str_finish(pDecl);
  if( zDecl==0 && rc==SQLITE_OK ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_ERROR && !bCreate ){
    /* See the comment above this function */
    int i;
    pTab->zMissing = *pzErr;
    *pzErr = 0;
    for(i=0; i<pTab->nCol; i++) sqlite3_free(pTab->azCol[i]);
    pTab->nCol = 0;
    pTab->nKey = 0;
    sqlite3_free(zDecl);
    zDecl = sqlite3_mprintf("CREATE TABLE x(\"upsert_into unusable\")");
    rc = pTab->zMissing && zDecl ? SQLITE_OK : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_declare_vtab(db, zDecl);
    if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf(UPSERT_ERR "%s", sqlite3_errmsg(db));
    }
  }
  sqlite3_free(zDecl);
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
    upsertRowidName(pTab);
    pTab->pMod = (UpsertModule*)pAux;
    pTab->pNext = pTab->pMod->pList;
    pTab->pMod->pList = pTab;
    *ppVtab = &pTab->base;
  }else{
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
** xDisconnect and xDestroy.  The backing table is never touched.
*/
static int upsertDisconnect(sqlite3_vtab *pVtab){
  upsertFree((UpsertTab*)pVtab);
  return SQLITE_OK;
}

/*
** Query plans, as idxNum (idxStr is not used):
**
**   UPSERT_PLAN_SCAN (0)   scan the whole backing table
**   UPSERT_PLAN_KEY  (1)   equality on every key column: argv[i] is the
**                          value of key column i, in key order, and the
**                          backing table is searched through its key
**
** Constraints are not omitted: SQLite checks them again with the
** virtual table's own comparison rules, which may differ from the
** backing column's collation.
*/
static int upsertBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  int i, k;
  int nFound = 0;
  for(k=0; k<pTab->nKey; k++){
    for(i=0; i<pInfo->nConstraint; i++){
      const struct sqlite3_index_constraint *p = &pInfo->aConstraint[i];
      if( p->usable && p->op==SQLITE_INDEX_CONSTRAINT_EQ
       && p->iColumn==pTab->aiKey[k] ){
        pInfo->aConstraintUsage[i].argvIndex = k+1;
        nFound++;
        break;
      }
    }
    if( i==pInfo->nConstraint ) break;
  }
  if( pTab->nKey>0 && nFound==pTab->nKey ){
    pInfo->idxNum = UPSERT_PLAN_KEY;
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
    if( pTab->apScan[pCur->iPlan]==0 ){
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

/*
** Report the error of a statement that reads or writes the backing
** table.  Returns the error code.
*/
static int upsertStmtError(UpsertTab *pTab, int rc){
  if( rc==SQLITE_NOMEM ) return rc;
  if( (rc&0xff)==SQLITE_CONSTRAINT ){
    /* SQLite's own message, unchanged */
    upsertError(pTab, "%s", sqlite3_errmsg(pTab->db));
  }else{
    upsertError(pTab, UPSERT_ERR "%s", sqlite3_errmsg(pTab->db));
  }
  return rc;
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
  if( iPlan==UPSERT_PLAN_KEY ){
    for(i=0; i<pTab->nKey; i++){
      sqlite3_str_appendf(p, "%s\"%w\"=?%d", i ? " AND " : " WHERE ",
                          pTab->azCol[pTab->aiKey[i]], i+1);
    }
  }
  return upsertPrepare(pRc, pTab->db, &pTab->base.zErrMsg,
                       sqlite3_str_finish(p), 0);
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
  int rc = SQLITE_OK;
  int i;
  (void)idxStr;
  if( pTab->zMissing ){
    upsertError(pTab, "%s", pTab->zMissing);
    return SQLITE_ERROR;
  }
  if( pCur->pStmt && pCur->iPlan!=idxNum ) upsertCursorRelease(pCur);
  if( pCur->pStmt==0 ){
    pCur->iPlan = idxNum;
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

static int upsertColumn(
  sqlite3_vtab_cursor *cur,
  sqlite3_context *ctx,
  int i
){
  UpsertCursor *pCur = (UpsertCursor*)cur;
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i+1));
  return SQLITE_OK;
}

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

/*
** Build and prepare the inner write statement of kind eKind
** (UPSERT_W_*).  Returns it, or NULL with an error code in *pRc.
*/
static sqlite3_stmt *upsertWriteStmt(UpsertTab *pTab, int eKind, int *pRc){
  static const char *azVerb[] = {
    "INSERT", "INSERT OR IGNORE", "INSERT OR REPLACE"
  };
  sqlite3_str *p = sqlite3_str_new(pTab->db);
  int i, k;
  const char *zSep;

  sqlite3_str_appendf(p, "%s INTO \"%w\".\"%w\"(",
                      azVerb[eKind], pTab->zDb, pTab->zTab);
  for(i=0; i<pTab->nCol; i++){
    sqlite3_str_appendf(p, "%s\"%w\"", i ? "," : "", pTab->azCol[i]);
  }
  /* The SELECT form, not VALUES: it makes the inner statement open a
  ** statement journal, so that when the outer statement fails the rows
  ** it already wrote are rolled back with it, even when the virtual
  ** table lives in another schema than the backing table. */
  sqlite3_str_appendall(p, ") SELECT ");
  for(i=0; i<pTab->nCol; i++){
    sqlite3_str_appendf(p, "%s?%d", i ? "," : "", i+1);
  }
  sqlite3_str_appendall(p, " WHERE true");
  if( eKind==UPSERT_W_UPSERT ){
    sqlite3_str_appendall(p, " ON CONFLICT(");
    for(k=0; k<pTab->nKey; k++){
      sqlite3_str_appendf(p, "%s\"%w\"", k ? "," : "",
                          pTab->azCol[pTab->aiKey[k]]);
    }
    sqlite3_str_appendall(p, ") DO ");
    zSep = "UPDATE SET ";
    for(i=0; i<pTab->nCol; i++){
      for(k=0; k<pTab->nKey && pTab->aiKey[k]!=i; k++){}
      if( k<pTab->nKey ) continue;
      sqlite3_str_appendf(p, "%s\"%w\"=excluded.\"%w\"",
                          zSep, pTab->azCol[i], pTab->azCol[i]);
      zSep = ",";
    }
    if( zSep[0]=='U' ) sqlite3_str_appendall(p, "NOTHING");
  }
  return upsertPrepare(pRc, pTab->db, &pTab->base.zErrMsg,
                       sqlite3_str_finish(p), SQLITE_PREPARE_PERSISTENT);
}

/*
** Decide whether the statement now writing into pTab also reads the
** backing table, directly or through another upsert_into table over it.
** Such a statement could read the rows it has just written, without
** end.  Sets *pbReads.  Returns SQLITE_OK or an error code.
**
** The statement is found as the busy one whose program holds OP_VUpdate
** on this table, and its program (re-prepared from its text, with
** EXPLAIN) is searched for an OpenRead of the backing table or of one
** of its indexes, as SQLite's own readsTable() does for native INSERT.
** That over-approximates: a statement that reads the table into a
** sorter or a materialized view first is refused too.
*/
static int upsertReadsBacking(UpsertTab *pTab, int *pbReads){
  sqlite3 *db = pTab->db;
  int rc = SQLITE_OK;
  int nRoot = 0;
  int aRoot[64];             /* Root pages of the table and its indexes */
  int bOverflow = 0;         /* Too many indexes for aRoot[] */
  sqlite3_stmt *pStmt;
  sqlite3_stmt *pExplain = 0;
  char *zDummy = 0;

  *pbReads = 0;
  pStmt = upsertPrepare(&rc, db, &zDummy, sqlite3_mprintf(
        "SELECT rootpage FROM \"%w\".sqlite_schema"
        " WHERE tbl_name=?1 COLLATE nocase AND rootpage>0", pTab->zDb), 0);
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
  for(pStmt=sqlite3_next_stmt(db, 0);
      rc==SQLITE_OK && pStmt && *pbReads==0;
      pStmt=sqlite3_next_stmt(db, pStmt)){
    int bWriter = 0;
    int bReads = 0;
    const char *zSql;
    if( !sqlite3_stmt_busy(pStmt) || sqlite3_stmt_isexplain(pStmt) ) continue;
    zSql = sqlite3_sql(pStmt);
    if( zSql==0 ) continue;
    pExplain = upsertPrepare(&rc, db, &zDummy,
                             sqlite3_mprintf("EXPLAIN %s", zSql), 0);
    if( rc!=SQLITE_OK ){
      /* A statement that cannot be prepared again is not this one */
      if( rc!=SQLITE_NOMEM ) rc = SQLITE_OK;
      continue;
    }
    while( sqlite3_step(pExplain)==SQLITE_ROW ){
      const char *zOp = (const char*)sqlite3_column_text(pExplain, 1);
      const char *zP4 = (const char*)sqlite3_column_text(pExplain, 5);
      if( zOp==0 ) continue;
      if( strcmp(zOp, "VUpdate")==0 ){
        if( zP4 && strcmp(zP4, pTab->zPtr)==0 ) bWriter = 1;
      }else if( strcmp(zOp, "OpenRead")==0 ){
        if( sqlite3_column_int(pExplain, 4)==pTab->iDb ){
          int iRoot = sqlite3_column_int(pExplain, 3);
          int i;
          for(i=0; i<nRoot && aRoot[i]!=iRoot; i++){}
          if( i<nRoot || bOverflow ) bReads = 1;
        }
      }else if( strcmp(zOp, "VOpen")==0 && zP4 ){
        UpsertTab *pOther;
        for(pOther=pTab->pMod->pList; pOther; pOther=pOther->pNext){
          if( pOther!=pTab && pOther->zMissing==0
           && strcmp(zP4, pOther->zPtr)==0
           && sqlite3_stricmp(pOther->zDb, pTab->zDb)==0
           && sqlite3_stricmp(pOther->zTab, pTab->zTab)==0 ){
            bReads = 1;
          }
        }
      }
    }
    rc = sqlite3_finalize(pExplain);
    if( rc!=SQLITE_NOMEM ) rc = SQLITE_OK;
    if( bWriter && bReads ) *pbReads = 1;
  }
  sqlite3_free(zDummy);
  return rc;
}

/*
** Bind value pVal to parameter i of pStmt without copying it: the value
** outlives the step that uses it, so no allocation is made per row.
*/
static void upsertBind(sqlite3_stmt *pStmt, int i, sqlite3_value *pVal){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
      sqlite3_bind_int64(pStmt, i, sqlite3_value_int64(pVal));
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double(pStmt, i, sqlite3_value_double(pVal));
      break;
    case SQLITE_TEXT: {
      const unsigned char *z = sqlite3_value_text(pVal);
      sqlite3_bind_text(pStmt, i, (const char*)z, sqlite3_value_bytes(pVal),
                        SQLITE_STATIC);
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
** xUpdate.  Only INSERT is allowed: each row is written to the backing
** table by an inner statement before this returns.
**
** Runaway guard: a multi-row statement that reads the backing table
** could read its own writes and never end.  Rows of one statement are
** counted in nRun (reset at every transaction or savepoint boundary and
** whenever another statement completed in between, which
** sqlite3_total_changes64() tells); at the second row of a statement,
** upsertReadsBacking() decides whether it may go on.  Single-row
** statements pay nothing for this.
*/
static int upsertUpdate(
  sqlite3_vtab *pVtab,
  int argc, sqlite3_value **argv,
  sqlite_int64 *pRowid
){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  sqlite3 *db = pTab->db;
  sqlite3_stmt *pStmt;
  int eKind;
  int rc = SQLITE_OK;
  int i;

  if( argc==1 || sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    upsertError(pTab, UPSERT_ERR "cannot %s rows of an upsert_into table:"
        " %s table \"%s\" itself", argc==1 ? "DELETE" : "UPDATE",
        argc==1 ? "DELETE from" : "UPDATE", pTab->zTab);
    return SQLITE_ERROR;
  }
  if( pTab->zMissing ){
    upsertError(pTab, "%s", pTab->zMissing);
    return SQLITE_ERROR;
  }

  if( pTab->nRun>0 && sqlite3_total_changes64(db)!=pTab->nMark ){
    pTab->nRun = 0;
  }
  if( ++pTab->nRun==2 ){
    int bReads = 0;
    rc = upsertReadsBacking(pTab, &bReads);
    if( rc ) return rc;
    if( bReads ){
      upsertError(pTab, UPSERT_ERR "this statement reads table \"%s\" while"
          " it writes to it, and could read its own rows without end:"
          " select from the upsert_into table instead (SQLite then reads"
          " every row first) or copy the rows into a TEMP table first",
          pTab->zTab);
      pTab->nRun = 0;
      return SQLITE_ERROR;
    }
  }

  switch( sqlite3_vtab_on_conflict(db) ){
    case SQLITE_IGNORE:  eKind = UPSERT_W_IGNORE;  break;
    case SQLITE_REPLACE: eKind = UPSERT_W_REPLACE; break;
    default:             eKind = UPSERT_W_UPSERT;  break;
  }
  pStmt = pTab->apWrite[eKind];
  if( pStmt==0 ){
    pStmt = pTab->apWrite[eKind] = upsertWriteStmt(pTab, eKind, &rc);
    if( rc ) return rc;
  }
  for(i=0; i<pTab->nCol; i++){
    upsertBind(pStmt, i+1, argv[i+2]);
  }
  pTab->bInner = 1;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  pTab->bInner = 0;
  if( rc!=SQLITE_OK ) return upsertStmtError(pTab, rc);
  *pRowid = sqlite3_last_insert_rowid(db);
  pTab->nMark = sqlite3_total_changes64(db);
  return SQLITE_OK;
}

/*
** Transaction and savepoint boundaries end the current statement's run
** of rows, except those of the inner statement itself.
*/
static int upsertBoundary(sqlite3_vtab *pVtab){
  UpsertTab *pTab = (UpsertTab*)pVtab;
  if( !pTab->bInner ) pTab->nRun = 0;
  return SQLITE_OK;
}
static int upsertSavepoint(sqlite3_vtab *pVtab, int iSavepoint){
  (void)iSavepoint;
  return upsertBoundary(pVtab);
}

static sqlite3_module upsertModule = {
  /* iVersion    */ 2,
  /* xCreate     */ upsertCreate,
  /* xConnect    */ upsertConnect,
  /* xBestIndex  */ upsertBestIndex,
  /* xDisconnect */ upsertDisconnect,
  /* xDestroy    */ upsertDisconnect,
  /* xOpen       */ upsertOpen,
  /* xClose      */ upsertClose,
  /* xFilter     */ upsertFilter,
  /* xNext       */ upsertNext,
  /* xEof        */ upsertEof,
  /* xColumn     */ upsertColumn,
  /* xRowid      */ upsertRowid,
  /* xUpdate     */ upsertUpdate,
  /* xBegin      */ upsertBoundary,
  /* xSync       */ upsertBoundary,
  /* xCommit     */ upsertBoundary,
  /* xRollback   */ upsertBoundary,
  /* xFindFunction */ 0,
  /* xRename     */ 0,
  /* xSavepoint  */ upsertSavepoint,
  /* xRelease    */ upsertSavepoint,
  /* xRollbackTo */ upsertSavepoint,
  /* xShadowName */ 0
};

#ifdef _WIN32
__declspec(dllexport)
#endif
/*
** The entry point.  Registers the module "upsert_into" on db.
*/
int sqlite3_upsert_init(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  UpsertModule *pMod;
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
  pMod = sqlite3_malloc64(sizeof(*pMod));
  if( pMod==0 ) return SQLITE_NOMEM;
  memset(pMod, 0, sizeof(*pMod));
  return sqlite3_create_module_v2(db, "upsert_into", &upsertModule, pMod,
                                  sqlite3_free);
}
