// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * podmeta.c - container and pod identity from /proc/PID/cgroup, environ and
 * the service-account namespace file inside the process's root. See
 * podmeta.h; SECURITY.md says why the root is opened with RESOLVE_IN_ROOT.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "k8sapi.h"
#include "otlp_env.h"
#include "podmeta.h"

#define CGROUP_READ_MAX	 16384 /* a process's cgroup file is well under 4 KiB */
#define ENVIRON_READ_MAX 32768 /* as procs.c reads for the service name */
#define NS_FILE		 "var/run/secrets/kubernetes.io/serviceaccount/namespace"
#define CACHE_SLOTS	 4096

static const char gen_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

bool podmeta_known(const struct podmeta *m)
{
	return m->container_id[0] || m->pod_uid[0];
}

const char *podmeta_qos_name(enum podmeta_qos q)
{
	switch (q) {
	case PODMETA_QOS_GUARANTEED:
		return "guaranteed";
	case PODMETA_QOS_BURSTABLE:
		return "burstable";
	case PODMETA_QOS_BESTEFFORT:
		return "besteffort";
	default:
		return "";
	}
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t pn = strlen(prefix);

	return n >= pn && memcmp(s, prefix, pn) == 0;
}

static bool ends(const char *s, size_t n, const char *suffix)
{
	size_t sn = strlen(suffix);

	return n >= sn && memcmp(s + n - sn, suffix, sn) == 0;
}

/* A pod uid as the kubelet writes it in a cgroup name ('_' for '-' under
 * systemd): 8-4-4-4-12 hex digits, or 32 (a static pod's hash). */
static bool take_uid(const char *s, size_t n, struct podmeta *m)
{
	char uid[PODMETA_UID_MAX];

	if (n != 36 && n != 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
		char c = s[i] == '_' ? '-' : s[i];

		if (dash ? c != '-' : !is_hex(&c, 1))
			return false;
		uid[i] = c;
	}
	uid[n] = '\0';
	memcpy(m->pod_uid, uid, n + 1);
	return true;
}

static bool take_id(const char *s, size_t n, struct podmeta *m)
{
	if (n != 64 || !is_hex(s, n))
		return false;
	memcpy(m->container_id, s, n);
	m->container_id[n] = '\0';
	return true;
}

static void take_qos(const char *s, size_t n, struct podmeta *m)
{
	if (n == 9 && !memcmp(s, "burstable", 9))
		m->qos = PODMETA_QOS_BURSTABLE;
	else if (n == 10 && !memcmp(s, "besteffort", 10))
		m->qos = PODMETA_QOS_BESTEFFORT;
}

/*
 * One path segment. cgroupfs: kubepods, burstable|besteffort, pod<uid>,
 * <id> (also docker/<id>). systemd: kubepods[-qos].slice,
 * kubepods[-qos]-pod<uid>.slice, {cri-containerd,crio,docker,libpod}-<id>.scope
 * (crio-conmon-<id> is the monitor, not the container).
 */
static void segment(const char *s, size_t n, bool *pods, struct podmeta *m)
{
	static const char *const scopes[] = {"cri-containerd-", "crio-", "docker-", "libpod-"};

	if (starts(s, n, "kubepods")) {
		const char *p = s + 8;
		size_t k = n - 8;

		*pods = true;
		if (ends(p, k, ".slice"))
			k -= 6;
		while (k && *p == '-') {
			const char *d = memchr(p + 1, '-', k - 1);
			size_t w = d ? (size_t)(d - p - 1) : k - 1;

			if (starts(p + 1, w, "pod"))
				take_uid(p + 4, w - 3, m);
			else
				take_qos(p + 1, w, m);
			p += w + 1;
			k -= w + 1;
		}
		return;
	}
	if (*pods && starts(s, n, "pod")) {
		take_uid(s + 3, n - 3, m);
		return;
	}
	if (*pods && !m->pod_uid[0] && m->qos == PODMETA_QOS_NONE) {
		take_qos(s, n, m);
		if (m->qos != PODMETA_QOS_NONE)
			return;
	}
	if (ends(s, n, ".scope")) {
		for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
			size_t pn = strlen(scopes[i]);

			if (starts(s, n, scopes[i]) && !starts(s, n, "crio-conmon-"))
				take_id(s + pn, n - pn - 6, m);
		}
		return;
	}
	take_id(s, n, m);
}

/* The path of one "id:controllers:path" line. */
static void cgroup_line(const char *line, size_t n, struct podmeta *m)
{
	const char *c1 = memchr(line, ':', n), *c2, *p, *end = line + n;
	bool pods = false;

	if (!c1 || !(c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))))
		return;
	for (p = c2 + 1; p < end;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t w = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (w)
			segment(p, w, &pods, m);
		p += w + 1;
	}
	if (m->pod_uid[0] && m->qos == PODMETA_QOS_NONE)
		m->qos = PODMETA_QOS_GUARANTEED; /* kubepods without a QoS level */
}

bool podmeta_parse_cgroup(const char *text, size_t len, struct podmeta *m)
{
	const char *p = text, *end = text + len;

	while (p < end && !podmeta_known(m)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct podmeta one = {.qos = PODMETA_QOS_NONE};

		cgroup_line(p, n, &one);
		if (podmeta_known(&one)) {
			memcpy(m->container_id, one.container_id, sizeof(m->container_id));
			memcpy(m->pod_uid, one.pod_uid, sizeof(m->pod_uid));
			m->qos = one.pod_uid[0] ? one.qos : PODMETA_QOS_NONE;
		}
		p += n + 1;
	}
	return podmeta_known(m);
}

bool podmeta_valid_label(const char *s, size_t n)
{
	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (c != '-' || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

/* A DNS subdomain (pod names): labels joined by '.', 1..253. */
bool podmeta_valid_subdomain(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	if (n < 1 || n > 253)
		return false;
	while (p <= end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t w = dot ? (size_t)(dot - p) : (size_t)(end - p);

		if (!podmeta_valid_label(p, w))
			return false;
		if (!dot)
			break;
		p = dot + 1;
	}
	return true;
}

static void set_checked(char *dst, size_t dstlen, const char *v, size_t n, bool subdomain)
{
	bool ok = subdomain ? podmeta_valid_subdomain(v, n) : podmeta_valid_label(v, n);

	if (ok && n < dstlen) {
		memcpy(dst, v, n);
		dst[n] = '\0';
	}
}

static bool gen_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(gen_alphabet, s[i]))
			return false;
	return true;
}

enum podmeta_workload podmeta_workload(const char *pod_name, char *out, size_t outlen)
{
	size_t n = strnlen(pod_name, PODMETA_NAME_MAX), k, h;
	const char *dash;

	out[0] = '\0';
	if (!n || n >= PODMETA_NAME_MAX)
		return PODMETA_WL_NONE;
	dash = memrchr(pod_name, '-', n);
	if (!dash || dash == pod_name)
		return PODMETA_WL_NONE;
	k = (size_t)(dash - pod_name); /* the prefix before the last '-' */
	/* StatefulSet: <name>-<ordinal>, 0..9999 without a leading zero */
	if (n - k - 1 >= 1 && n - k - 1 <= 4 && strspn(dash + 1, "0123456789") == n - k - 1 &&
	    (dash[1] != '0' || n - k - 1 == 1)) {
		if (k >= outlen)
			return PODMETA_WL_NONE;
		snprintf(out, outlen, "%.*s", (int)k, pod_name);
		return PODMETA_WL_STATEFULSET;
	}
	/* Deployment: <name>-<hash>-<5>; the ReplicaSet's generateName prefix
	 * (<name>-<hash>-) is cut at 58 characters, so a longer one is not exact */
	if (n - k - 1 != 5 || !gen_chars(dash + 1, 5) || k + 1 > 58)
		return PODMETA_WL_NONE;
	dash = memrchr(pod_name, '-', k);
	if (!dash || dash == pod_name)
		return PODMETA_WL_NONE;
	h = k - (size_t)(dash - pod_name) - 1;
	if (h < 6 || h > 10 || !gen_chars(dash + 1, h))
		return PODMETA_WL_NONE;
	k = (size_t)(dash - pod_name);
	if (k >= outlen)
		return PODMETA_WL_NONE;
	snprintf(out, outlen, "%.*s", (int)k, pod_name);
	return PODMETA_WL_DEPLOYMENT;
}

struct attrs_ctx {
	struct podmeta *m;
	bool pod, ns, container;
};

static int take_resource_attr(void *ctx, const char *key, const char *val)
{
	struct attrs_ctx *x = ctx;
	struct podmeta *m = x->m;
	size_t n = strlen(val);

	if (!strcmp(key, "k8s.pod.name")) {
		set_checked(m->pod_name, sizeof(m->pod_name), val, n, true);
		x->pod = m->pod_name[0];
	} else if (!strcmp(key, "k8s.namespace.name")) {
		set_checked(m->namespace_name, sizeof(m->namespace_name), val, n, false);
		x->ns = m->namespace_name[0];
	} else if (!strcmp(key, "k8s.container.name")) {
		set_checked(m->container_name, sizeof(m->container_name), val, n, false);
		x->container = m->container_name[0];
	}
	return 0;
}

/* The value of "KEY=" in s (n bytes), or NULL. */
static const char *env_value(const char *s, size_t n, const char *key, size_t *vlen)
{
	size_t kn = strlen(key);

	if (n <= kn || memcmp(s, key, kn) || s[kn] != '=')
		return NULL;
	*vlen = n - kn - 1;
	return s + kn + 1;
}

void podmeta_parse_environ(const char *env, size_t len, struct podmeta *m)
{
	static const char *const pods[] = {"POD_NAME", "K8S_POD_NAME", "HOSTNAME"};
	static const char *const nss[] = {"POD_NAMESPACE", "K8S_NAMESPACE", "KUBERNETES_NAMESPACE"};
	static const char *const ctrs[] = {"CONTAINER_NAME", "K8S_CONTAINER_NAME"};
	struct attrs_ctx x = {.m = m};
	const char *end = env + len, *s;
	int pod_rank = 99;

	if (!m->pod_uid[0])
		return;
	/* OTEL_RESOURCE_ATTRIBUTES first: what the process says of itself wins */
	for (s = env; s < end; s += strnlen(s, (size_t)(end - s)) + 1) {
		size_t n = strnlen(s, (size_t)(end - s)), vn;
		const char *v = env_value(s, n, "OTEL_RESOURCE_ATTRIBUTES", &vn);
		char list[4096];

		if (v) {
			snprintf(list, sizeof(list), "%.*s", (int)vn, v);
			otlp_kv_parse(list, true, take_resource_attr, &x);
		}
	}
	for (s = env; s < end; s += strnlen(s, (size_t)(end - s)) + 1) {
		size_t n = strnlen(s, (size_t)(end - s)), vn;
		const char *v;

		for (int i = 0; i < 3 && !x.pod; i++) {
			v = env_value(s, n, pods[i], &vn);
			if (v && i < pod_rank && podmeta_valid_subdomain(v, vn) &&
			    vn < sizeof(m->pod_name)) {
				set_checked(m->pod_name, sizeof(m->pod_name), v, vn, true);
				pod_rank = i;
			}
		}
		for (int i = 0; i < 3 && !x.ns; i++) {
			v = env_value(s, n, nss[i], &vn);
			if (v && !m->namespace_name[0])
				set_checked(m->namespace_name, sizeof(m->namespace_name), v, vn,
					    false);
		}
		for (int i = 0; i < 2 && !x.container; i++) {
			v = env_value(s, n, ctrs[i], &vn);
			if (v && !m->container_name[0])
				set_checked(m->container_name, sizeof(m->container_name), v, vn,
					    false);
		}
	}
	m->workload_kind = podmeta_workload(m->pod_name, m->workload, sizeof(m->workload));
}

/* ---- reading a process's files ---- */

static ssize_t read_file(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, max);
	close(fd);
	return n;
}

/*
 * The namespace file inside pid's root. /proc/PID/root is the process's root
 * directory; resolving below it with RESOLVE_IN_ROOT keeps every symlink and
 * ".." of the container's choosing inside that root (an absolute link would
 * otherwise resolve against the agent's root, with root's rights).
 * RESOLVE_NO_MAGICLINKS refuses /proc/self/... tricks, O_NONBLOCK a FIFO, and
 * only a regular file is read, 64 bytes at most.
 */
static void read_namespace(uint32_t pid, struct podmeta *m)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[64], buf[65];
	struct stat st;
	int root, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/root", pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return;
	fd = (int)syscall(SYS_openat2, root, NS_FILE, &how, sizeof(how));
	close(root);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	set_checked(m->namespace_name, sizeof(m->namespace_name), buf, (size_t)n, false);
}

/*
 * What the optional pod list (k8sapi.h) says of the pod: its app label, and
 * its owner workload where the pod-name rule found none (the list's
 * controller reference is exact; the name rule is too when it matched).
 */
static void merge_pod_list(struct podmeta *m)
{
	struct k8sapi_pod p;

	if (!m->pod_uid[0] || !k8sapi_lookup(m->pod_uid, &p))
		return;
	memcpy(m->app, p.app, sizeof(m->app));
	if (m->workload_kind == PODMETA_WL_NONE && p.kind != PODMETA_WL_NONE) {
		m->workload_kind = p.kind;
		memcpy(m->workload, p.workload, sizeof(m->workload));
	}
}

void podmeta_read(uint32_t pid, struct podmeta *out)
{
	static __thread char buf[ENVIRON_READ_MAX];
	char path[64];
	ssize_t n;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_file(path, buf, CGROUP_READ_MAX);
	if (n <= 0 || !podmeta_parse_cgroup(buf, (size_t)n, out) || !out->pod_uid[0])
		return;
	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	n = read_file(path, buf, sizeof(buf));
	if (n > 0)
		podmeta_parse_environ(buf, (size_t)n, out);
	if (!out->namespace_name[0])
		read_namespace(pid, out);
	merge_pod_list(out);
}

/* ---- the cache ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint32_t pid; /* 0: empty */
	/*
	 * pid again when that process is in no pod, else 0: read without the
	 * lock by podmeta_label_values(), whose answer for such a process is
	 * "no labels". Written (atomically) with the lock held.
	 */
	uint32_t podless;
	struct podmeta m;
} cache[CACHE_SLOTS];
static unsigned label_mask = PODMETA_LABEL_NAMESPACE | PODMETA_LABEL_WORKLOAD;

void podmeta_get(uint32_t pid, struct podmeta *out)
{
	size_t slot = pid % CACHE_SLOTS;

	pthread_mutex_lock(&lock);
	if (pid && cache[slot].pid == pid) {
		*out = cache[slot].m;
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	podmeta_read(pid, out); /* without the lock: it reads files */
	pthread_mutex_lock(&lock);
	cache[slot].pid = pid;
	cache[slot].m = *out;
	__atomic_store_n(&cache[slot].podless, out->pod_uid[0] ? 0 : pid, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
}

void podmeta_invalidate(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		cache[i].pid = 0;
		__atomic_store_n(&cache[i].podless, 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
}

void podmeta_forget(uint32_t pid)
{
	size_t slot = pid % CACHE_SLOTS;

	pthread_mutex_lock(&lock);
	if (cache[slot].pid == pid) {
		cache[slot].pid = 0;
		__atomic_store_n(&cache[slot].podless, 0, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
}

int podmeta_parse_labels(const char *list, unsigned *mask)
{
	unsigned m = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		while (n && *p == ' ') {
			p++;
			n--;
		}
		if (n == 9 && !memcmp(p, "namespace", 9))
			m |= PODMETA_LABEL_NAMESPACE;
		else if (n == 8 && !memcmp(p, "workload", 8))
			m |= PODMETA_LABEL_WORKLOAD;
		else if (n == 3 && !memcmp(p, "pod", 3))
			m |= PODMETA_LABEL_POD;
		else if (!(n == 4 && !memcmp(p, "none", 4)) && n)
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return 0;
}

void podmeta_set_labels(unsigned mask)
{
	__atomic_store_n(&label_mask, mask, __ATOMIC_RELAXED);
}

int podmeta_configure(const char *list)
{
	unsigned mask;
	int err = podmeta_parse_labels(list, &mask);

	if (!err)
		podmeta_set_labels(mask);
	return err;
}

unsigned podmeta_labels(void)
{
	return __atomic_load_n(&label_mask, __ATOMIC_RELAXED);
}

/*
 * Copies the string of field (an array of fieldsz bytes) to *b, cut to what
 * is left before end, and returns the copy (*b moves past its NUL).
 */
static const char *put_value(char **b, const char *end, const char *field, size_t fieldsz)
{
	char *dst = *b;
	size_t n = strnlen(field, fieldsz);

	if (dst >= end)
		return "";
	if (n >= (size_t)(end - dst))
		n = (size_t)(end - dst) - 1; /* lv->buf holds every field whole: never */
	memcpy(dst, field, n);
	dst[n] = 0;
	*b = dst + n + 1;
	return dst;
}

/* The configured labels of m into lv (vals already ""). */
static void fill_labels(const struct podmeta *m, unsigned mask, struct podmeta_labelvals *lv)
{
	char *b = lv->buf;
	const char *end = lv->buf + sizeof(lv->buf);

	if (!m->pod_uid[0])
		return;
	if ((mask & PODMETA_LABEL_NAMESPACE) && m->namespace_name[0])
		lv->vals[0] = put_value(&b, end, m->namespace_name, sizeof(m->namespace_name));
	/* DaemonSets and Jobs have no metric label (semconv.h): OTLP only */
	if ((mask & PODMETA_LABEL_WORKLOAD) && (m->workload_kind == PODMETA_WL_DEPLOYMENT ||
						m->workload_kind == PODMETA_WL_STATEFULSET))
		lv->vals[m->workload_kind == PODMETA_WL_DEPLOYMENT ? 1 : 2] =
		    put_value(&b, end, m->workload, sizeof(m->workload));
	if ((mask & PODMETA_LABEL_POD) && m->pod_name[0])
		lv->vals[3] = put_value(&b, end, m->pod_name, sizeof(m->pod_name));
}

/*
 * Called for every observation: a process known to be in no pod costs one
 * atomic load, any other cache hit the lock and a copy of its labels.
 */
void podmeta_label_values(uint32_t pid, struct podmeta_labelvals *lv)
{
	unsigned mask = podmeta_labels();
	size_t slot = pid % CACHE_SLOTS;
	struct podmeta m;

	for (size_t i = 0; i < PODMETA_NLABELS; i++)
		lv->vals[i] = "";
	if (!mask || (pid && __atomic_load_n(&cache[slot].podless, __ATOMIC_ACQUIRE) == pid))
		return;
	pthread_mutex_lock(&lock);
	if (pid && cache[slot].pid == pid) {
		fill_labels(&cache[slot].m, mask, lv);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	podmeta_get(pid, &m);
	fill_labels(&m, mask, lv);
}
