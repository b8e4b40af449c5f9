# A local dqlite cluster for test/dqlite/cluster.test and
# tool/dqlite/bench.tcl: nodes of dist/dqlite/upsert-node on 127.0.0.1,
# and dist/dqlite/client to form it and run SQL on its leader.
#
#   dq_init DIR N             N free loopback ports, data under DIR
#   dq_start ID ?-bin PATH? ?FLAGS?
#                             start node ID (of PATH, or upsert-node),
#                             wait until it listens; FLAGS go to the
#                             node (-n: no module)
#   dq_stop ID ?SIGNAL?       send SIGNAL (TERM) to node ID, wait for it
#   dq_stop_all               stop every node still running (SIGKILL)
#   dq_form                   add nodes 2..N to node 1's cluster, as voters
#   dq_client ARGS...         run the client; its output, or an error
#   dq_sql STMT...            the client's exec: rows as a list of lines
#   dq_catchsql STMT...       {0 rows} or {1 message}
#   dq_leader                 the leader's ID
#   dq_wait_leader ?NOT?      wait for a leader other than NOT; its ID
#   dq_transfer ID            make ID the leader, retrying while it
#                             catches up
#   dq_session_open, dq_session STMT, dq_session_close
#                             one connection kept across statements
#
# Every wait is bounded (dq_until); a node is only ever signalled by the
# PID this file started it with.

set ::dq(dist) [file join [file dirname [file dirname \
    [file dirname [file normalize [info script]]]]] dist dqlite]
set ::dq(node) [file join $::dq(dist) upsert-node]
set ::dq(client) [file join $::dq(dist) client]
set ::dq(session) ""

# A free TCP port on 127.0.0.1: the one the system picks for a listener,
# closed at once.
proc dq_free_port {} {
  set s [socket -server {apply {{c a p} {close $c}}} -myaddr 127.0.0.1 0]
  set port [lindex [fconfigure $s -sockname] 2]
  close $s
  return $port
}

proc dq_init {dir n} {
  file mkdir $dir
  set ::dq(dir) $dir
  set ::dq(n) $n
  set addrs {}
  for {set i 1} {$i <= $n} {incr i} {
    set ::dq(addr,$i) 127.0.0.1:[dq_free_port]
    lappend addrs $::dq(addr,$i)
  }
  set ::dq(servers) [join $addrs ,]
}

# Evaluate script until it returns true, every 50 ms, for at most ms
# milliseconds; an error if it never does.
proc dq_until {ms what script} {
  set end [expr {[clock milliseconds] + $ms}]
  while {1} {
    if {[uplevel 1 $script]} return
    if {[clock milliseconds] > $end} { error "timed out: $what" }
    after 50
  }
}

# Whether process pid runs: it exists and is no zombie (a child of
# exec & stays one until Tcl reaps it).  Linux's /proc, as dqlite.
proc dq_alive {pid} {
  if {[catch {open /proc/$pid/stat} fd]} { return 0 }
  set s [read $fd]
  close $fd
  expr {[lindex [string range $s [string last ")" $s]+1 end] 0] ne "Z"}
}

proc dq_start {id args} {
  set bin $::dq(node)
  if {[lindex $args 0] eq "-bin"} {
    set bin [lindex $args 1]
    set args [lrange $args 2 end]
  }
  set log [file join $::dq(dir) node$id.log]
  set fd [open $log a]
  puts $fd "--- start [clock format [clock seconds] -gmt 1] $args"
  close $fd
  set pid [exec $bin {*}$args $id $::dq(addr,$id) \
      [file join $::dq(dir) node$id] >>& $log &]
  dq_record $pid
  set ::dq(pid,$id) $pid
  set ::dq(log,$id) $log
  dq_until 5000 "node $id ready" {
    if {![dq_alive $pid]} { error "node $id exited: [dq_tail $id]" }
    string match "*ready on $::dq(addr,$id)*" [dq_tail $id]
  }
  return $pid
}

# What node id wrote since it last started.
proc dq_tail {id} {
  set fd [open $::dq(log,$id)]
  set s [read $fd]
  close $fd
  set i [string last "--- start " $s]
  string range $s [string first "\n" $s $i]+1 end
}

proc dq_stop {id {sig TERM}} {
  if {![info exists ::dq(pid,$id)]} return
  set pid $::dq(pid,$id)
  unset ::dq(pid,$id)
  catch {exec kill -$sig $pid}
  dq_until 5000 "node $id stopped" { expr {![dq_alive $pid]} }
}

proc dq_stop_all {} {
  dq_session_close
  foreach k [array names ::dq pid,*] {
    dq_stop [lindex [split $k ,] 1] KILL
  }
}

# Each PID started is also written to DIR/pids, for a runner that stops
# them if this interpreter is killed (tool/dqlite/run.sh).
proc dq_record {pids} {
  set fd [open [file join $::dq(dir) pids] a]
  puts $fd [join $pids "\n"]
  close $fd
}

proc dq_client {args} {
  exec $::dq(client) -s $::dq(servers) -t 5 {*}$args
}

proc dq_form {} {
  for {set i 2} {$i <= $::dq(n)} {incr i} {
    dq_client add $i $::dq(addr,$i)
  }
}

proc dq_sql {args} {
  split [dq_client exec test {*}$args] "\n"
}

# The message of a failed client run is its last line, "Error: MSG".
proc dq_catchsql {args} {
  if {[catch {dq_sql {*}$args} res]} {
    set l [lindex [split [string trim $res] "\n"] end]
    regsub {^Error: } $l {} l
    return [list 1 $l]
  }
  list 0 $res
}

proc dq_leader {} {
  lindex [dq_client leader] 0
}

proc dq_wait_leader {{not ""}} {
  set ::dq(leader) ""
  dq_until 10000 "a leader other than '$not'" {
    catch {set ::dq(leader) [dq_leader]}
    expr {$::dq(leader) ne "" && $::dq(leader) ne $not}
  }
  return $::dq(leader)
}

proc dq_transfer {id} {
  dq_until 10000 "node $id leads" {
    catch {dq_client transfer $id}
    expr {![catch {dq_leader} l] && $l eq $id}
  }
  return $id
}

# The session: dist/dqlite/client session, through a pipe.  dq_session
# sends one statement, on one line (its line ends become spaces), and
# reads up to its "-- ok" or "-- error: MSG"; returns {0 rows} or {1 MSG}.
proc dq_session_open {} {
  set ::dq(session) [open [list | $::dq(client) -s $::dq(servers) -t 10 \
      session test 2>@1] r+]
  fconfigure $::dq(session) -blocking 0 -buffering line
  dq_record [pid $::dq(session)]
}

proc dq_session {stmt} {
  set fd $::dq(session)
  puts $fd [string map {"\n" " "} $stmt]
  set rows {}
  set end [expr {[clock milliseconds] + 15000}]
  while {1} {
    set n [gets $fd line]
    if {$n < 0} {
      if {[eof $fd]} { error "session ended: $rows" }
      if {[clock milliseconds] > $end} { error "session timed out: $stmt" }
      after 20
      continue
    }
    if {$line eq "-- ok"} { return [list 0 $rows] }
    if {[regexp {^-- error: (.*)$} $line -> msg]} { return [list 1 $msg] }
    lappend rows $line
  }
}

proc dq_session_close {} {
  if {$::dq(session) eq ""} return
  set fd $::dq(session)
  set ::dq(session) ""
  set pids [pid $fd]
  # End of input ends the client; it is killed if it has not ended in 2 s.
  # Until the close below reaps it, its PID cannot be reused.
  catch {close $fd write}
  set end [expr {[clock milliseconds] + 2000}]
  while {![eof $fd] && [clock milliseconds] < $end} {
    catch {read $fd}
    after 20
  }
  foreach p $pids {
    if {[dq_alive $p]} { catch {exec kill -KILL $p} }
  }
  catch {close $fd}
}
