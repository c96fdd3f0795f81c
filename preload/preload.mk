# preload/preload.mk - build rules for the LD_PRELOAD shim libredtap.so.
# Included by the top-level Makefile; owns everything under preload/.
#
# The shim may need nothing but libc: no libpq, no hiredis, and on glibc
# >= 2.34 not even libdl (--as-needed drops it where dlopen lives in libc).
# -fvisibility=hidden keeps everything but the wrapped functions private;
# initial-exec TLS keeps the depth guard free of __tls_get_addr.
PRELOAD_SRCS := $(wildcard preload/*.c)
PRELOAD_OBJS := $(patsubst preload/%.c,$(OUTPUT)/preload/%.o,$(PRELOAD_SRCS))
PRELOAD_CFLAGS := $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -fvisibility=hidden \
	-ftls-model=initial-exec -fno-strict-aliasing -MMD -MP

$(OUTPUT)/preload/%.o: preload/%.c | $(OUTPUT)/preload
	$(call msg,CC,$@)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -c $< -o $@

$(OUTPUT)/libredtap.so: $(PRELOAD_OBJS) | $(OUTPUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--no-undefined -Wl,-z,now -Wl,-z,relro \
		-Wl,--as-needed $^ -ldl -o $@
