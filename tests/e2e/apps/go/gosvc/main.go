// tests/e2e/apps/go/gosvc - a Go net/http service that knows nothing about
// redtap, for tests/e2e/test_go_traces.sh and bench/gosvc.sh (issue 12). Its
// handler does what a typical Go service does: a call to a downstream HTTP
// service (net/http client: the bytes move on the connection's writeLoop and
// readLoop goroutines), a PostgreSQL query (database/sql + lib/pq) and a
// Redis GET (redigo pool), with GOMAXPROCS goroutines spread over threads.
//
//	gosvc serve PORT DOWNSTREAM_PORT PGPORT RDPORT   the service: GET /work
//	    (GOSVC_WRAP_DIAL=1: its client dials through a net.Conn of its own)
//	gosvc down PORT                                  the downstream: GET /down
//	gosvc load PORT N CONC FILE                      N requests, CONC at once,
//	    each with its own W3C traceparent; writes "traceid" lines to FILE
//	gosvc bench PORT SECONDS CONC [GAP_MS]           prints "req/s p50_us p99_us";
//	    with GAP_MS each of the CONC clients waits that long between two
//	    requests (a fixed load well below saturation), else none waits
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomodule/redigo/redis"
	_ "github.com/lib/pq"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "gosvc: "+format+"\n", a...)
	os.Exit(1)
}

type wrappedConn struct{ net.Conn }

func serve(port, down, pg, rd string) {
	db, err := sql.Open("postgres", "host=127.0.0.1 port="+pg+
		" dbname=redtap user=postgres sslmode=disable")
	if err != nil {
		die("sql: %v", err)
	}
	// 16 each: four services of the test stay below PostgreSQL's 100 clients
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	pool := &redis.Pool{
		MaxIdle: 64,
		Dial:    func() (redis.Conn, error) { return redis.Dial("tcp", "127.0.0.1:"+rd) },
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	if os.Getenv("GOSVC_WRAP_DIAL") != "" {
		// a dialer's own net.Conn around the socket, as some services have
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, n, a string) (net.Conn, error) {
			c, err := d.DialContext(ctx, n, a)
			if err != nil {
				return nil, err
			}
			return wrappedConn{c}, nil
		}
	}
	client := &http.Client{Transport: tr}
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get("http://127.0.0.1:" + down + "/down")
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM orders WHERE id < $1", 50).Scan(&n); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		c := pool.Get()
		_, err = redis.String(c.Do("GET", "greeting"))
		c.Close()
		if err != nil && err != redis.ErrNil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "ok %d\n", n)
	})
	die("%v", http.ListenAndServe("127.0.0.1:"+port, nil))
}

func downstream(port string) {
	http.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, "down\n")
	})
	die("%v", http.ListenAndServe("127.0.0.1:"+port, nil))
}

func traceparent() (string, string) {
	var b [24]byte
	rand.Read(b[:])
	tid := hex.EncodeToString(b[:16])
	return tid, "00-" + tid + "-" + hex.EncodeToString(b[16:]) + "-01"
}

func get(c *http.Client, url string) bool {
	req, _ := http.NewRequest("GET", url, nil)
	_, tp := traceparent()
	req.Header.Set("traceparent", tp)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

func load(port string, n, conc int, file string) {
	f, err := os.Create(file)
	if err != nil {
		die("%v", err)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var next, failed int64
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(n) {
				req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/work", nil)
				tid, tp := traceparent()
				req.Header.Set("traceparent", tp)
				resp, err := c.Do(req)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					atomic.AddInt64(&failed, 1)
					continue
				}
				mu.Lock()
				fmt.Fprintln(f, tid)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	f.Close()
	fmt.Printf("failed=%d\n", failed)
}

func bench(port string, secs, conc int, gap time.Duration) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	lat := make([][]time.Duration, conc)
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for time.Now().Before(stop) {
				t0 := time.Now()
				if get(c, "http://127.0.0.1:"+port+"/work") {
					lat[i] = append(lat[i], time.Since(t0))
				}
				if gap > 0 {
					time.Sleep(gap)
				}
			}
		}(i)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		die("bench: no request succeeded")
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	fmt.Printf("%.0f %d %d\n", float64(len(all))/float64(secs),
		all[len(all)*50/100].Microseconds(), all[len(all)*99/100].Microseconds())
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		die("not a number: %s", s)
	}
	return n
}

func main() {
	a := os.Args
	switch {
	case len(a) == 6 && a[1] == "serve":
		serve(a[2], a[3], a[4], a[5])
	case len(a) == 3 && a[1] == "down":
		downstream(a[2])
	case len(a) == 6 && a[1] == "load":
		load(a[2], atoi(a[3]), atoi(a[4]), a[5])
	case len(a) == 5 && a[1] == "bench":
		bench(a[2], atoi(a[3]), atoi(a[4]), 0)
	case len(a) == 6 && a[1] == "bench":
		bench(a[2], atoi(a[3]), atoi(a[4]), time.Duration(atoi(a[5]))*time.Millisecond)
	default:
		die("usage: gosvc serve PORT DOWN PGPORT RDPORT | down PORT | load PORT N CONC FILE | bench PORT SECONDS CONC [GAP_MS]")
	}
}
