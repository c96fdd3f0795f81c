// bench/pace.go - the open-loop load generator of the benchmarks' fixed-rate
// modes (bench/gosvc.sh, bench/app.sh): GET URL at RATE requests a second
// for SECONDS, each request sent at its own scheduled time (start + i/RATE)
// whether or not the ones before it have been answered, on keep-alive
// connections (at most MAXCONNS, 64 by default; a request that finds them
// all busy waits for one).
//
// The request rate does not depend on the service's latency, unlike a
// closed loop of clients with a pause between requests: a slow answer
// delays no later request (no "coordinated omission"), and a request that has
// to wait for a free connection counts that wait in its latency, which runs
// from the moment the request is handed to the HTTP client to the end of
// its response body. So at a fixed rate the throughput says whether the
// service kept up, and the latency percentiles say what a caller waited.
//
// Prints "RPS P50_US P99_US" on stdout: RPS counts the successful responses
// that arrived within the SECONDS window (a service that keeps up answers
// about RATE a second), the percentiles are over every successful request.
// A request unanswered 5 s after it was sent is a failure. Failures and
// requests sent late (the sender itself behind its schedule by more than
// a millisecond) are reported on stderr. Every request carries a fresh W3C
// traceparent, as gosvc's own load does. Exits 1 when no request succeeded.
//
// Standard library only; built in GOPATH mode by bench/lib.sh (pace_build).
//
//	pace URL SECONDS RATE [MAXCONNS]
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

const drain = 5 * time.Second

type result struct {
	lat  time.Duration
	done time.Time
	ok   bool
}

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "pace: "+f+"\n", a...)
	os.Exit(1)
}

func arg(s, what string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		die("%s must be a positive integer, not %q", what, s)
	}
	return n
}

func traceparent() string {
	var b [24]byte
	rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// get sends one request. Its latency counts from the call into the client,
// so the sender's own timer error (waking up after the scheduled time) is
// not the service's; waiting for a connection is.
func get(c *http.Client, url string) result {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return result{}
	}
	req.Header.Set("traceparent", traceparent())
	at := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	now := time.Now()
	return result{lat: now.Sub(at), done: now, ok: err == nil && resp.StatusCode == 200}
}

func main() {
	a := os.Args
	if len(a) != 4 && len(a) != 5 {
		die("usage: pace URL SECONDS RATE [MAXCONNS]")
	}
	url := a[1]
	secs, rate, conns := arg(a[2], "SECONDS"), arg(a[3], "RATE"), 64
	if len(a) == 5 {
		conns = arg(a[4], "MAXCONNS")
	}
	c := &http.Client{
		Timeout: drain,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true},
	}
	n := secs * rate
	res := make([]result, n)
	var wg sync.WaitGroup
	late := 0
	start := time.Now()
	stop := start.Add(time.Duration(secs) * time.Second)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		} else if d < -time.Millisecond {
			late++
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res[i] = get(c, url)
		}(i)
	}
	wg.Wait()
	var lat []time.Duration
	inWindow, failed := 0, 0
	for _, r := range res {
		if !r.ok {
			failed++
			continue
		}
		lat = append(lat, r.lat)
		if r.done.Before(stop) {
			inWindow++
		}
	}
	if failed > 0 || late > 0 {
		fmt.Fprintf(os.Stderr, "pace: %d of %d requests failed, %d sent more than 1 ms late\n",
			failed, n, late)
	}
	if len(lat) == 0 {
		die("no request succeeded")
	}
	sort.Slice(lat, func(x, y int) bool { return lat[x] < lat[y] })
	fmt.Printf("%.0f %d %d\n", float64(inWindow)/float64(secs),
		lat[len(lat)*50/100].Microseconds(), lat[len(lat)*99/100].Microseconds())
}
