# Run every test/*.test file, each in a fresh interpreter.  Prints one
# closing line "N passed, N failed", then the names of the failures, and
# exits non-zero on any failure.
set testdir [file dirname [file normalize [info script]]]
set nPass 0
set nFail 0
set failList {}
set files [lsort [glob [file join $testdir *.test]]]
if {[llength $argv]} {
  set files [lmap f $argv {file normalize $f}]
}
foreach f $files {
  set i [interp create]
  $i eval [list set ::testdir $testdir]
  $i eval [list set argv0 $f]
  if {[catch {$i eval [list source $f]} msg]} {
    incr nFail
    lappend failList "[file tail $f]: $msg"
    puts "! [file tail $f] stopped: $msg"
  }
  incr nPass [$i eval {set ::nPass}]
  incr nFail [$i eval {set ::nFail}]
  lappend failList {*}[$i eval {set ::failList}]
  interp delete $i
}
file delete -force [file join [file dirname $testdir] dist testdir [pid]]
puts "$nPass passed, $nFail failed"
foreach n $failList { puts "  $n" }
exit [expr {$nFail ? 1 : 0}]
