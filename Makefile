# Makefile - builds redtap: the eBPF objects and skeletons (bpf/), the
# daemon (user/), the LD_PRELOAD shim (preload/), and the tests.
#
#   make            build everything into $(OUTPUT) (default: build/)
#   make run        build, then run the agent in the foreground (as root)
#   make test       unit tests (CMocka, also under ASan/UBSan) + end-to-end tests
#   make bpf-test   kernel-side tests of the eBPF programs (tests/bpf, root)
#   make install    install under $(DESTDIR)$(prefix)
#   make deb        a Debian package in $(OUTPUT)/deb (scripts/build-deb.sh)
#   make k8s-test   check deploy/kubernetes: kustomize, schemas, promtool (tests/k8s)
#   make container-test   build the image (debootstrap, podman) and run it (slow; tests/container)
#   make V=1        show the commands
#   make SANITIZER=address|undefined   build everything sanitized

OUTPUT ?= build
prefix ?= /usr/local
bindir ?= $(prefix)/bin
libdir ?= $(prefix)/lib
datadir ?= $(prefix)/share
mandir ?= $(datadir)/man
sysconfdir ?= /etc
DESTDIR ?=

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wvla -fno-common
CFLAGS ?= -O2 -g
# Clears and copies whose size is not small and fixed (a head handed to its
# callback, an exchange reset, a path copied) call libc, whose memset and
# memcpy are picked for this CPU at run time, instead of being inlined by
# GCC as rep stos / rep movs, whose start-up cost on the daemon's per-record
# path was about 5 % of its CPU (BENCHMARKS.md, "rep stos and rep movs").
ifeq ($(ARCH),x86)
STRINGOP := $(shell $(CC) -mstringop-strategy=libcall -E -x c /dev/null >/dev/null 2>&1 && \
	      echo -mstringop-strategy=libcall)
endif
# The daemon's stages (docs/architecture.md); each folder is on the include path.
USER_DIRS := user user/core user/intake user/proto user/signals user/export
CFLAGS += $(STRINGOP) -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(addprefix -I,$(USER_DIRS)) -I$(OUTPUT) -MMD -MP \
	  -DREDTAP_SHIM_DEFAULT_PATH='"$(libdir)/redtap/libredtap.so"'
ifneq ($(SANITIZER),)
CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZER)
endif
# libprotobuf-c and libc ahead of libpg_query: libpg_query exports its own
# copy of protobuf-c (whatever version it bundles) and a strnlen of its own
# (a byte loop), which would otherwise serve the OTLP encoders, built
# against the system's protobuf-c headers, and every strnlen call in the
# process (tests/unit/test_linkage.c checks which ones bind).
LIBS := -lbpf -lelf -ldw -lz -lmicrohttpd -lyaml -lprotobuf-c -lc -lpg_query -lnghttp2 \
	-lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUTPUT) \
	      -Wall -Werror -Wno-unused-function -Wno-gnu-variable-sized-type-not-at-end -mcpu=v3

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# Everything but main.o goes into a static library the unit tests link.
CORE_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS)) $(OUTPUT)/user/version.o

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all clean run test unit e2e install deb k8s-test container-test format lint bench bench-profile bench-callgrind deps fuzz FORCE
.DELETE_ON_ERROR:

all: $(OUTPUT)/redtap $(OUTPUT)/libredtap.so

include preload/preload.mk
-include tests/shim/shim.mk
-include proto/proto.mk
-include bench/bench.mk
-include tests/bpf/bpf.mk
include tests/e2e/apps/apps.mk
-include tests/fuzz/fuzz.mk

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/preload:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	@test -r $(VMLINUX_BTF) || { echo "error: kernel BTF not found at $(VMLINUX_BTF);" \
		"redtap needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or set VMLINUX_BTF=<path>" >&2; exit 1; }
	@test -x $(BPFTOOL) || { echo "error: bpftool not found; run scripts/install-deps.sh" >&2; exit 1; }
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

# The skeleton embeds the object linked by bpftool, which keeps BTF and the
# CO-RE records but drops DWARF: a quarter of the size, and that much less
# of the daemon's RSS.
$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen object $(@:.skel.h=.linked.o) $<
	$(Q)$(BPFTOOL) gen skeleton $(@:.skel.h=.linked.o) name $(notdir $*)_bpf > $@

# User objects may include any skeleton.
$(USER_OBJS): | $(SKELS)

$(OUTPUT)/user/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Rewritten only when the version or the git revision changes.
$(OUTPUT)/user/version.c: FORCE | $(OUTPUT)/user
	$(Q)printf '/* generated by the Makefile */\n#include "version.h"\nconst char redtap_version[] = "%s";\nconst char redtap_git_rev[] = "%s";\n' \
		'$(VERSION)' '$(GIT_REV)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(OUTPUT)/user/version.o: $(OUTPUT)/user/version.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/libredtap-core.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/redtap: $(OUTPUT)/user/main.o $(OUTPUT)/libredtap-core.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(OUTPUT)/libredtap-core.a | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(OUTPUT)/libredtap-core.a $(LIBS) -lcmocka -o $@

run: all
	./$(OUTPUT)/redtap $(ARGS)

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

e2e: all
	@tests/e2e/run.sh

test: all
	@scripts/run-tests.sh

bench: all
	@bench/run.sh

# Where the agent's time goes (BPF per program, ring buffer, daemon perf).
bench-profile: all bench-progs
	@BUILD=$(OUTPUT) bench/profile.sh

# The live daemon's instructions per request on the Go service (callgrind).
bench-callgrind: all
	@BUILD=$(OUTPUT) bench/daemon_callgrind.sh

# The package's tree is built apart, with prefix=/usr (the shim's default path is compiled in).
deb:
	scripts/build-deb.sh $(OUTPUT)/deb

k8s-test:
	tests/k8s/run.sh

container-test:
	scripts/install-deps.sh --container
	tests/container/run.sh

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir)/redtap $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(datadir)/redtap/dashboards $(DESTDIR)$(datadir)/redtap/rules \
		$(DESTDIR)$(sysconfdir)/redtap
	install -m 0755 $(OUTPUT)/redtap $(DESTDIR)$(bindir)/redtap
	install -m 0755 $(OUTPUT)/libredtap.so $(DESTDIR)$(libdir)/redtap/libredtap.so
	install -m 0644 docs/redtap.8 $(DESTDIR)$(mandir)/man8/redtap.8
	install -m 0644 deploy/redtap.yaml $(DESTDIR)$(sysconfdir)/redtap/redtap.yaml.example
	for f in dashboards/*.json; do [ -e "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(datadir)/redtap/dashboards/; done; true
	for f in rules/redtap-*.yml rules/slos.yaml; do [ -e "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(datadir)/redtap/rules/; done; true

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	clang-format --dry-run --Werror $$(git ls-files 'user/*.c' 'user/*.h' 'preload/*.c' 'preload/*.h' 'include/*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		-Iinclude $(addprefix -I,$(USER_DIRS)) user preload

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/preload/*.d)
