// tlsdemo - the Go crypto/tls server and client of tests/e2e/test_tls_go.sh
// (Go's own TLS stack, probed by bpf/tls.bpf.h's Go programs). Built offline
// in GOPATH mode, standard library only.
//
//	tlsdemo server ADDR CERT KEY h1|h2  HTTPS server; h1 forces HTTP/1.1
//	tlsdemo client ADDR CONC N PATH     CONC goroutines, N requests each,
//	                                    keep-alive, HTTP/1.1; prints the
//	                                    count of 200 and of other answers
//	tlsdemo h2client ADDR N PATH        N requests over h2 (one connection)
//	tlsdemo hold ADDR GO N PATH         one request, then N more on the same
//	                                    connection once file GO exists
//
// Server routes: /api/items/..., /api/hold/..., /api/curl/... 200 "item",
// /fail 503.
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func server(addr, cert, key, mode string) {
	mux := http.NewServeMux()
	item := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "item")
	}
	mux.HandleFunc("/api/items/", item)
	mux.HandleFunc("/api/hold/", item)
	mux.HandleFunc("/api/curl/", item)
	mux.HandleFunc("/api/first/", item)
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := &http.Server{Addr: addr, Handler: mux}
	if mode == "h1" {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	die(srv.ListenAndServeTLS(cert, key))
}

func transport(h2 bool) *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   h2,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr
}

func get(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		die(err)
	}
	return n
}

func main() {
	if len(os.Args) < 2 {
		die(fmt.Errorf("usage: tlsdemo server|client|h2client|hold ..."))
	}
	a := os.Args[2:]
	switch {
	case os.Args[1] == "server" && len(a) == 4:
		server(a[0], a[1], a[2], a[3])
	case os.Args[1] == "client" && len(a) == 4:
		c := &http.Client{Transport: transport(false)}
		var ok, bad int64
		var wg sync.WaitGroup
		for g := 0; g < atoi(a[1]); g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < atoi(a[2]); i++ {
					if get(c, "https://"+a[0]+a[3]+strconv.Itoa(i)) == 200 {
						atomic.AddInt64(&ok, 1)
					} else {
						atomic.AddInt64(&bad, 1)
					}
				}
			}()
		}
		wg.Wait()
		fmt.Println(ok, bad)
	case os.Args[1] == "h2client" && len(a) == 3:
		c := &http.Client{Transport: transport(true)}
		ok := 0
		proto := ""
		for i := 0; i < atoi(a[1]); i++ {
			resp, err := c.Get("https://" + a[0] + a[2] + strconv.Itoa(i))
			if err != nil {
				die(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			proto = resp.Proto
			if resp.StatusCode == 200 {
				ok++
			}
		}
		fmt.Println(ok, proto)
	case os.Args[1] == "hold" && len(a) == 4:
		tr := transport(false)
		tr.MaxConnsPerHost = 1
		c := &http.Client{Transport: tr}
		n := 0
		if get(c, "https://"+a[0]+a[3]+"0") == 200 {
			n++
		}
		for i := 0; i < 600; i++ {
			if _, err := os.Stat(a[1]); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		for i := 1; i <= atoi(a[2]); i++ {
			if get(c, "https://"+a[0]+a[3]+strconv.Itoa(i)) == 200 {
				n++
			}
		}
		fmt.Println(n)
	default:
		die(fmt.Errorf("usage: tlsdemo server|client|h2client|hold ..."))
	}
}
