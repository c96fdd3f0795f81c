// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ring_dump.c - a stand-in daemon for the shim tests: creates the shared
 * memory ring (user/intake/shm_ring.c), runs a command with the shim preloaded and
 * pointed at that ring, heartbeats and drains it, decodes every record with
 * user/intake/shim_decode.c and writes one line per operation:
 *
 *   system|operation|summary|namespace|address|port|error_type|status|flags
 *
 * flags: A async, P pipeline, T truncated text, N statement name, U unix socket.
 * Every record is also checked: a known pid (the child's, or any with -F),
 * a thread id, start <= end, both within the command's lifetime. A failed
 * check prints a BAD line on stderr and makes the exit status 99; otherwise
 * ring_dump exits with the command's status (128 + signal if killed).
 *
 * Usage: ring_dump -o OUT [-s SHIM] [-r RING] [-F] [-H] [-t] [-P] [-k MS] -- CMD ARGS...
 *        ring_dump -o OUT -d FILE    decode what tests/shim/fake_agent.c caught
 *   -s  LD_PRELOAD this shim in the command   -F  records from other pids are fine
 *   -H  also write hello lines                -t  append the sanitised query text
 *   -P  prefix lines with pid|tid|            -D  append the duration in microseconds
 *   -k  stop heartbeating after MS milliseconds (a daemon that died)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redtap/shim.h"
#include "shim_decode.h"
#include "shm_ring.h"

struct dump {
	FILE *out;
	pid_t child;
	bool any_pid;
	bool hellos;
	bool text;
	bool pidtid;
	bool durations;
	uint64_t t0, t1;
	unsigned ops, hello_count, bad;
	uint64_t shim_dropped, shim_untracked;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void flags_str(uint8_t f, char *buf)
{
	char *p = buf;

	if (f & RT_SHIM_F_ASYNC)
		*p++ = 'A';
	if (f & RT_SHIM_F_PIPELINE)
		*p++ = 'P';
	if (f & RT_SHIM_F_TRUNCATED)
		*p++ = 'T';
	if (f & RT_SHIM_F_TEXT_IS_NAME)
		*p++ = 'N';
	if (f & RT_SHIM_F_UNIX_SOCKET)
		*p++ = 'U';
	*p = 0;
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	struct dump *d = ctx;
	struct db_op op;
	char fl[8];

	if (shim_decode(rec, len, &op)) {
		fprintf(stderr, "BAD record of %zu bytes does not decode\n", len);
		d->bad++;
		return;
	}
	if (op.is_hello) {
		d->hello_count++;
		d->shim_dropped = op.shim_dropped;
		d->shim_untracked = op.shim_untracked;
		if (d->hellos)
			fprintf(d->out, "hello|%s|%s|%#x\n", op.comm, op.service_name,
				op.shim_features & ~(RT_SHIM_FEAT_IOCTL | RT_SHIM_FEAT_RING));
		return;
	}
	d->ops++;
	if (!d->any_pid && op.pid != (uint32_t)d->child) {
		fprintf(stderr, "BAD pid %u, expected %d\n", op.pid, (int)d->child);
		d->bad++;
	}
	if (!op.tid || op.start_ns > op.end_ns || op.start_ns < d->t0 ||
	    (d->t1 && op.end_ns > d->t1)) {
		fprintf(stderr, "BAD times or tid: tid=%u start=%llu end=%llu window=%llu..%llu\n",
			op.tid, (unsigned long long)op.start_ns, (unsigned long long)op.end_ns,
			(unsigned long long)d->t0, (unsigned long long)d->t1);
		d->bad++;
	}
	flags_str(op.flags, fl);
	if (d->pidtid)
		fprintf(d->out, "%u|%u|", op.pid, op.tid);
	fprintf(d->out, "%s|%s|%s|%s|%s|%u|%s|%s|%s", op.system, op.operation, op.query_summary,
		op.namespace_, op.server_address, op.server_port, op.error_type, op.status_code,
		fl);
	if (d->text)
		fprintf(d->out, "|%s", op.query_text);
	if (d->durations)
		fprintf(d->out, "|%llu", (unsigned long long)(op.end_ns - op.start_ns) / 1000);
	fputc('\n', d->out);
}

/* Decodes the [u32 len][u8 acked][data] frames fake_agent.c wrote. */
static int decode_file(struct dump *d, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char hdr[5], buf[RT_SHIM_REC_MAX + 64];
	unsigned msgs = 0, acked = 0;
	uint32_t len;

	if (!f) {
		fprintf(d->out, "# no messages\n");
		fprintf(stderr, "# fake agent: messages=0 acked=0 ops=0\n");
		return 0;
	}
	d->any_pid = true;
	while (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr)) {
		len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16;
		if (len > sizeof(buf) || fread(buf, 1, len, f) != len) {
			fprintf(stderr, "BAD frame\n");
			d->bad++;
			break;
		}
		msgs++;
		if (hdr[4]) {
			acked++;
			on_record(d, buf, len);
		}
	}
	fclose(f);
	fprintf(stderr, "# fake agent: messages=%u acked=%u ops=%u hellos=%u\n", msgs, acked,
		d->ops, d->hello_count);
	fclose(d->out);
	return d->bad ? 99 : 0;
}

int main(int argc, char **argv)
{
	struct dump d = {0};
	const char *shim = NULL, *out = NULL, *decode = NULL;
	char ring_path[256];
	struct shm_ring *r;
	long kill_ms = -1;
	int opt, status = 0, rc;
	bool exited = false;
	uint64_t start;

	snprintf(ring_path, sizeof(ring_path), "/dev/shm/redtap-test-%d", (int)getpid());
	while ((opt = getopt(argc, argv, "o:s:r:FHtPDk:d:")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 's':
			shim = optarg;
			break;
		case 'r':
			snprintf(ring_path, sizeof(ring_path), "%s", optarg);
			break;
		case 'F':
			d.any_pid = true;
			break;
		case 'H':
			d.hellos = true;
			break;
		case 't':
			d.text = true;
			break;
		case 'k':
			kill_ms = atol(optarg);
			break;
		case 'P':
			d.pidtid = true;
			break;
		case 'D':
			d.durations = true;
			break;
		case 'd':
			decode = optarg;
			break;
		default:
			return 2;
		}
	}
	if (out && decode) {
		d.out = fopen(out, "w");
		if (!d.out)
			return 2;
		shim_decode_set_query_text(d.text);
		return decode_file(&d, decode);
	}
	if (!out || optind >= argc) {
		fprintf(stderr,
			"usage: ring_dump -o OUT [-s SHIM] [-r RING] [-FHtPD] [-k MS] -- CMD...\n");
		return 2;
	}
	d.out = fopen(out, "w");
	if (!d.out) {
		perror(out);
		return 2;
	}
	shim_decode_set_query_text(d.text);
	r = shm_ring_create(ring_path, 1 << 20);
	if (!r) {
		perror("shm_ring_create");
		return 2;
	}
	d.t0 = start = now_ns();
	d.child = fork();
	if (d.child == 0) {
		setenv("REDTAP_SHIM_RING", ring_path, 1);
		setenv("REDTAP_SHIM_TRANSPORT", "ring", 1);
		if (shim)
			setenv("LD_PRELOAD", shim, 1);
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	while (!exited) {
		if (kill_ms < 0 || now_ns() - start < (uint64_t)kill_ms * 1000000ull)
			shm_ring_heartbeat(r);
		shm_ring_drain(r, on_record, &d);
		rc = waitpid(d.child, &status, WNOHANG);
		if (rc == d.child)
			exited = true;
		else if (rc < 0 && errno != EINTR)
			break;
		else
			usleep(20000);
	}
	d.t1 = now_ns();
	shm_ring_drain(r, on_record, &d);
	fprintf(stderr,
		"# ring_dump: ops=%u hellos=%u ring_dropped=%llu shim_dropped=%llu "
		"shim_untracked=%llu\n",
		d.ops, d.hello_count, (unsigned long long)shm_ring_dropped(r),
		(unsigned long long)d.shim_dropped, (unsigned long long)d.shim_untracked);
	shm_ring_destroy(r);
	fclose(d.out);
	if (d.bad)
		return 99;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 99;
}
