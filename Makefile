# upsert_into: a SQLite loadable extension.  See README.md.
#
#   make            build dist/upsert.$(SUFFIX)
#   make test       build, then run every test/*.test
#   make demo       build, then a short demo in the sqlite3 shell
#   make clean

CC      ?= cc
CFLAGS  ?= -g -O2
WARN    := -std=c99 -Wall -Wextra -Wno-unused-parameter
TCLSH   ?= tclsh
SQLITE3 ?= sqlite3

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

.PHONY: all test demo deps clean

all: $(EXT)

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

deps:
	@sh tool/deps.sh

test: deps $(EXT) dist/future/upsert.$(SUFFIX) dist/embed
	$(TCLSH) test/all.tcl

demo: deps $(EXT)
	$(SQLITE3) :memory: < tool/demo.sql

clean:
	rm -rf dist
