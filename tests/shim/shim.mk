# tests/shim/shim.mk - build rules for the shim's test programs, included by
# the top-level Makefile. `make shim-tests` builds them all; the scripts in
# tests/e2e/test_shim_*.sh build what they need and run them.
#
#   ring_dump       stand-in daemon: ring + decode, one line per operation
#   pq_paths        every libpq path against a real PostgreSQL
#   redis_paths     every hiredis path against a real redis-server
#   test_preload    CMocka tests of the shim's internals (depth guard, FIFO,
#                   Redis parsing, hiredis layout detection, transport)
#   test_dbmetrics  CMocka test of user/signals/dbmetrics.c
#   run_driver      calls run_program() (`redtap run`) for the e2e test
#   pq_faults       fork/exec, closed fds, threads, long runs against PostgreSQL
#   fake_agent.so   catches the shim's ioctl like the agent's eBPF program
#   libredtap-asan.so  the shim built with AddressSanitizer and UBSan
#   hostile         forged hellos and floods on the ioctl channel (no PIE)
#   ack_probe       a hiredis client that outlives the shim's probation
SHIM_TEST_DIR := $(OUTPUT)/tests/shim
SHIM_TEST_CFLAGS := $(filter-out -MMD -MP,$(CFLAGS)) -MMD -MP
SHIM_TEST_BINS := $(addprefix $(SHIM_TEST_DIR)/,ring_dump pq_paths redis_paths test_preload \
	test_dbmetrics run_driver pq_faults fake_agent.so libredtap-asan.so hostile ack_probe)
SHIM_DAEMON_SRCS := user/intake/shm_ring.c user/intake/shim_decode.c user/proto/sqlsum.c user/core/log.c
SHIM_PRELOAD_SRCS := $(filter-out preload/pq.c preload/redis.c preload/redis_async.c,\
	$(wildcard preload/*.c))

.PHONY: shim-tests
shim-tests: $(SHIM_TEST_BINS) $(OUTPUT)/libredtap.so

$(SHIM_TEST_DIR):
	$(Q)mkdir -p $@

$(SHIM_TEST_DIR)/ring_dump: tests/shim/ring_dump.c $(SHIM_DAEMON_SRCS) | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) $(LDFLAGS) $^ -lpg_query -lpthread -lm -o $@

$(SHIM_TEST_DIR)/pq_paths: tests/shim/pq_paths.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) -I/usr/include/postgresql $(LDFLAGS) $< -lpq -o $@

$(SHIM_TEST_DIR)/redis_paths: tests/shim/redis_paths.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) $(LDFLAGS) $< -lhiredis -o $@

$(SHIM_TEST_DIR)/test_preload: tests/shim/test_preload.c $(SHIM_PRELOAD_SRCS) \
		user/intake/shm_ring.c user/intake/shim_decode.c user/proto/sqlsum.c user/core/log.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) -Ipreload $(LDFLAGS) $^ -lcmocka -lpg_query -lhiredis -lpthread -lm -o $@

$(SHIM_TEST_DIR)/test_dbmetrics: tests/shim/test_dbmetrics.c $(OUTPUT)/libredtap-core.a \
		| $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) $(LDFLAGS) $^ $(LIBS) -lcmocka -o $@

$(SHIM_TEST_DIR)/run_driver: tests/shim/run_driver.c user/core/run.c user/core/log.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) $(LDFLAGS) $^ -o $@

$(SHIM_TEST_DIR)/pq_faults: tests/shim/pq_faults.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) -I/usr/include/postgresql $(LDFLAGS) $< -lpq -lpthread -o $@

$(SHIM_TEST_DIR)/fake_agent.so: tests/shim/fake_agent.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) -fPIC -shared $(LDFLAGS) $< -ldl -o $@

$(SHIM_TEST_DIR)/hostile: tests/shim/hostile.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) -fno-pie -no-pie $(LDFLAGS) $< -o $@

$(SHIM_TEST_DIR)/ack_probe: tests/shim/ack_probe.c | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(SHIM_TEST_CFLAGS) $(LDFLAGS) $< -lhiredis -o $@

-include $(wildcard $(SHIM_TEST_DIR)/*.d)

$(SHIM_TEST_DIR)/libredtap-asan.so: $(PRELOAD_SRCS) | $(SHIM_TEST_DIR)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(filter-out -O2 -MMD -MP,$(PRELOAD_CFLAGS)) -O1 -shared \
		-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		$(PRELOAD_SRCS) -o $@
