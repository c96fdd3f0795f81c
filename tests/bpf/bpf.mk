# tests/bpf/bpf.mk - the kernel-side tests (tests/bpf/test_progs.c): the
# capture object loaded, attached and driven by real system calls, in the
# manner of the kernel's BPF selftests. Included by the top-level Makefile.
#
#   make bpf-test     build and run them (root)

BPF_TEST := $(OUTPUT)/tests/bpf/test_progs

.PHONY: bpf-test
bpf-test: $(BPF_TEST)
	@$(BPF_TEST)

$(OUTPUT)/tests/bpf:
	$(Q)mkdir -p $@

# The daemon's own writes to the connection table (user/intake/connctl.c)
# are tested on the real object: its one module is linked in, as is the
# daemon's loader of the Go probes (goprobes_load.c, for --insns).
$(BPF_TEST): tests/bpf/test_progs.c $(OUTPUT)/capture.skel.h $(OUTPUT)/bench/floor.skel.h \
	     $(OUTPUT)/user/intake/connctl.o $(OUTPUT)/user/intake/goprobes_load.o | $(OUTPUT)/tests/bpf
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench $(LDFLAGS) $< $(OUTPUT)/user/intake/connctl.o \
		$(OUTPUT)/user/intake/goprobes_load.o -lbpf -lelf -lz -lcmocka -o $@

-include $(wildcard $(OUTPUT)/tests/bpf/*.d)
