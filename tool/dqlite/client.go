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
//	                 against the native INSERT ... ON CONFLICT, K times
//	                 each, and print a markdown table of the medians
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
	db, err := openDB(store, name)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
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

// The statements of one measurement: a table filled with keys 1..N/2,
// then N rows (keys 1..N) upserted into it, so that half update and half
// insert.  Each method starts from the same table.
const benchSchema = `CREATE TABLE %s(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)`
const benchNative = `INSERT INTO %s(id, name, score) VALUES(?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET name=excluded.name, score=excluded.score`
const benchVtab = `INSERT INTO %s(id, name, score) VALUES(?, ?, ?)`

type method struct {
	label string
	run   func(ctx context.Context, conn *sql.Conn, n int) error
}

// benchRows sends n rows, one statement each, in one transaction.
func benchRows(ctx context.Context, conn *sql.Conn, stmt string, n int) error {
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if _, err := conn.ExecContext(ctx, stmt, i, fmt.Sprintf("name %d", i), float64(i)/4); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
	}
	_, err := conn.ExecContext(ctx, "COMMIT")
	return err
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
	db, err := openDB(store, name)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
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
	methods := []method{
		{"native `INSERT ... SELECT ... ON CONFLICT DO UPDATE`, one statement",
			func(ctx context.Context, c *sql.Conn, n int) error {
				_, err := c.ExecContext(ctx, `INSERT INTO b_target SELECT * FROM b_staging WHERE true
				  ON CONFLICT(id) DO UPDATE SET name=excluded.name, score=excluded.score`)
				return err
			}},
		{"upsert_into `INSERT INTO b_up SELECT ...`, one statement",
			func(ctx context.Context, c *sql.Conn, n int) error {
				_, err := c.ExecContext(ctx, `INSERT INTO b_up SELECT * FROM b_staging`)
				return err
			}},
		{"native `INSERT ... ON CONFLICT DO UPDATE`, a statement per row, one transaction",
			func(ctx context.Context, c *sql.Conn, n int) error {
				return benchRows(ctx, c, fmt.Sprintf(benchNative, "b_target"), n)
			}},
		{"upsert_into `INSERT INTO b_up VALUES(...)`, a statement per row, one transaction",
			func(ctx context.Context, c *sql.Conn, n int) error {
				return benchRows(ctx, c, fmt.Sprintf(benchVtab, "b_up"), n)
			}},
	}
	fmt.Printf("| method (%d rows: %d new, %d updated) | median of %d | per row |\n",
		n, n-n/2, n/2, k)
	fmt.Println("|---|---|---|")
	for _, m := range methods {
		var times []time.Duration
		for r := 0; r < k; r++ {
			for _, s := range []string{
				"DELETE FROM b_target",
				fmt.Sprintf("INSERT INTO b_target SELECT id, 'old', 0 FROM b_staging WHERE id<=%d", n/2),
			} {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			t0 := time.Now()
			if err := m.run(ctx, conn, n); err != nil {
				return fmt.Errorf("%s: %w", m.label, err)
			}
			times = append(times, time.Since(t0))
			// The same result whatever the method: the check that the
			// figures measure the same work.
			var nRows, nOld int
			err := conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name='old')
			  FROM b_target`).Scan(&nRows, &nOld)
			if err != nil {
				return err
			}
			if nRows != n || nOld != 0 {
				return fmt.Errorf("%s: %d rows, %d not updated", m.label, nRows, nOld)
			}
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		med := times[len(times)/2]
		fmt.Printf("| %s | %.1f ms | %.1f µs |\n", m.label,
			float64(med.Microseconds())/1000, float64(med.Microseconds())/float64(n))
	}
	for _, s := range []string{"DROP TABLE b_up", "DROP TABLE b_target", "DROP TABLE b_staging"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
