/*
** ext/upsert.c compiled into a program with -DSQLITE_CORE and registered
** with sqlite3_auto_extension(): every connection then has the module.
** Prints the backing table after an insert and an update.
*/
#include <stdio.h>
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

static int print_row(void *p, int n, char **az, char **azCol){
  int i;
  (void)p; (void)azCol;
  for(i=0; i<n; i++) printf("%s%s", i ? "|" : "", az[i] ? az[i] : "NULL");
  printf("\n");
  return 0;
}

int main(void){
  sqlite3 *db;
  char *zErr = 0;
  int rc;
  sqlite3_auto_extension((void(*)(void))sqlite3_upsert_init);
  rc = sqlite3_open(":memory:", &db);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db,
      "CREATE TABLE t(k TEXT PRIMARY KEY, v INT) WITHOUT ROWID;"
      "CREATE VIRTUAL TABLE temp.up USING upsert_into(t);"
      "INSERT INTO up VALUES('a',1),('b',2);"
      "INSERT INTO up VALUES('a',10),('c',3);"
      "SELECT k, v FROM t ORDER BY k;", print_row, 0, &zErr);
  }
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "embed: %s\n", zErr ? zErr : sqlite3_errmsg(db));
  }
  sqlite3_free(zErr);
  sqlite3_close(db);
  return rc!=SQLITE_OK;
}
