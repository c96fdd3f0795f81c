// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_procs.c - unit tests for process selection and service names
 * (user/intake/procs.c): the pure environ parser, and against real processes this
 * test starts (children exec'd with an environment of its choosing, and the
 * test itself): service names from OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
 * and the executable, the fallbacks for processes that are gone, and
 * selection by pid, by executable glob, by listening port and on exec, with
 * the agent itself never selected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "procs.h"
#include "redtap/event.h"

/* ---- the pure helper ---- */

/* Runs procs_service_from_environ on an exact-size heap copy (no NUL after len). */
static bool from_env(const char *block, size_t len, char *out, size_t outlen)
{
	char *copy = malloc(len ? len : 1);
	bool r;

	assert_non_null(copy);
	memcpy(copy, block, len);
	out[0] = '\0';
	r = procs_service_from_environ(copy, len, out, outlen);
	free(copy);
	return r;
}

#define ENV(lit) lit, sizeof(lit) - 1 /* a block whose NULs are in the literal */

static void test_environ_service_name(void **state)
{
	char out[128];

	(void)state;
	assert_true(
	    from_env(ENV("PATH=/bin\0OTEL_SERVICE_NAME=checkout\0HOME=/\0"), out, sizeof(out)));
	assert_string_equal(out, "checkout");

	assert_true(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,"
				 "service.name=cart,service.version=1.2\0"),
			     out, sizeof(out)));
	assert_string_equal(out, "cart");

	/* A space after a comma is skipped. */
	assert_true(
	    from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=a=b, service.name=spaced\0"), out, sizeof(out)));
	assert_string_equal(out, "spaced");

	/* OTEL_SERVICE_NAME wins, before or after the attributes. */
	assert_true(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=service.name=attr\0"
				 "OTEL_SERVICE_NAME=direct\0"),
			     out, sizeof(out)));
	assert_string_equal(out, "direct");
	assert_true(from_env(ENV("OTEL_SERVICE_NAME=direct\0"
				 "OTEL_RESOURCE_ATTRIBUTES=service.name=attr\0"),
			     out, sizeof(out)));
	assert_string_equal(out, "direct");

	/* An empty OTEL_SERVICE_NAME counts as unset. */
	assert_true(from_env(ENV("OTEL_SERVICE_NAME=\0OTEL_RESOURCE_ATTRIBUTES=service.name=a\0"),
			     out, sizeof(out)));
	assert_string_equal(out, "a");
}

static void test_environ_not_found(void **state)
{
	char out[64];

	(void)state;
	assert_false(from_env(ENV("PATH=/bin\0HOME=/root\0"), out, sizeof(out)));
	assert_false(from_env("", 0, out, sizeof(out)));
	assert_false(from_env(ENV("\0\0\0"), out, sizeof(out)));
	/* Look-alikes. */
	assert_false(
	    from_env(ENV("MY_OTEL_SERVICE_NAME=x\0XOTEL_RESOURCE_ATTRIBUTES=service.name=y\0"), out,
		     sizeof(out)));
	assert_false(from_env(ENV("OTEL_SERVICE_NAMESPACE=ns\0"), out, sizeof(out)));
	assert_false(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=service.namespace=ns,"
				  "my.service.name=z,service.name=\0"),
			      out, sizeof(out)));
	assert_false(from_env(ENV("OTEL_SERVICE_NAME=\0"), out, sizeof(out)));
	assert_false(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=\0"), out, sizeof(out)));
}

static void test_environ_bounds(void **state)
{
	static const char block[] = "OTEL_SERVICE_NAME=abcdefgh";
	char out[64], small[4];

	(void)state;
	/* Truncated to the output buffer, always terminated. */
	assert_true(from_env(block, sizeof(block) - 1, small, sizeof(small)));
	assert_string_equal(small, "abc");
	/* A block cut in the middle of the value (no trailing NUL): no overread. */
	assert_true(from_env(block, sizeof(block) - 1 - 5, out, sizeof(out)));
	assert_string_equal(out, "abc");
	assert_true(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=service.name=tail"), out, sizeof(out)));
	assert_string_equal(out, "tail");
	/* Cut right after the '=': nothing usable. */
	assert_false(from_env(block, 18, out, sizeof(out)));
}

/*
 * OTEL_RESOURCE_ATTRIBUTES uses the W3C Baggage value syntax: values are
 * percent-decoded, and whitespace around keys and values is trimmed (the
 * OTel SDK resource specification; the Go, Java, JS and Ruby SDKs do so).
 */
static void test_environ_attributes_decoding(void **state)
{
	char out[64];

	(void)state;
	assert_true(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=service.name=my%20shop%2Fapi\0"), out,
			     sizeof(out)));
	assert_string_equal(out, "my shop/api");
	assert_true(from_env(ENV("OTEL_RESOURCE_ATTRIBUTES=a=1, service.name = cart ,b=2\0"), out,
			     sizeof(out)));
	assert_string_equal(out, "cart");
}

/* ---- real processes ---- */

struct child {
	pid_t pid;
	int stdin_fd; /* write end of the child's stdin */
};

/* Starts path with argv/envp, and returns once it has exec'd. */
static struct child spawn(const char *path, char *const argv[], char *const envp[])
{
	int sync[2], in[2];
	struct child ch;
	ssize_t n;
	int err;

	assert_int_equal(pipe2(sync, O_CLOEXEC), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	ch.pid = fork();
	assert_true(ch.pid >= 0);
	if (ch.pid == 0) {
		dup2(in[0], 0);
		execve(path, argv, envp);
		err = errno;
		if (write(sync[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(sync[1]);
	close(in[0]);
	/* EOF on the close-on-exec pipe: the exec happened. */
	do
		n = read(sync[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(sync[0]);
	assert_int_equal(n, 0);
	ch.stdin_fd = in[1];
	return ch;
}

static struct child spawn_sleep(char *const envp[])
{
	static char *const argv[] = {"sleep", "60", NULL};

	return spawn("/bin/sleep", argv, envp);
}

static void reap(struct child *ch)
{
	if (ch->pid <= 0)
		return;
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, NULL, 0);
	close(ch->stdin_fd);
	ch->pid = 0;
}

static void exe_base(pid_t pid, char *out, size_t outlen)
{
	char link[64], path[4096];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : n > 0 ? path : "?";
	assert_true(strlen(base) < outlen);
	memcpy(out, base, strlen(base) + 1);
}

#define MAX_CALLS 4096

struct calls {
	uint32_t tgid[MAX_CALLS];
	bool on[MAX_CALLS];
	size_t n;
};

static void record(void *ctx, uint32_t tgid, bool on)
{
	struct calls *c = ctx;

	if (c->n < MAX_CALLS) {
		c->tgid[c->n] = tgid;
		c->on[c->n] = on;
	}
	c->n++;
}

/* How many times tgid was reported with this state. */
static size_t count_of(const struct calls *c, uint32_t tgid, bool on)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n && i < MAX_CALLS; i++)
		if (c->tgid[i] == tgid && c->on[i] == on)
			k++;
	return k;
}

static void test_no_selectors(void **state)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct calls calls = {0};

	(void)state;
	assert_non_null(p);
	assert_false(procs_filtering(p));
	procs_scan(p, record, &calls);
	assert_int_equal(calls.n, 0); /* everything is instrumented: nothing to select */
	assert_int_equal(procs_instrumented(p), 0);
	procs_free(p);
	procs_free(NULL);
}

static void test_service_name_self(void **state)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, 0);
	const char *name, *again, *env = getenv("OTEL_SERVICE_NAME");
	char want[256];

	(void)state;
	assert_non_null(p);
	name = procs_service_name(p, (uint32_t)getpid());
	assert_non_null(name);
	if (env && *env)
		snprintf(want, sizeof(want), "%s", env);
	else if (getenv("OTEL_RESOURCE_ATTRIBUTES"))
		snprintf(want, sizeof(want), "%s", name); /* depends on the caller's environment */
	else
		exe_base(getpid(), want, sizeof(want));
	assert_string_equal(name, want);
	again = procs_service_name(p, (uint32_t)getpid());
	assert_ptr_equal(again, name);		    /* cached */
	assert_int_equal(procs_instrumented(p), 1); /* seen with traffic (not filtering) */
	procs_free(p);
}

static void test_service_name_child_env(void **state)
{
	static char *const env_direct[] = {"PATH=/usr/bin:/bin", "OTEL_SERVICE_NAME=checkout-svc",
					   NULL};
	static char *const env_attrs[] = {
	    "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,service.name=cart,x=y", NULL};
	static char *const env_none[] = {"PATH=/usr/bin:/bin", "LANG=C", NULL};
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct child a = spawn_sleep(env_direct), b = spawn_sleep(env_attrs),
		     c = spawn_sleep(env_none);
	uint32_t apid = (uint32_t)a.pid;
	char base[64];

	(void)state;
	assert_non_null(p);
	assert_string_equal(procs_service_name(p, apid), "checkout-svc");
	assert_string_equal(procs_service_name(p, (uint32_t)b.pid), "cart");
	exe_base(c.pid, base, sizeof(base));
	assert_string_equal(base, "sleep");
	assert_string_equal(procs_service_name(p, (uint32_t)c.pid), "sleep");
	assert_int_equal(procs_instrumented(p), 3);

	/* The name stays cached while the process is known, even after it is gone. */
	reap(&a);
	assert_string_equal(procs_service_name(p, apid), "checkout-svc");
	/* Forgotten on exit: a process gone from /proc has no name left. */
	procs_exit(p, apid);
	assert_string_equal(procs_service_name(p, apid), "unknown_service");
	procs_exit(p, apid);
	/* The exec event's comm is the fallback for a process already gone. */
	procs_exec(p, apid, "shortlived", record, NULL);
	assert_string_equal(procs_service_name(p, apid), "shortlived");

	/* A live process that exec'd: the name is read again. */
	procs_exec(p, (uint32_t)b.pid, "sleep", record, NULL);
	assert_string_equal(procs_service_name(p, (uint32_t)b.pid), "cart");
	procs_exit(p, 999999999u); /* unknown: no-op */
	reap(&b);
	reap(&c);
	procs_free(p);
}

static void test_select_by_pid(void **state)
{
	static char *const env[] = {"PATH=/bin", NULL};
	struct child ch = spawn_sleep(env), dead = spawn_sleep(env);
	pid_t pids[3];
	struct procs_selectors sel = {.pids = pids, .npids = 3};
	struct calls calls = {0};
	struct procs *p;

	(void)state;
	pids[0] = ch.pid;
	pids[1] = getpid(); /* the agent itself: never selected */
	pids[2] = dead.pid;
	reap(&dead);
	p = procs_new(&sel, (uint32_t)getpid());
	pids[0] = 1; /* sel was copied: changing it now changes nothing */
	assert_non_null(p);
	assert_true(procs_filtering(p));
	procs_scan(p, record, &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.tgid[0], (uint32_t)ch.pid);
	assert_true(calls.on[0]);
	assert_int_equal(procs_instrumented(p), 1);

	procs_scan(p, record, &calls); /* already selected: not reported again */
	assert_int_equal(calls.n, 1);

	procs_exit(p, (uint32_t)ch.pid);
	assert_int_equal(procs_instrumented(p), 0);
	procs_scan(p, record, &calls); /* still alive and wanted: selected again */
	assert_int_equal(calls.n, 2);
	assert_int_equal(count_of(&calls, (uint32_t)ch.pid, true), 2);
	assert_int_equal(procs_instrumented(p), 1);
	procs_free(p);
	reap(&ch);
}

/* Scans with one glob and returns whether pid was selected (and checks every pick). */
static bool glob_selects(const char *glob, uint32_t self, pid_t pid, size_t *ncalls)
{
	char *globs[] = {(char *)glob};
	struct procs_selectors sel = {.exe_globs = globs, .nexe_globs = 1};
	struct calls calls = {0};
	struct procs *p = procs_new(&sel, self);
	bool found;

	assert_non_null(p);
	assert_true(procs_filtering(p));
	procs_scan(p, record, &calls);
	for (size_t i = 0; i < calls.n && i < MAX_CALLS; i++) {
		assert_true(calls.on[i]);
		assert_int_not_equal(calls.tgid[i], self);
	}
	found = count_of(&calls, (uint32_t)pid, true) == 1;
	assert_int_equal(procs_instrumented(p), calls.n);
	if (ncalls)
		*ncalls = calls.n;
	procs_free(p);
	return found;
}

static void test_select_by_exe_glob(void **state)
{
	static char *const env[] = {"PATH=/bin", NULL};
	struct child ch = spawn_sleep(env);
	char self_base[256], self_glob[300];
	size_t n;

	(void)state;
	assert_true(glob_selects("sleep", (uint32_t)getpid(), ch.pid, NULL));
	assert_true(glob_selects("sl?e[p]", (uint32_t)getpid(), ch.pid, NULL));
	assert_true(glob_selects("*/sleep", (uint32_t)getpid(), ch.pid, NULL)); /* full path */
	assert_false(glob_selects("/sleep", (uint32_t)getpid(), ch.pid, NULL)); /* not the path */
	assert_false(glob_selects("slee", (uint32_t)getpid(), ch.pid, NULL));
	assert_false(glob_selects("redtap-no-such-exe-*", (uint32_t)getpid(), ch.pid, &n));
	assert_int_equal(n, 0);

	/* This test's own executable: selected, unless it is the agent. */
	exe_base(getpid(), self_base, sizeof(self_base));
	snprintf(self_glob, sizeof(self_glob), "%s", self_base);
	assert_true(glob_selects(self_glob, 0, getpid(), NULL));
	assert_false(glob_selects(self_glob, (uint32_t)getpid(), getpid(), NULL));
	reap(&ch);
}

static void wait_exe(pid_t pid, const char *base)
{
	char now[256];

	for (int i = 0; i < 500; i++) {
		exe_base(pid, now, sizeof(now));
		if (!strcmp(now, base))
			return;
		usleep(10000);
	}
	fail_msg("pid %d never became %s (is %s)", (int)pid, base, now);
}

static void test_exec_reevaluates(void **state)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	/* A shell that waits for a line on stdin, then becomes cat. */
	static char *const argv[] = {"sh", "-c", "read x; exec cat", NULL};
	char shell[64], *globs[1];
	struct procs_selectors sel = {.exe_globs = globs, .nexe_globs = 1};
	struct child ch = spawn("/bin/sh", argv, env), sl = spawn_sleep(env);
	struct child other = spawn_sleep(env);
	struct calls calls = {0};
	struct procs *p;

	(void)state;
	exe_base(ch.pid, shell, sizeof(shell)); /* "dash" or "bash" */
	globs[0] = shell;
	p = procs_new(&sel, (uint32_t)getpid());
	assert_non_null(p);
	procs_scan(p, record, &calls);
	assert_int_equal(count_of(&calls, (uint32_t)ch.pid, true), 1);
	assert_int_equal(count_of(&calls, (uint32_t)sl.pid, true), 0);

	/* The shell execs cat: no longer matches the glob, so it leaves the selection. */
	assert_int_equal(write(ch.stdin_fd, "go\n", 3), 3);
	wait_exe(ch.pid, "cat");
	calls.n = 0;
	procs_exec(p, (uint32_t)ch.pid, "cat", record, &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.tgid[0], (uint32_t)ch.pid);
	assert_false(calls.on[0]);
	assert_string_equal(procs_service_name(p, (uint32_t)ch.pid), "cat");

	/* An exec into a matching program selects it at once, and only it:
	 * no /proc walk (the other sleep below stays out; its forks would come
	 * as fork records). */
	globs[0] = "sleep";
	procs_free(p);
	p = procs_new(&sel, (uint32_t)getpid());
	calls.n = 0;
	procs_exec(p, (uint32_t)sl.pid, "sleep", record, &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.tgid[0], (uint32_t)sl.pid);
	assert_true(calls.on[0]);
	assert_int_equal(count_of(&calls, (uint32_t)sl.pid, true), 1);
	assert_int_equal(count_of(&calls, (uint32_t)getpid(), true), 0);
	assert_int_equal(procs_instrumented(p), calls.n);
	procs_exec(p, (uint32_t)sl.pid, "sleep", record, &calls); /* no change, no call */
	assert_int_equal(count_of(&calls, (uint32_t)sl.pid, true), 1);
	for (size_t i = 0; i < calls.n; i++)
		assert_true(calls.on[i]);
	calls.n = 0;
	procs_exec(p, (uint32_t)getpid(), "self", record, &calls); /* the agent: never */
	assert_int_equal(calls.n, 0);
	procs_free(p);
	reap(&ch);
	reap(&sl);
	reap(&other);
}

/* The parent tgid of pid from /proc/PID/stat, 0 when unknown. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *rp;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

/* Waits for a child of parent running the executable base; returns its pid. */
static pid_t wait_child(pid_t parent, const char *base)
{
	for (int tries = 0; tries < 500; tries++) {
		struct dirent *de;
		DIR *d = opendir("/proc");
		pid_t found = 0;
		char now[256];

		assert_non_null(d);
		while (!found && (de = readdir(d))) {
			pid_t pid = (pid_t)atoi(de->d_name);

			if (pid <= 0 || parent_of(pid) != parent)
				continue;
			exe_base(pid, now, sizeof(now));
			if (!strcmp(now, base))
				found = pid;
		}
		closedir(d);
		if (found)
			return found;
		usleep(10000);
	}
	fail_msg("no %s child of %d", base, (int)parent);
	return 0;
}

static void test_children_of_selected_are_selected(void **state)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	/* A pre-forking parent: the shell stays, with a sleep child. */
	static char *const argv[] = {"sh", "-c", "sleep 60 & read x", NULL};
	struct child sh = spawn("/bin/sh", argv, env);
	pid_t kid = wait_child(sh.pid, "sleep");
	pid_t pids[1] = {sh.pid};
	struct procs_selectors sel = {.pids = pids, .npids = 1};
	struct procs *p = procs_new(&sel, (uint32_t)getpid());
	struct calls calls = {0};

	(void)state;
	assert_non_null(p);
	procs_scan(p, record, &calls);
	assert_int_equal(count_of(&calls, (uint32_t)sh.pid, true), 1);
	if (kid < sh.pid) /* pid wrap: the child was visited before its parent */
		procs_scan(p, record, &calls);
	assert_int_equal(count_of(&calls, (uint32_t)kid, true), 1);
	assert_int_equal(count_of(&calls, (uint32_t)getpid(), true), 0); /* not the parent */
	assert_int_equal(calls.n, 2);
	assert_int_equal(procs_instrumented(p), 2);
	procs_free(p);
	kill(kid, SIGKILL);
	reap(&sh);
}

/* A TCP socket of this process bound on loopback; listening or not. */
static int tcp_socket(int family, bool do_listen, uint16_t *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || (do_listen && listen(fd, 4)) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static bool port_selects_self(uint16_t port, uint32_t self)
{
	struct procs_selectors sel = {.ports = &port, .nports = 1};
	struct calls calls = {0};
	struct procs *p = procs_new(&sel, self);
	bool found;

	assert_non_null(p);
	procs_scan(p, record, &calls);
	found = count_of(&calls, (uint32_t)getpid(), true) == 1;
	procs_free(p);
	return found;
}

static void test_select_by_port(void **state)
{
	uint16_t port4, port6, idle;
	int l4 = tcp_socket(AF_INET, true, &port4);
	int l6 = tcp_socket(AF_INET6, true, &port6);
	int bound = tcp_socket(AF_INET, false, &idle);

	(void)state;
	assert_true(l4 >= 0);
	assert_true(bound >= 0);
	assert_true(port_selects_self(port4, 0));
	assert_false(port_selects_self(port4, (uint32_t)getpid())); /* the agent itself */
	assert_false(port_selects_self(idle, 0));		    /* bound but not listening */
	if (l6 >= 0)
		assert_true(port_selects_self(port6, 0));
	else
		print_message("no IPv6 loopback: tcp6 case skipped\n");
	close(l4);
	if (l6 >= 0)
		close(l6);
	close(bound);
}

/* ---- kernel records: exec, fork, listen, exit ---- */

/* Fake tgids: above this machine's pid_max, never a live process. */
#define FAKE_TGID(i) (4000000u + (uint32_t)(i))
#define START_NS(t)  ((uint64_t)(t)*1000000000ull) /* t seconds after boot */

static void proc_rec(struct procs *p, uint16_t type, uint32_t tgid, uint32_t ppid,
		     uint64_t start_ns, const char *comm, struct calls *calls)
{
	struct rt_proc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = type;
	ev.hdr.len = sizeof(ev);
	ev.hdr.version = RT_EVENT_VERSION;
	ev.hdr.pid_tgid = (uint64_t)tgid << 32 | tgid;
	ev.ppid = ppid;
	ev.start_ns = start_ns;
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	procs_record(p, &ev, sizeof(ev), record, calls);
}

struct decisions {
	uint32_t tgid[8];
	size_t n;
};

static void on_decided(void *ctx, uint32_t tgid)
{
	struct decisions *d = ctx;

	if (d->n < 8)
		d->tgid[d->n] = tgid;
	d->n++;
}

/*
 * Filter mode: exec records of 70 000 processes that are not selected used
 * to fill the table (their exits never came), and a matching process
 * started after that was never captured. Now they take no entry, and
 * their exits are harmless.
 */
static void test_unselected_execs_do_not_fill_table(void **state)
{
	static char *const env[] = {"PATH=/bin", NULL};
	struct child sl = spawn_sleep(env);
	char *globs[] = {"sleep"};
	struct procs_selectors sel = {.exe_globs = globs, .nexe_globs = 1};
	struct procs *p = procs_new(&sel, (uint32_t)getpid());
	struct calls calls = {0};

	(void)state;
	assert_non_null(p);
	for (uint32_t i = 0; i < 70000; i++)
		proc_rec(p, RT_EV_PROC_EXEC, FAKE_TGID(i), 1, START_NS(5), "worker", &calls);
	assert_int_equal(calls.n, 0);
	assert_int_equal(procs_overflows(p), 0);
	proc_rec(p, RT_EV_PROC_EXEC, (uint32_t)sl.pid, 1, START_NS(6), "sleep", &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.tgid[0], (uint32_t)sl.pid);
	assert_true(calls.on[0]);
	assert_int_equal(procs_instrumented(p), 1);
	for (uint32_t i = 0; i < 70000; i++)
		proc_rec(p, RT_EV_PROC_EXIT, FAKE_TGID(i), 0, START_NS(5), "", &calls);
	proc_rec(p, RT_EV_PROC_EXIT, (uint32_t)sl.pid, 0, START_NS(6), "", &calls);
	assert_int_equal(procs_instrumented(p), 0);
	assert_int_equal(calls.n, 1); /* an exit is no deselection call: the kernel clears it */
	procs_free(p);
	reap(&sl);
}

/* Not filtering: every exec names a process, every exit frees it; the
 * cap is reached only without exits, and then it is counted. */
static void test_exits_free_and_overflow_counted(void **state)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct calls calls = {0};

	(void)state;
	assert_non_null(p);
	for (uint32_t i = 0; i < 70000; i++) {
		proc_rec(p, RT_EV_PROC_EXEC, FAKE_TGID(i), 1, START_NS(5), "short", &calls);
		proc_rec(p, RT_EV_PROC_EXIT, FAKE_TGID(i), 0, START_NS(5), "", &calls);
	}
	assert_int_equal(procs_overflows(p), 0);
	for (uint32_t i = 0; i < 70000; i++)
		proc_rec(p, RT_EV_PROC_EXEC, FAKE_TGID(i), 1, START_NS(5), "long", &calls);
	assert_int_equal(procs_overflows(p), 70000 - 65536);
	assert_string_equal(procs_service_name(p, FAKE_TGID(0)), "long");
	assert_int_equal(calls.n, 0);
	procs_free(p);
}

/* The start time tells a process from an earlier one with the same pid. */
static void test_start_time_against_pid_reuse(void **state)
{
	struct procs_selectors none = {0};
	struct procs *p = procs_new(&none, (uint32_t)getpid());
	struct calls calls = {0};
	uint32_t t = FAKE_TGID(7);

	(void)state;
	assert_non_null(p);
	proc_rec(p, RT_EV_PROC_EXEC, t, 1, START_NS(100), "newer", &calls);
	/* a late exit of the earlier process with this pid: the new one stays */
	proc_rec(p, RT_EV_PROC_EXIT, t, 0, START_NS(50), "", &calls);
	assert_string_equal(procs_service_name(p, t), "newer");
	assert_int_equal(procs_stale(p), 0);
	/* an exec of yet another process (its predecessor's exit was lost) */
	proc_rec(p, RT_EV_PROC_EXEC, t, 1, START_NS(200), "third", &calls);
	assert_int_equal(procs_stale(p), 1);
	assert_string_equal(procs_service_name(p, t), "third");
	/* its own exit removes it */
	proc_rec(p, RT_EV_PROC_EXIT, t, 0, START_NS(200), "", &calls);
	assert_string_equal(procs_service_name(p, t), "unknown_service");
	procs_free(p);
}

/* A stale selected entry (exit lost) does not select the pid's next owner. */
static void test_stale_selection_dropped(void **state)
{
	pid_t pids[1] = {(pid_t)FAKE_TGID(9)};
	struct procs_selectors sel = {.pids = pids, .npids = 1};
	struct procs *p = procs_new(&sel, (uint32_t)getpid());
	struct calls calls = {0};

	(void)state;
	assert_non_null(p);
	proc_rec(p, RT_EV_PROC_EXEC, FAKE_TGID(9), 1, START_NS(10), "pinned", &calls);
	assert_int_equal(procs_instrumented(p), 1);
	proc_rec(p, RT_EV_PROC_FORK, FAKE_TGID(10), FAKE_TGID(9), START_NS(11), "pinned", &calls);
	assert_int_equal(procs_instrumented(p), 2); /* a child of a selected one */
	/* pid FAKE_TGID(10) is reused by a process forked from an unselected one */
	proc_rec(p, RT_EV_PROC_FORK, FAKE_TGID(10), 1, START_NS(90), "other", &calls);
	assert_int_equal(procs_stale(p), 1);
	assert_int_equal(procs_instrumented(p), 1);
	procs_free(p);
}

/* Forks of a process whose selection is pending come as records. */
static void test_fork_records(void **state)
{
	pid_t pids[1] = {(pid_t)FAKE_TGID(1)};
	struct procs_selectors sel = {.pids = pids, .npids = 1};
	struct procs *p = procs_new(&sel, (uint32_t)getpid());
	struct calls calls = {0};
	struct decisions d = {0};

	(void)state;
	assert_non_null(p);
	procs_set_decided(p, on_decided, &d);
	proc_rec(p, RT_EV_PROC_EXEC, FAKE_TGID(1), 1, START_NS(1), "app", &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.tgid[0], FAKE_TGID(1));
	/* its child, and the child's child, in record order */
	proc_rec(p, RT_EV_PROC_FORK, FAKE_TGID(2), FAKE_TGID(1), START_NS(2), "app", &calls);
	proc_rec(p, RT_EV_PROC_FORK, FAKE_TGID(3), FAKE_TGID(2), START_NS(3), "app", &calls);
	assert_int_equal(calls.n, 3);
	assert_int_equal(count_of(&calls, FAKE_TGID(2), true), 1);
	assert_int_equal(count_of(&calls, FAKE_TGID(3), true), 1);
	assert_int_equal(d.n, 3);
	/* a child of a process that is not selected: decided, not selected */
	proc_rec(p, RT_EV_PROC_FORK, FAKE_TGID(5), FAKE_TGID(4), START_NS(4), "x", &calls);
	assert_int_equal(calls.n, 3);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.tgid[3], FAKE_TGID(5));
	assert_int_equal(procs_instrumented(p), 3);
	/* exits of every one of them empty the selection */
	for (uint32_t i = 1; i <= 5; i++)
		proc_rec(p, RT_EV_PROC_EXIT, FAKE_TGID(i), 0, START_NS(i), "", &calls);
	assert_int_equal(procs_instrumented(p), 0);
	procs_free(p);
}

/* --port: a listen record of the port selects the listener; no /proc walk. */
static void test_listen_records(void **state)
{
	uint16_t ports[1] = {30123};
	struct procs_selectors sel = {.ports = ports, .nports = 1};
	struct procs *p = procs_new(&sel, (uint32_t)getpid());
	struct calls calls = {0};
	struct decisions d = {0};
	struct rt_listen_event ev;

	(void)state;
	assert_non_null(p);
	procs_set_decided(p, on_decided, &d);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = RT_EV_LISTEN;
	ev.hdr.len = sizeof(ev);
	ev.hdr.version = RT_EVENT_VERSION;
	ev.hdr.pid_tgid = (uint64_t)FAKE_TGID(20) << 32 | FAKE_TGID(20);
	ev.port = 30124;
	procs_record(p, &ev, sizeof(ev), record, &calls);
	assert_int_equal(calls.n, 0);
	assert_int_equal(d.n, 1);
	ev.port = 30123;
	procs_record(p, &ev, sizeof(ev), record, &calls);
	assert_int_equal(calls.n, 1);
	assert_int_equal(calls.tgid[0], FAKE_TGID(20));
	assert_true(calls.on[0]);
	assert_int_equal(d.n, 2);
	/* the agent itself listening on the port: never */
	ev.hdr.pid_tgid = (uint64_t)getpid() << 32 | (uint32_t)getpid();
	procs_record(p, &ev, sizeof(ev), record, &calls);
	assert_int_equal(calls.n, 1);
	/* a record shorter than it says is ignored */
	ev.hdr.pid_tgid = (uint64_t)FAKE_TGID(21) << 32 | FAKE_TGID(21);
	procs_record(p, &ev, sizeof(ev) - 8, record, &calls);
	assert_int_equal(calls.n, 1);
	procs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_environ_service_name),
	    cmocka_unit_test(test_environ_not_found),
	    cmocka_unit_test(test_environ_bounds),
	    cmocka_unit_test(test_environ_attributes_decoding),
	    cmocka_unit_test(test_no_selectors),
	    cmocka_unit_test(test_service_name_self),
	    cmocka_unit_test(test_service_name_child_env),
	    cmocka_unit_test(test_select_by_pid),
	    cmocka_unit_test(test_select_by_exe_glob),
	    cmocka_unit_test(test_exec_reevaluates),
	    cmocka_unit_test(test_children_of_selected_are_selected),
	    cmocka_unit_test(test_select_by_port),
	    cmocka_unit_test(test_unselected_execs_do_not_fill_table),
	    cmocka_unit_test(test_exits_free_and_overflow_counted),
	    cmocka_unit_test(test_start_time_against_pid_reuse),
	    cmocka_unit_test(test_stale_selection_dropped),
	    cmocka_unit_test(test_fork_records),
	    cmocka_unit_test(test_listen_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
