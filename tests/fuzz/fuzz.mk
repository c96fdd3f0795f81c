# tests/fuzz/fuzz.mk - fuzz targets for every parser that takes outside bytes
# (included by the Makefile; see tests/fuzz/README.md).
#
#   make fuzz                     build the libFuzzer targets (clang, ASan, UBSan)
#                                 and run each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_TARGETS=sqlsum run only these targets
#   make unit                     also replays tests/fuzz/corpus/<t>/ and
#                                 tests/fuzz/regress/<t>/ through each target,
#                                 built with $(CC) (fuzz_replay_<t>)
#
# New inputs found while fuzzing go to $(OUTPUT)/fuzz/corpus/<t>/, crashes to
# $(OUTPUT)/fuzz/crashes/<t>/; the checked-in corpus is only read.

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The daemon's flags for clang, without -Werror (clang warns about other things than gcc).
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Iinclude \
	       $(addprefix -I,$(USER_DIRS)) -I$(OUTPUT) -Itests/fuzz \
	       -DREDTAP_SHIM_DEFAULT_PATH='"$(libdir)/redtap/libredtap.so"' $(FUZZ_SAN)
FUZZ_OBJS := $(patsubst $(OUTPUT)/user/%.o,$(OUTPUT)/fuzz/obj/%.o,$(CORE_OBJS))
FUZZ_BINS := $(addprefix $(OUTPUT)/fuzz/fuzz_,$(FUZZ_TARGETS))

# Replay drivers: plain $(CC) builds that run the corpus and crash inputs in `make unit`.
FUZZ_REPLAY_BINS := $(addprefix $(OUTPUT)/tests/fuzz_replay_,$(FUZZ_ALL))
UNIT_BINS += $(FUZZ_REPLAY_BINS)

.PHONY: fuzz fuzz-build

$(OUTPUT)/fuzz/obj/%.o: $(OUTPUT)/user/%.c | $(SKELS) $(PROTO_HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/obj/%.o: user/%.c | $(SKELS) $(PROTO_HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/libredtap-fuzz.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(OUTPUT)/fuzz/libredtap-fuzz.a
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer $< $(OUTPUT)/fuzz/libredtap-fuzz.a \
		$(LIBS) -o $@

$(OUTPUT)/tests/fuzz_replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) \
		$(OUTPUT)/libredtap-core.a | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -Itests/fuzz $(LDFLAGS) \
		-DFUZZ_DIRS='"$(CURDIR)/tests/fuzz/corpus/$*:$(CURDIR)/tests/fuzz/regress/$*"' \
		tests/fuzz/fuzz_$*.c tests/fuzz/replay.c $(OUTPUT)/libredtap-core.a $(LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(OUTPUT) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

-include $(wildcard $(OUTPUT)/fuzz/obj/*/*.d $(OUTPUT)/fuzz/obj/*.d)
