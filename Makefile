# upsert_into: a SQLite loadable extension.  See README.md.
#
#   make, make all   dist/upsert.$(SUFFIX) and dist/sqlite-upsert
#   make test        build, then every test/*.test and dist/oom
#   make demo        build, then a short demo in the sqlite3 shell
#   make install     the extension into $(PREFIX)/lib, sqlite-upsert into
#                    $(PREFIX)/bin and its man page into
#                    $(PREFIX)/share/man/man1 (PREFIX=/usr/local; DESTDIR
#                    for staging); then `.load upsert` works by name
#   make uninstall   remove what make install put there
#   make test-install    as root: make install into PREFIX, `.load upsert`
#                    from /tmp, make uninstall (skipped when not root)
#   make bench       bench-cli, then dist/bench, bench-python and
#                    bench-sync
#   make bench-sync  a re-import of a 1M-row feed with 1 % changed:
#                    unchanged=skip against plain and native upserts
#   make bench-python    SQLAlchemy's bulk upserts against upsert_into
#   make bench-cli       sqlite-upsert against .import and sqlite-utils
#   make bench-callgrind instructions per method of dist/bench (valgrind)
#   make bench-doc   run the benchmarks and write their tables into
#                    doc/benchmarks.md (tool/bench/report.sh) and
#                    doc/sync.md (tool/bench/bench-sync.sh --doc)
#   make asan        the suite under AddressSanitizer and UBSan
#   make valgrind    the suite under valgrind memcheck
#   make fuzz        each libFuzzer target for FUZZ_SECONDS (60)
#   make fuzz-ci     each libFuzzer target for 20 seconds
#   make oom         dist/oom alone: every allocation failed in turn
#   make crash       the crash and concurrency tests alone, verbose
#   make test-clients    the C, SQLAlchemy and better-sqlite3 recipes
#   make package-python  the Python wheel sqlite-upsert, in dist/wheels/
#   make test-python     that wheel in a fresh venv, and its tests
#   make package-node    the npm package sqlite-upsert, in dist/
#   make test-node       that tarball in a fresh project, and its tests
#   make test-dqlite     upsert_into on a 3-node dqlite cluster on
#                        127.0.0.1, through a leader failure
#                        (test/dqlite/cluster.test)
#   make bench-dqlite    10,000-row upserts on that cluster, upsert_into
#                        against native; rewrites the table of
#                        doc/dqlite.md
#   make lint        cppcheck over the C sources; fails on any finding
#   make clean       remove dist/
#   make deps        the Debian packages that build and test need
#                    (tool/deps.sh)
#   make deps-clients    and those of make test-clients
#   make deps-packages   and those of the package-* and test-* targets
#   make deps-fuzz       and those of make fuzz
#   make deps-lint       and those of make lint
#   make deps-dqlite     and those of make test-dqlite and bench-dqlite
#
# Variables: CC, CFLAGS, TCLSH, SQLITE3, CPPCHECK, PREFIX, DESTDIR,
# BENCH_FLAGS (dist/bench -h; -q is a quick run), SEED_BENCH_FLAGS,
# FUZZ_CC, FUZZ_CFLAGS, FUZZ_SECONDS, GO.  CI runs make with
# --warn-undefined-variables, which must print nothing.

CC       ?= cc
CFLAGS   ?= -g -O2
# The one version number (upsert_into_version(), the packages) is in the
# file VERSION.  Every compile of ext/upsert.c has $(WARN), so the macro
# goes with it.
VERSION  := $(shell cat VERSION)
WARN     := -std=c99 -Wall -Wextra -Wno-unused-parameter \
  -DUPSERT_VERSION='"$(VERSION)"'
TCLSH    ?= tclsh
SQLITE3  ?= sqlite3
CPPCHECK ?= cppcheck
PREFIX   ?= /usr/local
DESTDIR  ?=
BENCH_FLAGS      ?=
SEED_BENCH_FLAGS ?=
GO       ?= go
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  ?= -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

UNAME := $(shell uname -s)
ifeq ($(UNAME),Darwin)
  SUFFIX := dylib
  SHARED := -dynamiclib
else ifneq (,$(findstring MINGW,$(UNAME))$(findstring MSYS,$(UNAME)))
  SUFFIX := dll
  SHARED := -shared
else
  SUFFIX := so
  SHARED := -shared
endif

EXT := dist/upsert.$(SUFFIX)

# The installed copy of the extension.  `.load upsert` and
# load_extension('upsert') make SQLite dlopen() "upsert", then
# "upsert.so", a name without a slash, which the loader looks for in
# LD_LIBRARY_PATH, its cache (ldconfig) and /lib, /usr/lib.  ldconfig
# caches only files named lib*, under their soname: so on Linux the
# installed file is libupsert.so with the soname upsert.so, and the
# symlink upsert.so -> libupsert.so beside it (which ldconfig would make
# too, but a staged install runs no ldconfig).  dist/upsert.so carries no
# soname.  On macOS and Windows the installed file is upsert.$(SUFFIX)
# itself, as built: macOS's dlopen() finds a bare name in
# DYLD_FALLBACK_LIBRARY_PATH, whose default has /usr/local/lib, and has no
# ldconfig.
ifeq ($(SUFFIX),so)
  INSTALL_LIB := libupsert.so
  INSTALL_LDFLAGS := -Wl,-soname,upsert.so
else
  INSTALL_LIB := upsert.$(SUFFIX)
  INSTALL_LDFLAGS :=
endif
LIBDIR := $(DESTDIR)$(PREFIX)/lib

.PHONY: all test demo install uninstall test-install bench bench-python bench-cli \
  bench-callgrind bench-sync bench-doc asan valgrind fuzz fuzz-ci oom crash \
  test-clients package-python test-python package-node test-node lint \
  clean deps deps-clients deps-packages deps-fuzz deps-lint test-dqlite \
  bench-dqlite deps-dqlite

all: $(EXT) dist/sqlite-upsert

# A new VERSION rebuilds whatever has the extension in it.
$(EXT) dist/future/upsert.$(SUFFIX) dist/embed dist/embed_example \
  dist/future/embed_example dist/sqlite-upsert dist/oom \
  dist/install/$(INSTALL_LIB) \
  dist/asan/upsert.$(SUFFIX) dist/asan/sqlite-upsert dist/fuzz_create \
  dist/fuzz_diff dist/dqlite/upsert-node dist/dqlite/upsert-node-future: \
  VERSION

$(EXT): ext/upsert.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) -fPIC $(SHARED) ext/upsert.c -o $@

# A copy that demands a SQLite newer than any, to test the version check.
dist/future/upsert.$(SUFFIX): ext/upsert.c
	@mkdir -p dist/future
	$(CC) $(CFLAGS) $(WARN) -fPIC $(SHARED) -DUPSERT_MIN_VERSION=99000000 \
	  ext/upsert.c -o $@

# The extension compiled into a program, as an application embeds it.
dist/embed: test/embed.c ext/upsert.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE test/embed.c ext/upsert.c \
	  -lsqlite3 -o $@

# Child processes of test/crash.test and test/conc.test (crash safety and
# concurrency, issue 5): system libsqlite3, the extension loaded at run time.
HELPERS := dist/crashchild dist/concchild
# What test/*.test runs besides the extension under test.
SUITE := dist/future/upsert.$(SUFFIX) dist/embed $(HELPERS)
dist/crashchild: test/crashchild.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) test/crashchild.c -lsqlite3 -o $@
dist/concchild: test/concchild.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) test/concchild.c -lsqlite3 -o $@

# The C client recipe: the extension compiled into a program that
# bulk-upserts and prints its counts (tool/examples/embed_example.c).
dist/embed_example: tool/examples/embed_example.c ext/upsert.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE tool/examples/embed_example.c \
	  ext/upsert.c -lsqlite3 -o $@

# The same, demanding a SQLite newer than any: its open must fail clearly.
dist/future/embed_example: tool/examples/embed_example.c ext/upsert.c
	@mkdir -p dist/future
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE -DUPSERT_MIN_VERSION=99000000 \
	  tool/examples/embed_example.c ext/upsert.c -lsqlite3 -o $@

# The command-line tool (issue 6): the extension compiled in; CSV and TSV
# are read with libcsv (Debian's libcsv-dev), JSON arrays streamed with
# yajl (libyajl-dev).
CLI_LIBS := -lsqlite3 -lcsv -lyajl
dist/sqlite-upsert: tool/sqlite-upsert/sqlite-upsert.c ext/upsert.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE tool/sqlite-upsert/sqlite-upsert.c \
	  ext/upsert.c $(CLI_LIBS) -o $@

# The Debian packages (tool/deps.sh installs what is missing as root, or
# prints the apt-get command and fails).
deps:
	@sh tool/deps.sh

deps-clients:
	@sh tool/deps.sh clients

# Client recipes: C embedded, Python with SQLAlchemy, Node.js with
# better-sqlite3 (npm-installed into test/clients/node on first use).
test-clients: deps-clients $(EXT) dist/embed_example dist/future/embed_example
	sh tool/scripts/test-clients.sh

# The Python package (tool/python): a wheel that carries the extension,
# compiled by setuptools from ext/upsert.c, built offline with Debian's
# python3-setuptools and python3-wheel; the version is the file VERSION.
deps-packages: deps
	@sh tool/deps.sh packages

package-python: deps-packages
	rm -rf dist/wheels tool/python/build tool/python/sqlite_upsert.egg-info
	cd tool/python && /usr/bin/python3 -m pip wheel -q --no-build-isolation \
	  --no-index --no-deps -w ../../dist/wheels .
	rm -rf tool/python/build tool/python/sqlite_upsert.egg-info

test-python: package-python
	sh tool/scripts/test-python.sh

# The npm package (tool/node): getLoadablePath() and load(db) for
# better-sqlite3, with the extension of dist/ packed in (Node.js and npm
# are the machine's, as for make test-clients).
package-node: $(EXT)
	sh tool/scripts/package-node.sh $(SUFFIX)

test-node: package-node
	sh tool/scripts/test-node.sh

test: deps $(EXT) $(SUITE) dist/sqlite-upsert dist/oom
	$(TCLSH) test/all.tcl
	dist/oom

# UPSERT_CRASH_KILLS=N and UPSERT_CONC_TXN=N make them longer.
crash: deps $(EXT) $(HELPERS)
	UPSERT_CRASH_VERBOSE=1 UPSERT_CONC_VERBOSE=1 \
	  $(TCLSH) test/all.tcl test/crash.test test/conc.test

# The extension and the whole suite under AddressSanitizer and
# UndefinedBehaviorSanitizer.  tclsh is not instrumented, so the runtime is
# preloaded; leaks are checked for the extension only (test/lsan.supp
# silences Tcl's own, which it frees at exit by design).
ASAN_LIB := $(shell $(CC) -print-file-name=libasan.so)
UBSAN_LIB := $(shell $(CC) -print-file-name=libubsan.so)
ASAN_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined
dist/asan/upsert.$(SUFFIX): ext/upsert.c
	@mkdir -p dist/asan
	$(CC) $(ASAN_CFLAGS) $(WARN) -fPIC $(SHARED) ext/upsert.c -o $@
dist/asan/sqlite-upsert: tool/sqlite-upsert/sqlite-upsert.c ext/upsert.c
	@mkdir -p dist/asan
	$(CC) $(ASAN_CFLAGS) $(WARN) -DSQLITE_CORE \
	  tool/sqlite-upsert/sqlite-upsert.c ext/upsert.c $(CLI_LIBS) -o $@

asan: deps $(EXT) dist/asan/upsert.$(SUFFIX) $(SUITE) dist/asan/sqlite-upsert
	LD_PRELOAD="$(ASAN_LIB) $(UBSAN_LIB)" \
	UPSERT_CLI=$(CURDIR)/dist/asan/sqlite-upsert \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	UPSERT_EXT=$(CURDIR)/dist/asan/upsert $(TCLSH) test/all.tcl

# The suite under valgrind memcheck: no error, and no leak definitely
# lost (Tcl keeps memory "possibly lost" by design).
valgrind: deps $(EXT) $(SUITE) dist/sqlite-upsert
	UPSERT_CLI=$(CURDIR)/tool/scripts/valgrind-cli.sh \
	valgrind --quiet --error-exitcode=9 --leak-check=full \
	  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  --trace-children=no $(TCLSH) test/all.tcl

# Bulk-upsert methods side by side (tool/bench/bench.c; flags:
# dist/bench -h).
dist/bench: tool/bench/bench.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) tool/bench/bench.c -lsqlite3 -o $@

# Every benchmark but callgrind's: bench-cli first, then dist/bench,
# seed_bench.py and bench-sync.
bench: bench-cli $(EXT) dist/bench dist/bench-sync
	dist/bench $(BENCH_FLAGS)
	/usr/bin/python3 tool/bench/seed_bench.py $(SEED_BENCH_FLAGS)
	sh tool/bench/bench-sync.sh

# A re-import of a feed (tool/bench/bench-sync.c): wall time, pages
# written and WAL bytes of each method, and callgrind's instructions
# (valgrind, if installed), as a table (tool/bench/bench-sync.sh;
# SYNC_ROWS chooses the table's size, 1000000 by default).
dist/bench-sync: tool/bench/bench-sync.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) tool/bench/bench-sync.c -lsqlite3 -o $@

bench-sync: $(EXT) dist/bench-sync
	sh tool/bench/bench-sync.sh

# From Python: SQLAlchemy's bulk-upsert answers, a native executemany and
# upsert_into (Debian's python3 and python3-sqlalchemy: tool/deps.sh clients).
bench-python: $(EXT)
	/usr/bin/python3 tool/bench/seed_bench.py $(SEED_BENCH_FLAGS)

# sqlite-upsert against the sqlite3 shell's .import into an upsert_into
# table and sqlite-utils upsert, on a generated 1M-row CSV
# (tool/bench/bench-cli.sh; installs Debian's sqlite-utils as root).
bench-cli: $(EXT) dist/sqlite-upsert
	sh tool/bench/bench-cli.sh

# Instructions per method under callgrind (needs valgrind).
bench-callgrind: $(EXT) dist/bench
	sh tool/bench/bench-callgrind.sh

# The tables of doc/benchmarks.md, from a run on this machine, with the
# machine and SQLite version (the variables of tool/bench/report.sh, e.g.
# BENCH_FLAGS=-q, choose a quick run).
bench-doc: $(EXT) dist/bench dist/sqlite-upsert dist/bench-sync
	sh tool/bench/report.sh
	sh tool/bench/bench-sync.sh --doc

demo: deps $(EXT)
	$(SQLITE3) :memory: < tool/examples/demo.sql

clean:
	rm -rf dist tool/python/build tool/python/sqlite_upsert.egg-info

# The installed copy: see INSTALL_LIB.
dist/install/$(INSTALL_LIB): ext/upsert.c
	@mkdir -p dist/install
	$(CC) $(CFLAGS) $(WARN) -fPIC $(SHARED) $(INSTALL_LDFLAGS) \
	  ext/upsert.c -o $@

# Install the extension and the command-line tool.  Then, unless staged
# (DESTDIR), tool/scripts/ldconfig.sh refreshes the loader's cache as
# root and says whether `.load upsert` now finds $(PREFIX)/lib/upsert.so
# (it does when $(PREFIX)/lib is in /etc/ld.so.conf, as /usr/local/lib is
# on Debian), or what to do.  The full path always works:
# .load $(PREFIX)/lib/upsert
install: all dist/install/$(INSTALL_LIB)
	install -d $(LIBDIR) $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 dist/install/$(INSTALL_LIB) $(LIBDIR)/$(INSTALL_LIB)
ifeq ($(SUFFIX),so)
	ln -sf $(INSTALL_LIB) $(LIBDIR)/upsert.so
endif
	install -m 755 dist/sqlite-upsert $(DESTDIR)$(PREFIX)/bin/sqlite-upsert
	install -m 644 tool/sqlite-upsert/sqlite-upsert.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/sqlite-upsert.1
	@sh tool/scripts/ldconfig.sh install '$(SUFFIX)' '$(PREFIX)' '$(DESTDIR)'
uninstall:
	rm -f $(LIBDIR)/$(INSTALL_LIB) $(LIBDIR)/upsert.$(SUFFIX) \
	  $(DESTDIR)$(PREFIX)/bin/sqlite-upsert \
	  $(DESTDIR)$(PREFIX)/share/man/man1/sqlite-upsert.1
	@sh tool/scripts/ldconfig.sh uninstall '$(SUFFIX)' '$(PREFIX)' '$(DESTDIR)'

# As root, a real install into PREFIX: `.load upsert` and
# load_extension('upsert') from /tmp, without LD_LIBRARY_PATH, then
# make uninstall, and the loader no longer finds it.  Refuses to run over
# an install already there.  Skipped, with a message, when not root.
test-install: all dist/install/$(INSTALL_LIB)
	sh tool/scripts/test-install.sh '$(PREFIX)'

# Out of memory (issue 5): the extension compiled in, every allocation made
# by each scenario's statement failed in turn, once and from there on
# (test/oom.c).  Part of make test.
dist/oom: test/oom.c ext/upsert.c
	@mkdir -p dist
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE test/oom.c ext/upsert.c \
	  -lsqlite3 -o $@

oom: deps dist/oom
	dist/oom

# Fuzzing (issue 5): libFuzzer targets with ASan and UBSan, the extension
# compiled in.  test/fuzz_create.c fuzzes the arguments of CREATE VIRTUAL
# TABLE and works out each table created; test/fuzz_diff.c runs random
# schemas, options and rows through the virtual table and through the
# equivalent hand-written native statements, and compares.  `make fuzz`
# runs each for FUZZ_SECONDS (60) on dist/fuzz/NAME/, a corpus seeded from
# test/fuzz/NAME/ (never written); `make fuzz-ci` runs each for 20 seconds.
# A finding stops the run and leaves its input in dist/fuzz/
# (tool/scripts/fuzz.sh prints how to replay it).  Needs clang and
# libclang-rt-14-dev, which `tool/deps.sh fuzz` installs.
FUZZERS := dist/fuzz_create dist/fuzz_diff

dist/fuzz_create: test/fuzz_create.c ext/upsert.c
	@mkdir -p dist
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -DSQLITE_CORE test/fuzz_create.c \
	  ext/upsert.c -lsqlite3 -o $@
dist/fuzz_diff: test/fuzz_diff.c ext/upsert.c
	@mkdir -p dist
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -DSQLITE_CORE test/fuzz_diff.c \
	  ext/upsert.c -lsqlite3 -o $@

deps-fuzz: deps
	@sh tool/deps.sh fuzz

fuzz: deps-fuzz $(FUZZERS)
	sh tool/scripts/fuzz.sh create $(FUZZ_SECONDS)
	sh tool/scripts/fuzz.sh diff $(FUZZ_SECONDS)

fuzz-ci: deps-fuzz $(FUZZERS)
	sh tool/scripts/fuzz.sh create 20
	sh tool/scripts/fuzz.sh diff 20

# Static analysis: cppcheck (Debian's, `tool/deps.sh lint`) over the C of
# the extension, the tool, the C example and the tests.  Its sqlite3 and
# posix libraries stand for the system headers, which it is not given.
# A finding fails.  One that is wrong is suppressed with its reason:
# inline, /* cppcheck-suppress ID ; reason */ on the line before it, or
# by file, ID and symbol in test/cppcheck.supp.xml.
LINT_SRC := ext/upsert.c tool/sqlite-upsert/sqlite-upsert.c \
  tool/examples/embed_example.c tool/dqlite/upsert-node.c \
  $(sort $(wildcard test/*.c))

deps-lint: deps
	@sh tool/deps.sh lint

lint: deps-lint
	$(CPPCHECK) -q --std=c99 --library=posix --library=sqlite3 \
	  --enable=warning,portability,performance --error-exitcode=1 \
	  --inline-suppr --suppress-xml=test/cppcheck.supp.xml $(LINT_SRC)

# dqlite (issue 14, doc/dqlite.md): Debian's libdqlite-dev, go-dqlite and
# the go-dqlite client library, which `tool/deps.sh dqlite` installs.
# dist/dqlite/upsert-node runs one node with the extension compiled in
# and registered on every connection; upsert-node-future demands a SQLite
# newer than any, so that its init fails; dist/dqlite/client forms the
# cluster and runs SQL on its leader, built offline against
# /usr/share/gocode (it imports no cgo package of go-dqlite, so it needs no
# CGO_LDFLAGS_ALLOW), its build cache under dist/.
DQLITE_BIN := dist/dqlite/upsert-node dist/dqlite/upsert-node-future \
  dist/dqlite/client
DQLITE_GOENV := GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
  GOCACHE=$(CURDIR)/dist/dqlite/gocache

dist/dqlite/upsert-node: tool/dqlite/upsert-node.c ext/upsert.c
	@mkdir -p dist/dqlite
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE tool/dqlite/upsert-node.c \
	  ext/upsert.c -ldqlite -lsqlite3 -o $@
dist/dqlite/upsert-node-future: tool/dqlite/upsert-node.c ext/upsert.c
	@mkdir -p dist/dqlite
	$(CC) $(CFLAGS) $(WARN) -DSQLITE_CORE -DUPSERT_MIN_VERSION=99000000 \
	  tool/dqlite/upsert-node.c ext/upsert.c -ldqlite -lsqlite3 -o $@
dist/dqlite/client: tool/dqlite/client.go
	@mkdir -p dist/dqlite
	$(DQLITE_GOENV) $(GO) build -o $@ tool/dqlite/client.go

deps-dqlite: deps
	@sh tool/deps.sh dqlite

# Under a minute (tool/dqlite/run.sh stops it, and every node, at 60 s).
test-dqlite: deps-dqlite $(EXT) $(DQLITE_BIN)
	sh tool/dqlite/run.sh 60 $(TCLSH) test/all.tcl test/dqlite/cluster.test

bench-dqlite: deps-dqlite $(DQLITE_BIN)
	sh tool/dqlite/run.sh 600 $(TCLSH) tool/dqlite/bench.tcl doc/dqlite.md
