// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shimack.c - writes struct rt_shim_ack into shim processes through a
 * /proc/PID/mem fd opened at hello time, after checking the address against
 * the process's mappings and reading back the shim's nonce. See shimack.h.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "redtap/event.h"
#include "redtap/shim.h"
#include "shimack.h"

#define ACK_TTL_NS   (10ull * 1000000000ull) /* how long an ack stays valid */
#define REFRESH_NS   (3ull * 1000000000ull)  /* how often it is renewed */
#define ADDR_LIMIT   (1ull << 56)	     /* above any user-space address */
#define MAX_EXEC_MAP 16			     /* executable mappings of the shim remembered */
#define MAX_SECTIONS 512		     /* section headers read from the shim's file */
#define MAX_SHSTRTAB 65536
#define DEFAULT_GLOB "libredtap*.so"

struct shim_entry {
	uint32_t pid;
	uint32_t uid;
	int mem_fd; /* /proc/PID/mem of the verified address space, or -1 */
	uint64_t addr;
	uint64_t nonce;
	uint64_t written_ns;
	uint64_t hello_ns; /* last hello, for the drop-report bound */
	uint64_t dropped;  /* the shim's loss counter at its last hello */
};

struct shimack {
	struct shim_entry e[SHIMACK_MAX];
	size_t n;
	char glob[64];
	struct shimack_stats st;
};

/* One line of /proc/PID/maps that matters here. */
struct map_file {
	uint64_t dev, ino;
};

/* The writable mapping the ack must lie in. */
struct map_target {
	struct map_file f;
	uint64_t start, end, off; /* addresses and the file offset mapped at start */
	char path[4096];
};

struct shimack *shimack_new(void)
{
	struct shimack *s = calloc(1, sizeof(*s));
	struct rlimit rl;

	if (!s)
		return NULL;
	snprintf(s->glob, sizeof(s->glob), "%s", DEFAULT_GLOB);
	/* One fd per acknowledged shim: make room for a full table. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < rl.rlim_max && rl.rlim_cur < SHIMACK_MAX + 1024) {
		rl.rlim_cur = rl.rlim_max < SHIMACK_MAX + 1024 ? rl.rlim_max : SHIMACK_MAX + 1024;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			rt_debug("shim acks: cannot raise the fd limit: %s", strerror(errno));
	}
	return s;
}

static void entry_close(struct shim_entry *e)
{
	if (e->mem_fd >= 0)
		close(e->mem_fd);
	e->mem_fd = -1;
}

void shimack_free(struct shimack *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_close(&s->e[i]);
	free(s);
}

int shimack_set_lib_glob(struct shimack *s, const char *glob)
{
	if (strlen(glob) >= sizeof(s->glob))
		return -ENAMETOOLONG;
	snprintf(s->glob, sizeof(s->glob), "%s", glob);
	return 0;
}

size_t shimack_count(const struct shimack *s)
{
	return s->n;
}

void shimack_stats(const struct shimack *s, struct shimack_stats *out)
{
	*out = s->st;
}

static void entry_remove(struct shimack *s, size_t i)
{
	entry_close(&s->e[i]);
	s->e[i] = s->e[--s->n];
}

static bool name_matches(const struct shimack *s, const char *path)
{
	const char *base = strrchr(path, '/');

	return base && fnmatch(s->glob, base + 1, 0) == 0;
}

/*
 * 0 when [addr, addr + size) lies inside one private, writable mapping of a
 * file whose name matches s->glob and that file is also mapped executable
 * in the process (*t describes that mapping); -EPERM when not; -errno when
 * maps cannot be read.
 */
static int check_maps(const struct shimack *s, uint32_t pid, uint64_t addr, uint64_t size,
		      struct map_target *t)
{
	struct map_file exec[MAX_EXEC_MAP], target = {0, 0};
	size_t nexec = 0, cap = 0;
	char path[64], *line = NULL;
	bool found = false;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;
		char perms[5];
		int name = 0;
		char *file;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off,
			   &maj, &min, &ino, &name) < 7 ||
		    !name || !ino)
			continue;
		file = line + name;
		file[strcspn(file, "\n")] = 0;
		if (file[0] != '/' || !name_matches(s, file))
			continue;
		if (perms[2] == 'x' && nexec < MAX_EXEC_MAP)
			exec[nexec++] = (struct map_file){(uint64_t)maj << 32 | min, ino};
		if (!found && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p' &&
		    addr >= start && addr + size <= end) {
			target = (struct map_file){(uint64_t)maj << 32 | min, ino};
			t->start = start;
			t->end = end;
			t->off = off;
			snprintf(t->path, sizeof(t->path), "%s", file);
			found = true;
		}
	}
	err = ferror(f) ? -EIO : -EPERM;
	free(line);
	fclose(f);
	if (!found)
		return err;
	t->f = target;
	for (size_t i = 0; i < nexec; i++)
		if (exec[i].dev == target.dev && exec[i].ino == target.ino)
			return 0;
	return -EPERM;
}

/* Reads exactly n bytes at off: 0 or -EIO. */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -EIO;
}

/* Section headers only; every size read is bounded before it is read. */
int shimack_find_section(int fd, uint64_t *off, uint64_t *size)
{
	static const char want[] = RT_SHIM_ACK_SECTION;
	Elf64_Shdr *sh = NULL, strs;
	char *names = NULL;
	Elf64_Ehdr eh;
	int err = -EIO;

	if (read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !eh.e_shnum || eh.e_shnum > MAX_SECTIONS || eh.e_shstrndx >= eh.e_shnum)
		return -EIO;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	if (read_at(fd, sh, (size_t)eh.e_shnum * sizeof(*sh), eh.e_shoff))
		goto out;
	strs = sh[eh.e_shstrndx];
	if (!strs.sh_size || strs.sh_size > MAX_SHSTRTAB)
		goto out;
	names = calloc(1, strs.sh_size + 1);
	if (!names) {
		err = -ENOMEM;
		goto out;
	}
	if (read_at(fd, names, strs.sh_size, strs.sh_offset))
		goto out;
	err = -ENOENT;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_name >= strs.sh_size || strcmp(names + sh[i].sh_name, want) ||
		    sh[i].sh_type != SHT_PROGBITS || !(sh[i].sh_flags & SHF_WRITE))
			continue;
		*off = sh[i].sh_offset;
		*size = sh[i].sh_size;
		err = 0;
		break;
	}
out:
	free(names);
	free(sh);
	return err;
}

/* The file mapped at t in process pid: /proc/PID/map_files (exactly the
 * mapped file; needs CAP_SYS_ADMIN), else the path maps shows (relative to
 * our root), else that path in the process's own root. The caller checks
 * device and inode. -1 and errno. */
static int open_mapped(uint32_t pid, const struct map_target *t)
{
	char path[sizeof(t->path) + 64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)t->start, (unsigned long long)t->end);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	fd = open(t->path, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/%u/root%s", pid, t->path);
	return open(path, O_PATH | O_CLOEXEC);
}

/* Opens for reading what the O_PATH fd names, once it is known to be the
 * mapped regular file: the process that owns the path may have swapped in
 * a symlink to a device, which root must never open. -1 and errno. */
static int reopen_checked(int pfd, const struct map_target *t)
{
	char path[64];
	struct stat st;

	if (fstat(pfd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != t->f.ino ||
	    ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != t->f.dev) {
		errno = EPERM;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
	return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

/*
 * 0 when addr is exactly where the mapping t puts the start of the shim
 * file's ack section: the one place in the shim a write may go. The file
 * read must still be the mapped one (device and inode).
 */
static int check_section(uint32_t pid, const struct map_target *t, uint64_t addr)
{
	uint64_t off = 0, size = 0;
	int pfd, fd, err;

	pfd = open_mapped(pid, t);
	if (pfd < 0)
		return -EPERM;
	fd = reopen_checked(pfd, t);
	close(pfd);
	if (fd < 0)
		return -EPERM;
	err = shimack_find_section(fd, &off, &size);
	close(fd);
	if (err)
		return err == -ENOMEM ? err : -EPERM;
	if (size < sizeof(struct rt_shim_ack) || off < t->off || t->start + (off - t->off) != addr)
		return -EPERM;
	return 0;
}

/* Reads the ack through the kept fd and checks the nonce: 0 or -errno. */
static int check_nonce(const struct shim_entry *e)
{
	struct rt_shim_ack cur;
	ssize_t n = pread(e->mem_fd, &cur, sizeof(cur), (off_t)e->addr);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(cur))
		return -ESRCH; /* the address space is gone (exec, exit) */
	return cur.nonce == e->nonce ? 0 : -EPERM;
}

/* Re-checks the nonce, then writes the ack's first RT_SHIM_ACK_WRITE bytes. */
static int write_ack(struct shimack *s, struct shim_entry *e, uint64_t now)
{
	/* RT_SHIM_ACK_F_BATCH: the pipeline walks batched records (shim_batch_next) */
	struct rt_shim_ack ack = {
	    .expires_ns = now + ACK_TTL_NS, .magic = RT_SHIM_ACK, .flags = RT_SHIM_ACK_F_BATCH};
	ssize_t n;
	int err;

	if (e->mem_fd < 0)
		return -EBADF;
	err = check_nonce(e);
	if (err)
		return err;
	n = pwrite(e->mem_fd, &ack, RT_SHIM_ACK_WRITE, (off_t)e->addr);
	if (n != RT_SHIM_ACK_WRITE)
		return n < 0 ? -errno : -ESRCH;
	s->st.acked++;
	return 0;
}

/* Opens the process's memory and checks the claim: 0 with e->mem_fd set, or -errno. */
static int verify(struct shimack *s, struct shim_entry *e, const struct shimack_hello_in *h)
{
	struct map_target t;
	char path[64];
	int fd, err;

	entry_close(e);
	e->addr = 0;
	if (!h->nonce)
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/%u/mem", h->pid);
	/* First: the fd pins the address space the checks below describe. */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	err = check_maps(s, h->pid, h->addr, sizeof(struct rt_shim_ack), &t);
	if (!err)
		err = check_section(h->pid, &t, h->addr);
	if (err) {
		close(fd);
		return err;
	}
	e->mem_fd = fd;
	e->addr = h->addr;
	e->nonce = h->nonce;
	return 0;
}

static size_t uid_count(const struct shimack *s, uint32_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->e[i].uid == uid;
	return n;
}

/* The new drops a hello may report: bounded by the time since the last one. */
static uint64_t plausible_drops(struct shimack *s, struct shim_entry *e, uint64_t dropped,
				uint64_t now, bool first)
{
	uint64_t delta = 0, secs, allowed = SHIMACK_DROPS_BURST;

	if (dropped > e->dropped)
		delta = dropped - e->dropped;
	if (!first && now > e->hello_ns) {
		secs = (now - e->hello_ns) / 1000000000ull;
		allowed +=
		    secs > 1000000 ? 1000000 * SHIMACK_DROPS_PER_S : secs * SHIMACK_DROPS_PER_S;
	}
	e->dropped = dropped;
	e->hello_ns = now;
	if (delta <= allowed)
		return delta;
	s->st.drops_capped += delta - allowed;
	return allowed;
}

int shimack_hello(struct shimack *s, const struct shimack_hello_in *h, uint64_t *new_drops,
		  uint64_t now)
{
	struct shim_entry *e = NULL;
	bool first = false;
	int rc;

	*new_drops = 0;
	if ((h->addr & 7) || h->addr >= ADDR_LIMIT) {
		s->st.refused++;
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n && !e; i++)
		if (s->e[i].pid == h->pid)
			e = &s->e[i];
	if (e && e->uid != h->uid) {
		/* another user now: not the process we knew (setuid exec, pid reuse) */
		entry_remove(s, (size_t)(e - s->e));
		e = NULL;
	}
	if (!e) {
		if (s->n == SHIMACK_MAX || uid_count(s, h->uid) >= SHIMACK_PER_UID) {
			s->st.table_full++;
			return -ENOSPC;
		}
		e = &s->e[s->n++];
		memset(e, 0, sizeof(*e));
		e->pid = h->pid;
		e->uid = h->uid;
		e->mem_fd = -1;
		first = true;
	}
	*new_drops = plausible_drops(s, e, h->dropped, now, first);
	e->written_ns = now;
	if (!h->addr)
		return 0;
	if (e->mem_fd < 0 || e->addr != h->addr || e->nonce != h->nonce) {
		rc = verify(s, e, h);
		if (rc)
			goto out_refused;
	}
	rc = write_ack(s, e, now);
	if (rc) {
		entry_close(e);
		goto out_refused;
	}
	return 0;

out_refused:
	s->st.refused++;
	rt_debug("not acknowledging the shim in process %u: %s", h->pid, strerror(-rc));
	return rc;
}

void shimack_forget(struct shimack *s, uint32_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].pid == pid) {
			entry_remove(s, i);
			return;
		}
}

void shimack_refresh(struct shimack *s, uint64_t now)
{
	for (size_t i = 0; i < s->n;) {
		struct shim_entry *e = &s->e[i];

		if (now - e->written_ns < REFRESH_NS) {
			i++;
			continue;
		}
		if (e->mem_fd >= 0 ? write_ack(s, e, now) == 0
				   : kill((pid_t)e->pid, 0) == 0 || errno == EPERM) {
			e->written_ns = now;
			i++;
			continue;
		}
		/* Gone, exec'd into something else, or no longer holds the nonce. */
		entry_remove(s, i);
	}
}
