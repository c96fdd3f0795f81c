# bench/bench.mk - build rules for the benchmark programs that `make bench`
# (bench/run.sh) runs. Included by the top-level Makefile; owns
# $(OUTPUT)/bench/.
#
#   floor       loads bench/floor.bpf.c: empty programs on the agent's tracepoints
#               (built here only, never with the product), or with --bound
#               bench/bound.bpf.c: the least any design does per data syscall
#   replay      feeds synthetic ring-buffer records to the daemon's modules
#   godeliver   gotrack_deliver() on a Go service's record stream (callgrind)
#   helper_cost the BPF helpers of the data programs, each in a hot loop
#   syscall_cost  a syscall's cost to its caller, bare or under a raw
#               tracepoint program on sys_exit (bench/syscall_cost.sh)
#   shimcall    wrapped-call microbenchmark, linked against...
#   libpq.so.5  ...a stub libpq whose calls return at once

BENCH_BINS := $(OUTPUT)/bench/floor $(OUTPUT)/bench/replay $(OUTPUT)/bench/shimcall \
	      $(OUTPUT)/bench/libpq.so.5 $(OUTPUT)/bench/godeliver $(OUTPUT)/bench/helper_cost \
	      $(OUTPUT)/bench/syscall_cost

.PHONY: bench-progs
bench-progs: $(BENCH_BINS)
bench: $(BENCH_BINS)

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

# Each BPF object of bench/ and its skeleton (-Ibpf: the floor expands
# bpf/tracepoints.h, the agent's own list of attach points). Static pattern
# rules: the objects are targets of their own, not intermediates make removes.
BENCH_BPF := floor bound helper_cost syscall_cost

$(BENCH_BPF:%=$(OUTPUT)/bench/%.bpf.o): $(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(OUTPUT)/vmlinux.h \
					     | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibpf -MMD -MP -c $< -o $@

$(BENCH_BPF:%=$(OUTPUT)/bench/%.skel.h): $(OUTPUT)/bench/%.skel.h: $(OUTPUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/bench/floor: bench/floor.c $(OUTPUT)/bench/floor.skel.h $(OUTPUT)/bench/bound.skel.h \
		      $(OUTPUT)/user/intake/tracefs.o \
		      | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench -Ibpf $(LDFLAGS) $< $(OUTPUT)/user/intake/tracefs.o \
		-lbpf -lelf -lz -o $@

$(OUTPUT)/bench/helper_cost: bench/helper_cost.c $(OUTPUT)/bench/helper_cost.skel.h \
			    $(OUTPUT)/user/intake/tracefs.o | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench $(LDFLAGS) $< $(OUTPUT)/user/intake/tracefs.o \
		-lbpf -lelf -lz -lpthread -o $@

$(OUTPUT)/bench/syscall_cost: bench/syscall_cost.c $(OUTPUT)/bench/syscall_cost.skel.h | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench $(LDFLAGS) $< -lbpf -lelf -lz -o $@

$(OUTPUT)/bench/replay: bench/replay.c $(OUTPUT)/libredtap-core.a | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(OUTPUT)/libredtap-core.a $(LIBS) -o $@

$(OUTPUT)/bench/godeliver: bench/godeliver.c $(OUTPUT)/libredtap-core.a | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(OUTPUT)/libredtap-core.a $(LIBS) -o $@

# The stub carries libpq's soname, so that the shim finds it where it looks.
$(OUTPUT)/bench/libpq.so.5: bench/stub_pq.c | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -shared $(LDFLAGS) \
		-Wl,-soname,libpq.so.5 $< -o $@

# rpath $ORIGIN: the stub next to the binary wins over the system's libpq.
$(OUTPUT)/bench/shimcall: bench/shimcall.c $(OUTPUT)/bench/libpq.so.5 $(OUTPUT)/libredtap-core.a \
			  | $(OUTPUT)/bench
	$(call msg,CC-BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -Ibench $(LDFLAGS) $< $(OUTPUT)/bench/libpq.so.5 \
		$(OUTPUT)/libredtap-core.a -Wl,-rpath,'$$ORIGIN' -ldl -lpthread -o $@

-include $(wildcard $(OUTPUT)/bench/*.d)
