// Command client: the dqlite client of make test-dqlite and make
// bench-dqlite, on go-dqlite's client and driver packages.
//
//	client -s ADDR[,ADDR...] [-t SECONDS] COMMAND ...
//
//	add ID ADDRESS   add a node, as a voter (the node must be running)
//	leader           print the leader: "ID ADDRESS"
//	cluster          print each member: "ID ADDRESS ROLE"
//	transfer ID      make node ID the leader
//	exec DB SQL...   run each SQL argument, in order, on one connection
//	                 to the leader; print the rows of each, columns joined
//	                 by "|" as the sqlite3 shell does (NULL as ""); stop
//	                 at the first error, printed as "Error: MSG" on
//	                 standard error, exit status 1
//	session DB       read one statement per line from standard input and
//	                 run it on one connection; print its rows, then
//	                 "-- ok", or "-- error: MSG".  A connection that
//	                 failed (leader gone) is replaced by a new one, to the
//	                 leader of the moment, for the next statement
//	bench DB N K     time N-row upserts through an upsert_into table
//	                 against the native INSERT ... ON CONFLICT, sent in
//	                 four ways, K times each, and print a markdown table
//	                 of the medians
//
// -s lists the nodes to look for the leader among; -t bounds each
// command (default 20 seconds).  Built offline against Debian's
// golang-github-canonical-go-dqlite-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o dist/dqlite/client tool/dqlite/client.go
package main

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canonical/go-dqlite/client"
	dqdriver "github.com/canonical/go-dqlite/driver"
)

var timeout = flag.Int("t", 20, "seconds each command may take")

func main() {
	servers := flag.String("s", "", "comma-separated HOST:PORT of the nodes")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: client -s ADDR[,ADDR...] [-t SECONDS] "+
			"add ID ADDRESS | leader | cluster | transfer ID | exec DB SQL... | "+
			"session DB | bench DB N K")
		os.Exit(2)
	}
	flag.Parse()
	args := flag.Args()
	if *servers == "" || len(args) == 0 {
		flag.Usage()
	}
	store := client.NewInmemNodeStore()
	var infos []client.NodeInfo
	for _, a := range strings.Split(*servers, ",") {
		infos = append(infos, client.NodeInfo{Address: a})
	}
	store.Set(context.Background(), infos)

	var err error
	switch {
	case args[0] == "add" && len(args) == 3:
		err = add(store, args[1], args[2])
	case args[0] == "leader" && len(args) == 1:
		err = leader(store)
	case args[0] == "cluster" && len(args) == 1:
		err = cluster(store)
	case args[0] == "transfer" && len(args) == 2:
		err = transfer(store, args[1])
	case args[0] == "exec" && len(args) >= 3:
		err = execAll(store, args[1], args[2:])
	case args[0] == "session" && len(args) == 2:
		err = session(store, args[1])
	case args[0] == "bench" && len(args) == 4:
		err = bench(store, args[1], args[2], args[3])
	default:
		flag.Usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func deadline() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(),
		time.Duration(*timeout)*time.Second)
}

// withLeader runs f on a client connected to the current leader.
func withLeader(store client.NodeStore, f func(context.Context, *client.Client) error) error {
	ctx, cancel := deadline()
	defer cancel()
	cli, err := client.FindLeader(ctx, store)
	if err != nil {
		return err
	}
	defer cli.Close()
	return f(ctx, cli)
}

func add(store client.NodeStore, id, address string) error {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return err
	}
	return withLeader(store, func(ctx context.Context, cli *client.Client) error {
		return cli.Add(ctx, client.NodeInfo{ID: n, Address: address, Role: client.Voter})
	})
}

func leader(store client.NodeStore) error {
	return withLeader(store, func(ctx context.Context, cli *client.Client) error {
		info, err := cli.Leader(ctx)
		if err != nil {
			return err
		}
		if info == nil {
			return errors.New("no leader")
		}
		fmt.Println(info.ID, info.Address)
		return nil
	})
}

func cluster(store client.NodeStore) error {
	return withLeader(store, func(ctx context.Context, cli *client.Client) error {
		nodes, err := cli.Cluster(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			fmt.Println(n.ID, n.Address, n.Role)
		}
		return nil
	})
}

func transfer(store client.NodeStore, id string) error {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return err
	}
	return withLeader(store, func(ctx context.Context, cli *client.Client) error {
		return cli.Transfer(ctx, n)
	})
}

// openDB returns a database/sql handle on database name of the cluster.
func openDB(store client.NodeStore, name string) (*sql.DB, error) {
	drv, err := dqdriver.New(store,
		dqdriver.WithConnectionBackoffCap(200*time.Millisecond),
		dqdriver.WithAttemptTimeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	conn, err := drv.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// openConn opens database name and one connection of it, which the
// caller closes, and then the database.
func openConn(ctx context.Context, store client.NodeStore, name string) (*sql.DB, *sql.Conn, error) {
	db, err := openDB(store, name)
	if err != nil {
		return nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, conn, nil
}

// returnsRows says whether stmt is run as a query (its rows printed) or
// executed.  dqlite's protocol has the two requests.
func returnsRows(stmt string) bool {
	f := strings.Fields(strings.ToUpper(stmt))
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN":
		return true
	}
	return false
}

// run runs one statement on conn and returns its rows, each a line.
func run(ctx context.Context, conn *sql.Conn, stmt string) ([]string, error) {
	if !returnsRows(stmt) {
		_, err := conn.ExecContext(ctx, stmt)
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]interface{}, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			line[i] = v.String
		}
		out = append(out, strings.Join(line, "|"))
	}
	return out, rows.Err()
}

func execAll(store client.NodeStore, name string, stmts []string) error {
	ctx, cancel := deadline()
	defer cancel()
	db, conn, err := openConn(ctx, store, name)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	for _, s := range stmts {
		out, err := run(ctx, conn, s)
		if err != nil {
			return err
		}
		for _, l := range out {
			fmt.Println(l)
		}
	}
	return nil
}

// session keeps one connection across statements, so that a TEMP table
// lives from one line to the next, until the connection is lost.
func session(store client.NodeStore, name string) error {
	db, err := openDB(store, name)
	if err != nil {
		return err
	}
	defer db.Close()
	var conn *sql.Conn
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		stmt := in.Text()
		ctx, cancel := deadline()
		if conn == nil {
			conn, err = db.Conn(ctx)
		}
		var out []string
		if err == nil {
			out, err = run(ctx, conn, stmt)
		}
		cancel()
		for _, l := range out {
			fmt.Println(l)
		}
		if err != nil {
			fmt.Println("-- error:", strings.ReplaceAll(err.Error(), "\n", " "))
			if errors.Is(err, driver.ErrBadConn) && conn != nil {
				conn.Close()
				conn = nil
			}
			err = nil
		} else {
			fmt.Println("-- ok")
		}
	}
	if conn != nil {
		conn.Close()
	}
	return in.Err()
}

// One measurement: b_target filled with keys 1..N/2, then N rows (keys
// 1..N) upserted into it, so that half update and half insert; every
// method and every run starts from the same table.  The rows come from
// b_staging on the cluster (one INSERT ... SELECT) or from the client,
// bound as parameters.
const benchSchema = `CREATE TABLE %s(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)`
const benchBatch = 50 // rows per statement of the batched way

// A way of sending the rows, run once with the native upsert and once
// through the upsert_into table.
type way struct {
	label string
	once  bool // run once, not K times: 10,000 Raft commits take long
	run   func(ctx context.Context, c *sql.Conn, n int, vtab bool) error
}

// upsertSQL is the statement for rows rows of VALUES: into b_up, or the
// native upsert into b_target.
func upsertSQL(rows int, vtab bool) string {
	vals := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", rows), ", ")
	if vtab {
		return "INSERT INTO b_up(id, name, score) VALUES " + vals
	}
	return "INSERT INTO b_target(id, name, score) VALUES " + vals +
		" ON CONFLICT(id) DO UPDATE SET name=excluded.name, score=excluded.score"
}

// sendRows sends rows i..n, per statements of batch rows each, inside one
// transaction if txn.
func sendRows(ctx context.Context, c *sql.Conn, n, batch int, vtab, txn bool) error {
	if txn {
		if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
			return err
		}
	}
	full := upsertSQL(batch, vtab)
	for i := 1; i <= n; i += batch {
		m := batch
		if i+m-1 > n {
			m = n - i + 1
		}
		stmt := full
		if m != batch {
			stmt = upsertSQL(m, vtab)
		}
		args := make([]interface{}, 0, 3*m)
		for j := i; j < i+m; j++ {
			args = append(args, j, fmt.Sprintf("name %d", j), float64(j)/4)
		}
		if _, err := c.ExecContext(ctx, stmt, args...); err != nil {
			if txn {
				c.ExecContext(ctx, "ROLLBACK")
			}
			return err
		}
	}
	if txn {
		_, err := c.ExecContext(ctx, "COMMIT")
		return err
	}
	return nil
}

var ways = []way{
	{"one `INSERT ... SELECT` from a table on the cluster", false,
		func(ctx context.Context, c *sql.Conn, n int, vtab bool) error {
			stmt := `INSERT INTO b_target SELECT * FROM b_staging WHERE true
			  ON CONFLICT(id) DO UPDATE SET name=excluded.name, score=excluded.score`
			if vtab {
				stmt = `INSERT INTO b_up SELECT * FROM b_staging`
			}
			_, err := c.ExecContext(ctx, stmt)
			return err
		}},
	{fmt.Sprintf("`VALUES` of %d rows a statement, one transaction", benchBatch), false,
		func(ctx context.Context, c *sql.Conn, n int, vtab bool) error {
			return sendRows(ctx, c, n, benchBatch, vtab, true)
		}},
	{"a statement per row, one transaction", false,
		func(ctx context.Context, c *sql.Conn, n int, vtab bool) error {
			return sendRows(ctx, c, n, 1, vtab, true)
		}},
	{"a statement per row, each its own transaction (a Raft commit each; one run)", true,
		func(ctx context.Context, c *sql.Conn, n int, vtab bool) error {
			return sendRows(ctx, c, n, 1, vtab, false)
		}},
}

// benchOne runs one way k times and returns the median time.
func benchOne(ctx context.Context, c *sql.Conn, w way, n, k int, vtab bool) (time.Duration, error) {
	var times []time.Duration
	for r := 0; r < k; r++ {
		for _, s := range []string{
			"DELETE FROM b_target",
			fmt.Sprintf("INSERT INTO b_target SELECT id, 'old', 0 FROM b_staging WHERE id<=%d", n/2),
		} {
			if _, err := c.ExecContext(ctx, s); err != nil {
				return 0, fmt.Errorf("%s: %w", s, err)
			}
		}
		t0 := time.Now()
		if err := w.run(ctx, c, n, vtab); err != nil {
			return 0, fmt.Errorf("%s: %w", w.label, err)
		}
		times = append(times, time.Since(t0))
		// The same table whatever the method: the figures measure the
		// same work.
		var nRows, nSame int
		err := c.QueryRowContext(ctx, `SELECT count(*), count(s.id) FROM b_target t
		  LEFT JOIN b_staging s USING(id, name, score)`).Scan(&nRows, &nSame)
		if err != nil {
			return 0, err
		}
		if nRows != n || nSame != n {
			return 0, fmt.Errorf("%s: %d rows, %d as sent", w.label, nRows, nSame)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func bench(store client.NodeStore, name, sn, sk string) error {
	n, err := strconv.Atoi(sn)
	if err != nil || n < 2 {
		return fmt.Errorf("bench: bad row count '%s'", sn)
	}
	k, err := strconv.Atoi(sk)
	if err != nil || k < 1 {
		return fmt.Errorf("bench: bad repeat count '%s'", sk)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	db, conn, err := openConn(ctx, store, name)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	setup := []string{
		"DROP TABLE IF EXISTS b_target",
		"DROP TABLE IF EXISTS b_staging",
		fmt.Sprintf(benchSchema, "b_target"),
		fmt.Sprintf(benchSchema, "b_staging"),
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<%d)
		  INSERT INTO b_staging SELECT i, 'name ' || i, i/4.0 FROM s`, n),
		"CREATE VIRTUAL TABLE temp.b_up USING upsert_into(b_target)",
	}
	for _, s := range setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	fmt.Printf("| %d rows (%d new, %d updated), median of %d | native upsert | upsert_into | ratio |\n",
		n, n-n/2, n/2, k)
	fmt.Println("|---|---:|---:|---:|")
	for _, w := range ways {
		runs := k
		if w.once {
			runs = 1
		}
		tn, err := benchOne(ctx, conn, w, n, runs, false)
		if err != nil {
			return err
		}
		tv, err := benchOne(ctx, conn, w, n, runs, true)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %s | %s | %.2f |\n", w.label, ms(tn), ms(tv),
			float64(tv)/float64(tn))
	}
	for _, s := range []string{"DROP TABLE b_up", "DROP TABLE b_target", "DROP TABLE b_staging"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
