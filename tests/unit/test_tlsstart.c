// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tlsstart.c - the start-up probe of the system's libssl files
 * (tlstrack_probe_paths() in user/intake/tlstrack.c) on real files: one
 * file reached by several names (hard link, symbolic link) is attached
 * once; non-ELF files and ELF files of another machine are not attached; a
 * process mapping a file probed at start-up does not attach it again (its
 * /proc/PID/maps identity is the one the probe recorded), also through an
 * overlayfs mount (run as root; skipped where overlayfs cannot be mounted);
 * one file under two overlay mounts and under its own path, three maps
 * identities on kernels whose maps show the overlay's device, is attached
 * once.
 *
 * libbpf's attach and destroy functions are replaced here: they count
 * attaches per path and hand out fake links.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "tlstrack.h"

static unsigned attaches;
static char attached_path[512];
static char fake_link;

struct bpf_link *bpf_program__attach_uprobe_opts(const struct bpf_program *prog, pid_t pid,
						 const char *binary_path, size_t func_offset,
						 const struct bpf_uprobe_opts *opts)
{
	(void)prog, (void)pid, (void)func_offset, (void)opts;
	attaches++;
	snprintf(attached_path, sizeof(attached_path), "%s", binary_path);
	return (struct bpf_link *)&fake_link;
}

int bpf_link__destroy(struct bpf_link *link)
{
	(void)link;
	return 0;
}

static char dir[64];

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* Copies the test's own executable (a native ELF file) to name. */
static void copy_self(const char *name)
{
	char to[256], buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out;
	ssize_t n;

	path_of(to, sizeof(to), name);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void write_file(const char *name, const void *p, size_t n)
{
	char to[256];
	int fd;

	path_of(to, sizeof(to), name);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Maps path in this process; the mapping, for munmap. */
static void *map_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	void *m;

	assert_true(fd >= 0);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(m != MAP_FAILED);
	close(fd);
	return m;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tlsstart.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128], merged[128];

	(void)state;
	path_of(merged, sizeof(merged), "merged");
	umount(merged); /* when a test failed with it mounted */
	path_of(merged, sizeof(merged), "merged2");
	umount(merged);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static struct tlstrack *new_track(void)
{
	static struct tlstrack_progs progs; /* never used: attach is replaced */
	struct tlstrack *t = tlstrack_new(&progs);

	assert_non_null(t);
	attaches = 0;
	return t;
}

static void test_one_file_many_names(void **state)
{
	char pat[256], a[256], b[256], c[256], glob2[256];
	Elf64_Ehdr other;
	struct tlstrack *t = new_track();
	const char *globs[2] = {pat, glob2};
	void *m;

	(void)state;
	copy_self("libssl.so.3");
	path_of(a, sizeof(a), "libssl.so.3");
	path_of(b, sizeof(b), "libssl.so.3.hardlink");
	path_of(c, sizeof(c), "libssl.so");
	assert_int_equal(link(a, b), 0);
	assert_int_equal(symlink(a, c), 0);
	write_file("libssl.so.9", "not an ELF file", 15);
	/* an ELF header of another machine (a multiarch directory's i386 file) */
	memset(&other, 0, sizeof(other));
	memcpy(other.e_ident, ELFMAG, SELFMAG);
	other.e_ident[EI_CLASS] = ELFCLASS32;
	other.e_ident[EI_DATA] = ELFDATA2LSB;
	other.e_machine = EM_386;
	write_file("libssl.so.1.1", &other, sizeof(other));
	path_of(pat, sizeof(pat), "libssl.so*");
	path_of(glob2, sizeof(glob2), "libssl.so.3"); /* again through a second pattern */

	assert_int_equal(tlstrack_probe_paths(t, globs, 2), 1);
	assert_int_equal(tlstrack_stats(t)->files, 1);
	assert_int_equal(tlstrack_stats(t)->system, 1);
	assert_int_equal(tlstrack_stats(t)->attach_err, 0);
	/* every probe of the file's first symbol went to one of its names */
	assert_non_null(strstr(attached_path, dir));
	/* a process mapping it (this one, by its hard link) adds nothing */
	attaches = 0;
	m = map_file(b);
	assert_int_equal(tlstrack_scan(t, (uint32_t)getpid()), 0);
	assert_int_equal(attaches, 0);
	assert_int_equal(tlstrack_stats(t)->files, 1);
	munmap(m, 4096);
	/* nor a second start-up probe */
	assert_int_equal(tlstrack_probe_paths(t, globs, 2), 0);
	assert_int_equal(attaches, 0);
	tlstrack_free(t);
}

static void test_overlay(void **state)
{
	char lower[256], upper[256], work[256], merged[256], opts[1024], file[300], real[300];
	const char *globs[1] = {file};
	struct stat st_real, st_ovl;
	struct tlstrack *t;
	unsigned n;
	void *m;

	(void)state;
	path_of(lower, sizeof(lower), "lower");
	path_of(upper, sizeof(upper), "upper");
	path_of(work, sizeof(work), "work");
	path_of(merged, sizeof(merged), "merged");
	assert_int_equal(
	    mkdir(lower, 0755) | mkdir(upper, 0755) | mkdir(work, 0755) | mkdir(merged, 0755), 0);
	copy_self("lower/libssl.so.3");
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("overlay", merged, "overlay", 0, opts)) {
		print_message("overlayfs cannot be mounted here (%m): skipped\n");
		skip();
	}
	snprintf(file, sizeof(file), "%s/libssl.so.3", merged);
	snprintf(real, sizeof(real), "%s/libssl.so.3", lower);
	assert_int_equal(stat(file, &st_ovl), 0);
	assert_int_equal(stat(real, &st_real), 0);
	/* the premise: stat() through the overlay gives another device */
	assert_int_not_equal(st_ovl.st_dev, st_real.st_dev);

	t = new_track();
	assert_int_equal(tlstrack_probe_paths(t, globs, 1), 1);
	n = attaches;
	assert_true(n > 0);
	/* a process mapping the file through the overlay attaches nothing */
	m = map_file(file);
	assert_int_equal(tlstrack_scan(t, (uint32_t)getpid()), 0);
	assert_int_equal(attaches, n);
	munmap(m, 4096);
	assert_int_equal(tlstrack_stats(t)->files, 1);
	tlstrack_free(t);
}

/* Mounts an overlay of lower at dir/NAME (upper and work dirs NAME.u,
 * NAME.w): false when overlayfs cannot be mounted here. */
static bool overlay(const char *lower, const char *name)
{
	char upper[256], work[256], merged[256], opts[1024];

	snprintf(upper, sizeof(upper), "%s/%s.u", dir, name);
	snprintf(work, sizeof(work), "%s/%s.w", dir, name);
	snprintf(merged, sizeof(merged), "%s/%s", dir, name);
	assert_int_equal(mkdir(upper, 0755) | mkdir(work, 0755) | mkdir(merged, 0755), 0);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("overlay", merged, "overlay", 0, opts)) {
		print_message("overlayfs cannot be mounted here (%m): skipped\n");
		return false;
	}
	return true;
}

/* The maps identity of this process's mapping at m. */
static struct tlstrack_lib identity(const void *m)
{
	struct tlstrack_lib lib;
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (tlstrack_maps_file(line, strlen(line), &lib) &&
		    lib.start == (uint64_t)(uintptr_t)m) {
			fclose(f);
			return lib;
		}
	fclose(f);
	fail_msg("no maps line for %p", m);
	return lib;
}

static void test_two_overlays(void **state)
{
	char lower[256], a[300], b[300], real[300];
	const char *globs[1] = {a};
	struct tlstrack_lib ia, ib;
	struct tlstrack *t;
	void *ma, *mb, *mr;
	unsigned n;

	(void)state;
	path_of(lower, sizeof(lower), "lower");
	assert_int_equal(mkdir(lower, 0755), 0);
	copy_self("lower/libssl.so.3");
	if (!overlay(lower, "merged"))
		skip();
	if (!overlay(lower, "merged2"))
		skip();
	snprintf(a, sizeof(a), "%s/merged/libssl.so.3", dir);
	snprintf(b, sizeof(b), "%s/merged2/libssl.so.3", dir);
	snprintf(real, sizeof(real), "%s/libssl.so.3", lower);

	t = new_track();
	assert_int_equal(tlstrack_probe_paths(t, globs, 1), 1);
	n = attaches;
	ma = map_file(a);
	mb = map_file(b);
	mr = map_file(real);
	ia = identity(ma);
	ib = identity(mb);
	if (ia.dev_major == ib.dev_major && ia.dev_minor == ib.dev_minor)
		print_message("maps show the real file's device here: one identity\n");
	/* the second mount and the file itself add nothing */
	assert_int_equal(tlstrack_scan(t, (uint32_t)getpid()), 0);
	assert_int_equal(attaches, n);
	assert_int_equal(tlstrack_stats(t)->files, 1);
	if (ia.dev_major != ib.dev_major || ia.dev_minor != ib.dev_minor)
		assert_true(tlstrack_stats(t)->aliases >= 1);
	/* known now: a second scan does not even compare */
	assert_int_equal(tlstrack_scan(t, (uint32_t)getpid()), 0);
	assert_int_equal(attaches, n);
	munmap(ma, 4096);
	munmap(mb, 4096);
	munmap(mr, 4096);
	tlstrack_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_file_many_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_overlays, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
