// tests/e2e/apps/go/dbclient - a Go client of PostgreSQL and Redis that knows
// nothing about redtap, for tests/e2e/test_wire_clients.sh: pure-Go drivers
// (lib/pq, pgx v4, redigo) that the LD_PRELOAD shim cannot see, so every
// operation the test counts comes from the wire parsers.
//
//	dbclient pq     PGPORT N   N queries, one failing (42P01), a transaction
//	dbclient pgx    PGPORT N   N queries, one failing (22012), a transaction,
//	                           a SendBatch of 5 whose third statement fails
//	dbclient redigo RDPORT N   N SETs and N GETs, a pipeline of N GETs
//	                           (Send/Flush/Receive), a WRONGTYPE error
//
// It prints what it did as "name=count" lines and exits non-zero when the
// database did not answer as expected. It waits a second before it starts,
// so that the agent names it from its environment (OTEL_SERVICE_NAME) while
// it lives: a process gone before the agent read its exec record is named
// by its comm.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
	"github.com/lib/pq"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "dbclient: "+format+"\n", a...)
	os.Exit(1)
}

func dsn(port string) string {
	return "host=127.0.0.1 port=" + port + " dbname=redtap user=postgres sslmode=disable"
}

func runPq(port string, n int) {
	db, err := sql.Open("postgres", dsn(port))
	if err != nil {
		die("pq open: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for i := 0; i < n; i++ {
		var item string
		if err := db.QueryRow("SELECT item FROM orders WHERE id = $1", i%100+1).Scan(&item); err != nil {
			die("pq query: %v", err)
		}
	}
	var pqe *pq.Error
	_, err = db.Exec("SELECT * FROM no_such_table")
	if !errors.As(err, &pqe) || pqe.Code != "42P01" {
		die("pq: want 42P01, got %v", err)
	}
	tx, err := db.Begin()
	if err != nil {
		die("pq begin: %v", err)
	}
	if _, err := tx.Exec("UPDATE orders SET item = $1 WHERE id = $2", "pq", 1); err != nil {
		die("pq update: %v", err)
	}
	if err := tx.Commit(); err != nil {
		die("pq commit: %v", err)
	}
	fmt.Printf("select=%d\nfailed=1\nbegin=1\nupdate=1\ncommit=1\n", n)
}

func runPgx(port string, n int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn(port))
	if err != nil {
		die("pgx connect: %v", err)
	}
	defer conn.Close(ctx)
	for i := 0; i < n; i++ {
		var item string
		err := conn.QueryRow(ctx, "SELECT item FROM orders WHERE id = $1", i%100+1).Scan(&item)
		if err != nil {
			die("pgx query: %v", err)
		}
	}
	var pge *pgconn.PgError
	var one int
	err = conn.QueryRow(ctx, "SELECT 1 / (id - id) FROM orders WHERE id = $1", 1).Scan(&one)
	if !errors.As(err, &pge) || pge.Code != "22012" {
		die("pgx: want 22012, got %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		die("pgx begin: %v", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE orders SET item = $1 WHERE id = $2", "pgx", 2); err != nil {
		die("pgx update: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		die("pgx commit: %v", err)
	}
	// a batch: two INSERTs run, the third statement fails, the server skips
	// the last two up to the batch's Sync
	b := &pgx.Batch{}
	b.Queue("INSERT INTO batch_log (n) VALUES ($1)", 1)
	b.Queue("INSERT INTO batch_log (n) VALUES ($1)", 2)
	b.Queue("SELECT 1 / (n - n) FROM batch_log WHERE n = $1", 1)
	b.Queue("DELETE FROM batch_log WHERE n = $1", 1)
	b.Queue("DELETE FROM batch_log WHERE n = $1", 2)
	br := conn.SendBatch(ctx, b)
	for i := 0; i < 2; i++ {
		if _, err := br.Exec(); err != nil {
			die("pgx batch %d: %v", i, err)
		}
	}
	_, err = br.Exec()
	if !errors.As(err, &pge) || pge.Code != "22012" {
		die("pgx batch: want 22012, got %v", err)
	}
	br.Close()
	fmt.Printf("select=%d\nfailed=1\nbegin=1\nupdate=1\ncommit=1\n", n)
	fmt.Printf("batch_insert=2\nbatch_failed=1\nbatch_aborted=2\n")
}

func runRedigo(port string, n int) {
	c, err := redis.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		die("redigo dial: %v", err)
	}
	defer c.Close()
	for i := 0; i < n; i++ {
		if _, err := c.Do("SET", "go:"+strconv.Itoa(i), i); err != nil {
			die("redigo set: %v", err)
		}
		if _, err := redis.Int(c.Do("GET", "go:"+strconv.Itoa(i))); err != nil {
			die("redigo get: %v", err)
		}
	}
	for i := 0; i < n; i++ {
		if err := c.Send("GET", "go:"+strconv.Itoa(i)); err != nil {
			die("redigo send: %v", err)
		}
	}
	if err := c.Flush(); err != nil {
		die("redigo flush: %v", err)
	}
	for i := 0; i < n; i++ {
		if v, err := redis.Int(c.Receive()); err != nil || v != i {
			die("redigo receive %d: %v %v", i, v, err)
		}
	}
	if _, err := c.Do("LPUSH", "go:0", "x"); err == nil || err.Error()[:9] != "WRONGTYPE" {
		die("redigo: want WRONGTYPE, got %v", err)
	}
	fmt.Printf("set=%d\nget=%d\nwrongtype=1\n", n, 2*n)
}

func main() {
	if len(os.Args) != 4 {
		die("usage: dbclient pq|pgx|redigo PORT N")
	}
	n, err := strconv.Atoi(os.Args[3])
	if err != nil || n < 1 {
		die("bad count %q", os.Args[3])
	}
	time.Sleep(time.Second)
	switch os.Args[1] {
	case "pq":
		runPq(os.Args[2], n)
	case "pgx":
		runPgx(os.Args[2], n)
	case "redigo":
		runRedigo(os.Args[2], n)
	default:
		die("unknown client %q", os.Args[1])
	}
}
