# preload/preload.mk - build rules for the LD_PRELOAD shim libredtap.so.
# Included by the top-level Makefile; owns everything under preload/.
PRELOAD_SRCS := $(wildcard preload/*.c)
PRELOAD_OBJS := $(patsubst preload/%.c,$(OUTPUT)/preload/%.o,$(PRELOAD_SRCS))
PRELOAD_CFLAGS := $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -fvisibility=hidden -MMD -MP

$(OUTPUT)/preload/%.o: preload/%.c | $(OUTPUT)/preload
	$(call msg,CC,$@)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -c $< -o $@

$(OUTPUT)/libredtap.so: $(PRELOAD_OBJS) | $(OUTPUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--no-undefined -Wl,-z,now $^ -ldl -o $@
