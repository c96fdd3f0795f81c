// tests/e2e/apps/go/gologs - a Go net/http service logging with zerolog
// inside its handlers (JSON lines on stdout), for tests/e2e/test_logs.sh
// (issue 16). It knows nothing about redtap.
//
//	gologs PORT
//
// GET /work/N logs an info line, sleeps 2 ms, logs a warn line; GET
// /fail/N logs an error line with an err field and answers 500. Every line
// carries "rid": "N" so that a decoder can tell which request it was
// written for.
package main

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

func main() {
	log := zerolog.New(os.Stdout).With().Timestamp().Logger()
	http.HandleFunc("/work/", func(w http.ResponseWriter, r *http.Request) {
		rid := strings.TrimPrefix(r.URL.Path, "/work/")
		log.Info().Str("rid", rid).Msg("start")
		time.Sleep(2 * time.Millisecond)
		log.Warn().Str("rid", rid).Int("ms", 2).Msg("slow")
		w.Write([]byte("ok\n"))
	})
	http.HandleFunc("/fail/", func(w http.ResponseWriter, r *http.Request) {
		rid := strings.TrimPrefix(r.URL.Path, "/fail/")
		log.Error().Str("rid", rid).Err(errors.New("db down")).Msg("failed")
		w.WriteHeader(500)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Args[1], nil); err != nil {
		log.Fatal().Err(err).Msg("listen")
	}
}
