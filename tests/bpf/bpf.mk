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
# are tested on the real object: its one module is linked in, as are the
# daemon's loader of the Go probes (goprobes_load.c, for --insns), its
# ring buffers' creation (rings.c) and reader (ringbuf.c), its tracefs
# mount (tracefs.c) and its choice of the kernel's features (kfeatures.c).
BPF_TEST_OBJS := $(addprefix $(OUTPUT)/user/intake/,connctl.o goprobes_load.o kfeatures.o rings.o \
		   ringbuf.o tracefs.o)
$(BPF_TEST): tests/bpf/test_progs.c $(OUTPUT)/capture.skel.h $(OUTPUT)/bench/floor.skel.h \
	     $(OUTPUT)/bench/bound.skel.h \
	     $(BPF_TEST_OBJS) | $(OUTPUT)/tests/bpf
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench $(LDFLAGS) $< $(BPF_TEST_OBJS) \
		-lbpf -lelf -lz -lcmocka -o $@

-include $(wildcard $(OUTPUT)/tests/bpf/*.d)
