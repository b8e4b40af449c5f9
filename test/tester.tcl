# Test harness for upsert_into, in the idiom of SQLite's test/tester.tcl.
#
#   do_test NAME SCRIPT EXPECTED
#   do_execsql_test NAME SQL EXPECTED
#   do_catchsql_test NAME SQL EXPECTED      EXPECTED is {0 result} or {1 msg}
#   finish_test
#
# A test file sets "set testprefix X"; every test name is prefixed by it.
# The database handle "db" is opened on test.db in a scratch directory
# with the extension loaded.  test/all.tcl runs every file.

package require sqlite3

if {![info exists ::testdir]} {
  set ::testdir [file dirname [file normalize [info script]]]
}
set ::topdir [file dirname $::testdir]
# UPSERT_EXT chooses another build (make asan, make valgrind).
if {![info exists ::ext]} {
  if {[info exists ::env(UPSERT_EXT)]} {
    set ::ext $::env(UPSERT_EXT)
  } else {
    set ::ext [file join $::topdir dist upsert]
  }
}
# dist/sqlite-upsert, or the build UPSERT_CLI names (make asan: a
# sanitized one; make valgrind: tool/scripts/valgrind-cli.sh).
if {[info exists ::env(UPSERT_CLI)]} {
  set ::cli $::env(UPSERT_CLI)
} else {
  set ::cli [file join $::topdir dist sqlite-upsert]
}
if {![info exists ::nPass]} { set ::nPass 0; set ::nFail 0; set ::failList {} }
set ::testprefix ""

# The scratch directory for database files.
# One per process, so that runs side by side do not share files.
set ::scratch [file join $::topdir dist testdir [pid]]
file mkdir $::scratch

proc testfile {name} { file join $::scratch $name }

# Delete files, and their journals, if they exist.
proc forcedelete {args} {
  foreach f $args {
    foreach g [glob -nocomplain $f $f-journal $f-wal $f-shm] {
      file delete -force $g
    }
  }
}

# Open database handle $h on $file with the extension loaded.
proc sqlite_open {h {file ""}} {
  if {$file eq ""} { set file [testfile test.db] }
  sqlite3 $h $file
  $h enable_load_extension 1
  $h eval { SELECT load_extension($::ext) }
}

# Close db, delete test.db and reopen it.
proc reset_db {} {
  catch { db close }
  foreach f [glob -nocomplain [testfile test.db]*] { file delete -force $f }
  sqlite_open db
}

proc do_test {name script expected} {
  set name "$::testprefix-$name"
  if {[info exists ::testfilter] && ![string match $::testfilter $name]} {
    return
  }
  if {[catch {uplevel #0 $script} result]} {
    set result "error: $result"
  }
  if {$result ne $expected} {
    incr ::nFail
    lappend ::failList $name
    puts "! $name expected: \[$expected\]"
    puts "! $name got:      \[$result\]"
  } else {
    incr ::nPass
  }
}

# Text files, UTF-8.  writefile keeps the line ends of $s as given
# ("\r\n" stays "\r\n").
proc readfile {f} {
  set fd [open $f]
  fconfigure $fd -encoding utf-8
  set s [read $fd]
  close $fd
  return $s
}
proc writefile {f s} {
  set fd [open $f w]
  fconfigure $fd -encoding utf-8 -translation lf
  puts -nonewline $fd $s
  close $fd
}

# Random choices for the differential tests (seed with expr srand()).
proc rnd {n} { expr {int(rand()*$n)} }
proc pick {l} { lindex $l [rnd [llength $l]] }

proc execsql {sql {h db}} { uplevel #0 [list $h eval $sql] }
proc catchsql {sql {h db}} {
  set rc [catch {uplevel #0 [list $h eval $sql]} res]
  list $rc $res
}

proc do_execsql_test {name sql expected} {
  do_test $name [list execsql $sql] [list {*}$expected]
}
proc do_catchsql_test {name sql expected} {
  do_test $name [list catchsql $sql] $expected
}

# Return the whole contents of table $t, each value quoted, in order of
# every column.
proc table_content {t {h db}} {
  set cols [$h eval {SELECT name FROM pragma_table_info($t)}]
  set n [llength $cols]
  set sel [join [lmap c $cols {format {quote("%s")} [string map {\" \"\"} $c]}] ,]
  set ord [join [lmap c $cols {format {"%s"} [string map {\" \"\"} $c]}] ,]
  $h eval "SELECT $sel FROM $t ORDER BY $ord"
}

proc finish_test {} {
  catch { db close }
}

reset_db
