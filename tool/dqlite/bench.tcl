# make bench-dqlite: a 10,000-row upsert on a 3-node dqlite cluster on
# 127.0.0.1, through an upsert_into table against the native INSERT ...
# ON CONFLICT DO UPDATE (dist/dqlite/client bench), and the table of
# figures written into DOC in place of what stands between the lines
# <!-- bench-dqlite:begin --> and <!-- bench-dqlite:end -->.
#
#   tclsh tool/dqlite/bench.tcl DOC
#
# UPSERT_DQLITE_ROWS (10000) and UPSERT_DQLITE_RUNS (5) change the
# configuration.  Run by tool/dqlite/run.sh, which gives the scratch
# directory (UPSERT_DQLITE_DIR) and stops the nodes whatever happens.
source [file join [file dirname [file normalize [info script]]] cluster.tcl]

proc env {name default} {
  if {[info exists ::env($name)]} { return $::env($name) }
  return $default
}
if {[llength $argv] != 1} {
  puts stderr "usage: tclsh tool/dqlite/bench.tcl DOC"
  exit 2
}
set doc [lindex $argv 0]
set rows [env UPSERT_DQLITE_ROWS 10000]
set runs [env UPSERT_DQLITE_RUNS 5]
set dir [env UPSERT_DQLITE_DIR [file join $::dq(dist) bench]]

set begin "<!-- bench-dqlite:begin -->\n"
set end "<!-- bench-dqlite:end -->\n"
# The text of doc and where its markers are: read before the run, to
# fail at once, and again after it, to keep what was edited meanwhile.
proc read_doc {doc} {
  set fd [open $doc]
  set text [read $fd]
  close $fd
  set i [string first $::begin $text]
  set j [string first $::end $text]
  if {$i < 0 || $j < $i} {
    puts stderr "bench.tcl: $doc has no [string trim $::begin] and\
      [string trim $::end] lines"
    exit 1
  }
  list $text $i $j
}
read_doc $doc

proc cpu {} {
  set fd [open /proc/cpuinfo]
  set s [read $fd]
  close $fd
  if {[regexp -line {^model name\s*:\s*(.*)$} $s -> m]} { return $m }
  return "unknown CPU"
}

try {
  file delete -force [file join $dir cluster]
  dq_init [file join $dir cluster] 3
  foreach n {1 2 3} { dq_start $n }
  dq_form
  set sqlite [dq_sql {SELECT sqlite_version()}]
  puts stderr "bench.tcl: $rows rows, $runs runs, on $::dq(servers)"
  set table [exec $::dq(client) -s $::dq(servers) bench test $rows $runs]
} finally {
  dq_stop_all
}
if {[catch {exec dpkg-query -W -f {${Version}} libdqlite0} dqlite]} {
  set dqlite "(version unknown)"
}

set s "<!-- Written by make bench-dqlite (tool/dqlite/bench.tcl);\
  do not edit by hand. -->\n\n"
append s "Measured by `make bench-dqlite` on [cpu],\
  [exec nproc] cores: three nodes of `dist/dqlite/upsert-node` on this\
  machine's loopback, libdqlite $dqlite, SQLite $sqlite, the client\
  `dist/dqlite/client bench test $rows $runs` connected to the leader.\n\n"
append s $table "\n"
lassign [read_doc $doc] text i j
set head [string range $text 0 [expr {$i + [string length $begin] - 1}]]
set text $head$s[string range $text $j end]
set fd [open $doc w]
puts -nonewline $fd $text
close $fd
puts $table
puts stderr "bench.tcl: $doc rewritten"
