// gorun - a Go program for test_go_runtime.sh: it parks a known number of
// goroutines, keeps a known amount of heap, runs GC a few times and then
// reports what its runtime says about itself (runtime.NumGoroutine,
// runtime.ReadMemStats, GOMAXPROCS) as JSON on GET /stats, for comparison
// with the go.* metrics redtap reads from its memory. After its start it
// allocates nothing but what serving /stats takes, and it gives its free
// memory back to the OS at once (debug.FreeOSMemory), so that the
// background scavenger does not move Sys - HeapReleased while the test
// compares.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"runtime"
	"runtime/debug"
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
	debug.FreeOSMemory() // a steady Sys - HeapReleased from here on
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
			"mem_used":       ms.Sys - ms.HeapReleased,
			"stack_inuse":    ms.StackInuse,
			"total_alloc":    ms.TotalAlloc,
			"kept":           uint64(len(keep)),
		})
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
