// gorun - a Go program for test_go_runtime.sh: it parks a known number of
// goroutines, keeps a known amount of heap, runs GC a few times and then
// reports what its runtime says about itself (runtime.NumGoroutine,
// runtime.ReadMemStats, GOMAXPROCS) as JSON on GET /stats, for comparison
// with the go.* metrics redtap reads from its memory.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"runtime"
)

var keep [][]byte

func main() {
	addr := flag.String("addr", "127.0.0.1:31800", "listen address")
	n := flag.Int("goroutines", 200, "goroutines to park")
	heapMB := flag.Int("heap-mb", 64, "MiB of heap to keep")
	gcs := flag.Int("gcs", 5, "garbage collections to run at start")
	flag.Parse()

	block := make(chan struct{})
	for i := 0; i < *n; i++ {
		go func() { <-block }()
	}
	for i := 0; i < *heapMB*16; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
	for i := 0; i < *gcs; i++ {
		_ = make([]byte, 8<<20) // garbage for the next cycle
		runtime.GC()
	}
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats

		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(map[string]uint64{
			"goroutines":     uint64(runtime.NumGoroutine()),
			"gomaxprocs":     uint64(runtime.GOMAXPROCS(0)),
			"heap_alloc":     ms.HeapAlloc,
			"next_gc":        ms.NextGC,
			"num_gc":         uint64(ms.NumGC),
			"pause_total_ns": ms.PauseTotalNs,
			"kept":           uint64(len(keep)),
		})
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
