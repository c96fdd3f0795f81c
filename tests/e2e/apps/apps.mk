# tests/e2e/apps/apps.mk - build rules for the end-to-end tests' helper
# programs (included by the top-level Makefile).
$(OUTPUT)/tests/librediswrap.so: tests/e2e/apps/rediswrap.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared $< -lhiredis -o $@
