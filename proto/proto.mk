# proto/proto.mk - protobuf-c code for the OTLP exporter, and the OTLP test
# driver. Included by the top-level Makefile after CORE_OBJS and LIBS are set;
# owns everything under proto/ and tests/otlp/.
#
# protoc-c turns each proto/NAME.proto into $(OUTPUT)/proto/NAME.pb-c.[ch];
# the objects go into the core library (PROTO_OBJS, appended to CORE_OBJS).
# Code includes them as "proto/NAME.pb-c.h" (-I$(OUTPUT) is in CFLAGS), so
# the user/otlp*.o objects and the otlp unit tests wait for the headers.
PROTOC_C ?= protoc-c
PROTO_SRCS := $(wildcard proto/*.proto)
PROTO_GEN_C := $(patsubst proto/%.proto,$(OUTPUT)/proto/%.pb-c.c,$(PROTO_SRCS))
PROTO_HDRS := $(PROTO_GEN_C:.c=.h)
PROTO_OBJS := $(PROTO_GEN_C:.c=.o)

CORE_OBJS += $(PROTO_OBJS)
# libcurl is loaded on first use (user/export/curl_lazy.c), not linked.
LIBS += -lprotobuf-c

$(OUTPUT)/proto:
	$(Q)mkdir -p $@

# One protoc-c run writes both files of a pair (a multi-target pattern rule
# is grouped: the recipe runs once for both).
$(OUTPUT)/proto/%.pb-c.c $(OUTPUT)/proto/%.pb-c.h: proto/%.proto | $(OUTPUT)/proto
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(OUTPUT)/proto $<

# A generated file may include any other generated header (imports).
$(OUTPUT)/proto/%.pb-c.o: $(OUTPUT)/proto/%.pb-c.c $(PROTO_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(filter $(OUTPUT)/user/export/otlp%.o,$(USER_OBJS)): $(PROTO_HDRS)
$(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_otlp*.c)): $(PROTO_HDRS)

# The exporter-level e2e tests (tests/e2e/test_otlp_*.sh) drive this program.
$(OUTPUT)/tests/otlp_driver: tests/otlp/driver.c $(OUTPUT)/libredtap-core.a | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(OUTPUT)/libredtap-core.a $(LIBS) -o $@

-include $(wildcard $(OUTPUT)/proto/*.d)
