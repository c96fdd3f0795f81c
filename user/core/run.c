// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * run.c - `redtap run`: wraps a program with the LD_PRELOAD shim (see run.h).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

static const int fwd_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NFWD (sizeof(fwd_signals) / sizeof(fwd_signals[0]))

static volatile sig_atomic_t child_pid;

/* Looks argv0 up in $PATH as execvp would. */
static int find_program(const char *argv0, char *out, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (strchr(argv0, '/')) {
		if (snprintf(out, len, "%s", argv0) >= (int)len)
			return -ENAMETOOLONG;
		return access(out, F_OK) ? -errno : 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		if (snprintf(out, len, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "", argv0) <
			(int)len &&
		    !access(out, X_OK))
			return 0;
		if (!*end)
			break;
	}
	return -ENOENT;
}

/* Reads the ELF program headers: sets *interp when there is a PT_INTERP. */
static int elf_has_interp(int fd, bool *interp)
{
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	uint64_t phoff;
	unsigned phnum, phentsize, i;

	*interp = false;
	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident))
		return -ENOEXEC;
	if (memcmp(ident, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (ident[EI_CLASS] == ELFCLASS64) {
		if (pread(fd, &e64, sizeof(e64), 0) != (ssize_t)sizeof(e64))
			return -ENOEXEC;
		phoff = e64.e_phoff;
		phnum = e64.e_phnum;
		phentsize = e64.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		if (pread(fd, &e32, sizeof(e32), 0) != (ssize_t)sizeof(e32))
			return -ENOEXEC;
		phoff = e32.e_phoff;
		phnum = e32.e_phnum;
		phentsize = e32.e_phentsize;
	} else {
		return -ENOEXEC;
	}
	if (phentsize < sizeof(uint32_t) || phnum > 4096)
		return -ENOEXEC;
	for (i = 0; i < phnum; i++) {
		uint32_t type;

		if (pread(fd, &type, sizeof(type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(type))
			return -ENOEXEC;
		if (type == PT_INTERP)
			*interp = true;
	}
	return 0;
}

static int check_file(const char *path, char *why, size_t whylen, int depth)
{
	char buf[PATH_MAX + 3], *interp, *end;
	struct stat st;
	bool has_interp;
	ssize_t n;
	int fd, err;

	if (stat(path, &st)) {
		err = -errno;
		snprintf(why, whylen, "cannot wrap %s: %s", path, strerror(-err));
		return err;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		snprintf(why, whylen,
			 "cannot wrap %s: it is %s, and the dynamic loader ignores LD_PRELOAD "
			 "for such programs",
			 path, st.st_mode & S_ISUID ? "setuid" : "setgid");
		return -EPERM;
	}
	if (getxattr(path, "security.capability", NULL, 0) > 0) {
		snprintf(why, whylen,
			 "cannot wrap %s: it has file capabilities, and the dynamic loader "
			 "ignores LD_PRELOAD for such programs",
			 path);
		return -EPERM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* not readable: let exec decide */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 2 && buf[0] == '#' && buf[1] == '!') {
		close(fd);
		buf[n] = 0;
		for (interp = buf + 2; *interp == ' ' || *interp == '\t'; interp++)
			;
		end = interp + strcspn(interp, " \t\n");
		*end = 0;
		if (!*interp || depth > 2)
			return 0;
		return check_file(interp, why, whylen, depth + 1);
	}
	err = elf_has_interp(fd, &has_interp);
	close(fd);
	if (err)
		return 0; /* not ELF: exec will say what it is */
	if (!has_interp) {
		snprintf(why, whylen,
			 "cannot wrap %s: it is statically linked, so no dynamic loader runs to "
			 "load the shim",
			 path);
		return -ENOEXEC;
	}
	return 0;
}

int run_check_target(const char *path, char *why, size_t whylen)
{
	if (whylen)
		why[0] = 0;
	return check_file(path, why, whylen, 0);
}

int run_find_shim(char *buf, size_t len)
{
	const char *env = getenv("REDTAP_SHIM");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env && !access(env, R_OK))
		return snprintf(buf, len, "%s", env) < (int)len ? 0 : -ENAMETOOLONG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	dir = dirname(exe);
	if (snprintf(buf, len, "%s/libredtap.so", dir) < (int)len && !access(buf, R_OK))
		return 0;
	if (snprintf(buf, len, "%s/../lib/redtap/libredtap.so", dir) < (int)len &&
	    !access(buf, R_OK))
		return 0;
	return -ENOENT;
}

static void forward(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	/* The terminal's signals (SI_KERNEL) reach the child's process group anyway. */
	if (child_pid > 0 && info && info->si_code != SI_KERNEL)
		kill((pid_t)child_pid, sig);
}

/* Builds "shim[ existing]" unless existing already holds the shim. */
static char *preload_value(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;

	if (old && *old && strstr(old, shim))
		return strdup(old);
	if (!old || !*old)
		return strdup(shim);
	if (asprintf(&v, "%s %s", shim, old) < 0)
		return NULL;
	return v;
}

static void child_exec(const char *prog, char *const argv[], const char *preload,
		       const sigset_t *oldmask)
{
	size_t i;

	for (i = 0; i < NFWD; i++)
		signal(fwd_signals[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	setenv("LD_PRELOAD", preload, 1);
	execv(prog, argv);
	rt_err("redtap run: cannot execute %s: %s", prog, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

int run_program(const char *shim_path, char *const argv[])
{
	struct sigaction sa, old[NFWD];
	char prog[PATH_MAX], shim[PATH_MAX], why[PATH_MAX + 160];
	sigset_t block, oldmask;
	char *preload;
	int status = 0, err;
	pid_t pid;
	size_t i;

	if (!argv || !argv[0]) {
		rt_err("redtap run: no program given");
		return 126;
	}
	if (!shim_path || !realpath(shim_path, shim) || access(shim, R_OK)) {
		rt_err("redtap run: the shim %s cannot be read", shim_path ? shim_path : "(none)");
		return 126;
	}
	if (strpbrk(shim, " :")) {
		rt_err("redtap run: the shim path %s holds a space or colon, which LD_PRELOAD "
		       "cannot express",
		       shim);
		return 126;
	}
	err = find_program(argv[0], prog, sizeof(prog));
	if (err) {
		rt_err("redtap run: %s: %s", argv[0],
		       err == -ENOENT ? "command not found" : strerror(-err));
		return 127;
	}
	if (run_check_target(prog, why, sizeof(why))) {
		rt_err("redtap run: %s", why);
		return 126;
	}
	preload = preload_value(shim);
	if (!preload) {
		rt_err("redtap run: out of memory");
		return 126;
	}

	sigemptyset(&block);
	for (i = 0; i < NFWD; i++)
		sigaddset(&block, fwd_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFWD; i++)
		sigaction(fwd_signals[i], &sa, &old[i]);

	pid = fork();
	if (pid == 0)
		child_exec(prog, argv, preload, &oldmask);
	free(preload);
	if (pid < 0) {
		rt_err("redtap run: fork: %s", strerror(errno));
		status = -1;
	} else {
		child_pid = pid;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		child_pid = 0;
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	for (i = 0; i < NFWD; i++)
		sigaction(fwd_signals[i], &old[i], NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (pid < 0)
		return 126;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 126;
}
