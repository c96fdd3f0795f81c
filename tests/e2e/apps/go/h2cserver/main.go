// h2cserver - the cleartext HTTP/2 server of tests/e2e/test_http2.sh that
// accepts the h2c upgrade from HTTP/1.1 (curl --http2 on http://), which
// nghttpd and nginx do not; prior knowledge works too. Built offline in
// GOPATH mode from Debian's golang-golang-x-net-dev.
//
//	h2cserver ADDR
//
// /items/...  200 "item"
// /fail       503
package main

import (
	"fmt"
	"net/http"
	"os"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: h2cserver ADDR")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "item")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := &http.Server{Addr: os.Args[1], Handler: h2c.NewHandler(mux, &http2.Server{})}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
