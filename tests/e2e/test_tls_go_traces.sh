#!/bin/bash
# tests/e2e/test_tls_go_traces.sh - test_tls_go.sh with traces on, exported
# to the test receiver (TLS_GO_TRACES=1). The agent's default, with no OTLP
# endpoint, builds no spans: its records then carry no goroutine, and it
# reads a Go process's goroutine only once the process has entered
# crypto/tls, for the check that keeps its ciphertext out
# (bpf/capture.bpf.c, record_goroutines). With spans, every record of a Go
# process carries its goroutine. Every count must hold either way. Its
# ports: those of test_tls_go.sh (32201-32240).
TLS_GO_TRACES=1 exec "$(dirname "$0")/test_tls_go.sh"
