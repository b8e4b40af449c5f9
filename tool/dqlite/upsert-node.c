/*
** upsert-node: one dqlite node whose every SQLite connection has the
** upsert_into module.
**
**   upsert-node [-n] [-l MS] ID ADDRESS DIR
**
**   ID       the node's Raft ID: 1 bootstraps a new cluster; any other
**            node waits to be added by a client (tool/dqlite/client.go,
**            "add").  A restarted node is given its ID again.
**   ADDRESS  HOST:PORT, bound and announced to the cluster
**   DIR      the node's data directory (created if missing)
**   -n       run without the module: SQL on a persistent upsert_into
**            table then fails with "no such module: upsert_into" while
**            this node leads
**   -l MS    the one-way network latency dqlite assumes, in
**            milliseconds, from which Raft derives its heartbeat and
**            election timeouts (default 20: a fast failover on loopback)
**
** The node runs until SIGTERM or SIGINT, then stops.  It prints
** "upsert-node: ID ready on ADDRESS" on standard output once it listens.
**
** libdqlite opens its connections with the system libsqlite3, which is
** the library this program links, so sqlite3_auto_extension() before
** dqlite_node_start() registers upsert_into on each of them.  The
** extension is compiled in (-DSQLITE_CORE).  If its init fails (a SQLite
** older than it needs), every open would fail with it, and the node with
** them: upsertNodeInit() reports the failure once on standard error and
** lets the open go on without the module.
**
** Build (Linux; Debian's libdqlite-dev):
**   cc -DSQLITE_CORE tool/dqlite/upsert-node.c ext/upsert.c \
**     -ldqlite -lsqlite3 -o dist/dqlite/upsert-node
*/
#define _POSIX_C_SOURCE 200809L  /* sigwait(), getopt() under -std=c99 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dqlite.h>
#include "sqlite3.h"

int sqlite3_upsert_init(sqlite3*, char**, const sqlite3_api_routines*);

/* Set once the failure of the extension's init has been reported.  Only
** the node's event-loop thread opens connections, so no lock is needed. */
static int bInitReported = 0;

/*
** The init registered with sqlite3_auto_extension().  Runs the
** extension's own, and on failure prints its message once, frees it and
** returns SQLITE_OK, so that the connection opens without the module.
*/
static int upsertNodeInit(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  int rc = sqlite3_upsert_init(db, pzErrMsg, pApi);
  if( rc!=SQLITE_OK ){
    if( !bInitReported ){
      fprintf(stderr, "upsert-node: upsert_into not registered: %s\n",
          pzErrMsg && *pzErrMsg ? *pzErrMsg : sqlite3_errstr(rc));
      bInitReported = 1;
    }
    if( pzErrMsg ){
      sqlite3_free(*pzErrMsg);
      *pzErrMsg = 0;
    }
  }
  return SQLITE_OK;
}

/* Print the synopsis and exit with status 2. */
static void usage(void){
  fprintf(stderr, "usage: upsert-node [-n] [-l MS] ID HOST:PORT DIR\n");
  exit(2);
}

/*
** Parse the arguments, register the module, create and start the node,
** then wait for SIGTERM or SIGINT and stop it.  Returns 0 after a clean
** stop, 1 if the node could not be created, started or stopped.
*/
int main(int argc, char **argv){
  dqlite_node *pNode = 0;
  dqlite_node_id iId;
  const char *zAddr;
  const char *zDir;
  unsigned nLatency = 20;
  int bModule = 1;
  int rc = 1;
  int c;
  int iSig;
  sigset_t set;

  while( (c = getopt(argc, argv, "nl:"))!=-1 ){
    switch( c ){
      case 'n': bModule = 0; break;
      case 'l': nLatency = (unsigned)strtoul(optarg, 0, 10); break;
      default: usage();
    }
  }
  if( argc-optind!=3 ) usage();
  iId = strtoull(argv[optind], 0, 10);
  zAddr = argv[optind+1];
  zDir = argv[optind+2];
  if( iId==0 || nLatency==0 ) usage();
  if( mkdir(zDir, 0755)!=0 && errno!=EEXIST ){
    fprintf(stderr, "upsert-node: %s: %s\n", zDir, strerror(errno));
    return 1;
  }

  /* The signals are blocked before dqlite starts its thread, which
  ** inherits the mask, so that sigwait() below receives them. */
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, 0);
  /* A write to a peer that died must fail with EPIPE, not kill the node
  ** (libuv leaves SIGPIPE to the program). */
  signal(SIGPIPE, SIG_IGN);

  if( bModule ){
    sqlite3_auto_extension((void(*)(void))upsertNodeInit);
  }
  if( dqlite_node_create(iId, zAddr, zDir, &pNode)!=0 ){
    fprintf(stderr, "upsert-node: cannot create node %llu: %s\n", iId,
        pNode ? dqlite_node_errmsg(pNode) : "out of memory");
    goto done;
  }
  if( dqlite_node_set_bind_address(pNode, zAddr)!=0
   || dqlite_node_set_network_latency_ms(pNode, nLatency)!=0
   || dqlite_node_start(pNode)!=0
  ){
    fprintf(stderr, "upsert-node: node %llu on %s: %s\n", iId, zAddr,
        dqlite_node_errmsg(pNode));
    goto done;
  }
  printf("upsert-node: %llu ready on %s%s\n", iId, zAddr,
      bModule ? "" : " (without upsert_into)");
  fflush(stdout);

  sigwait(&set, &iSig);
  if( dqlite_node_stop(pNode)!=0 ){
    fprintf(stderr, "upsert-node: stop: %s\n", dqlite_node_errmsg(pNode));
    goto done;
  }
  rc = 0;
done:
  if( pNode ) dqlite_node_destroy(pNode);
  return rc;
}
