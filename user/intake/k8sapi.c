// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * k8sapi.c - the optional kubelet / API server pod list: a bounded JSON
 * reader of the few fields podmeta needs, the swapped table, and the fetch
 * thread on libcurl. See k8sapi.h; SECURITY.md lists it as an input surface.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8sapi.h"
#include "log.h"
#include "otlp_http.h"

#define KEY_MAX		  64
#define TOKEN_MAX	  8192
#define FETCH_TIMEOUT_S	  10L
#define CONNECT_TIMEOUT_S 5L
#define FIRST_WAIT_S	  3 /* k8sapi_start() waits this long at most for the first list */

/* ---- the JSON reader: one cursor, every step bounded by len and depth ---- */

struct jp {
	const char *p, *end;
	int depth;
	bool err;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool fail(struct jp *j)
{
	j->err = true;
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A string at the cursor into out (outlen > 0), or only skipped when out is
 * NULL. A string that does not fit leaves out "" (absent, never truncated);
 * a non-ASCII character becomes 0x01, which no validator accepts.
 */
static bool str(struct jp *j, char *out, size_t outlen)
{
	size_t n = 0;
	bool fits = true;

	ws(j);
	if (j->p >= j->end || *j->p != '"')
		return fail(j);
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;

		if (c < 0x20)
			return fail(j);
		if (c == '\\') {
			if (j->p >= j->end)
				return fail(j);
			c = (unsigned char)*j->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				c = 0x01;
				break;
			case 'u': {
				int v = 0;

				if (j->end - j->p < 4)
					return fail(j);
				for (int i = 0; i < 4; i++) {
					int h = hexval(j->p[i]);

					if (h < 0)
						return fail(j);
					v = v * 16 + h;
				}
				j->p += 4;
				c = v > 0 && v < 0x80 ? (unsigned char)v : 0x01;
				break;
			}
			default:
				return fail(j);
			}
		} else if (c >= 0x80) {
			c = 0x01;
		}
		if (out && n + 1 < outlen)
			out[n++] = (char)c;
		else
			fits = false;
	}
	if (j->p >= j->end)
		return fail(j);
	j->p++;
	if (out)
		out[fits ? n : 0] = '\0';
	return true;
}

/* Consumes c ('{' or '[') and enters one level. */
static bool open_level(struct jp *j, char c)
{
	ws(j);
	if (j->p >= j->end || *j->p != c || ++j->depth > K8SAPI_DEPTH_MAX)
		return fail(j);
	j->p++;
	return true;
}

/* Whether a container closed by "close" has one more item (after its comma
 * unless it is the first): 1, 0 at its end, -1 on error. */
static int next_item(struct jp *j, bool *first, char close)
{
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	if (!*first) {
		if (j->p >= j->end || *j->p != ',')
			return fail(j) - 1;
		j->p++;
	}
	*first = false;
	return 1;
}

/* The next member of an object into key: 1, 0 at its end, -1 on error. */
static int next_key(struct jp *j, bool *first, char *key)
{
	int r = next_item(j, first, '}');

	if (r <= 0)
		return r;
	if (!str(j, key, KEY_MAX))
		return -1;
	ws(j);
	if (j->p >= j->end || *j->p != ':')
		return fail(j) - 1;
	j->p++;
	return 1;
}

/* Whether an array has one more element: 1, 0 at its end, -1 on error. */
static int next_elem(struct jp *j, bool *first)
{
	return next_item(j, first, ']');
}

static bool skip(struct jp *j);

static bool skip_object(struct jp *j)
{
	char key[KEY_MAX];
	bool first = true;
	int r;

	if (!open_level(j, '{'))
		return false;
	while ((r = next_key(j, &first, key)) > 0)
		if (!skip(j))
			return false;
	return r == 0;
}

static bool skip_array(struct jp *j)
{
	bool first = true;
	int r;

	if (!open_level(j, '['))
		return false;
	while ((r = next_elem(j, &first)) > 0)
		if (!skip(j))
			return false;
	return r == 0;
}

/* Any value: strings, objects, arrays, and literals and numbers by their characters. */
static bool skip(struct jp *j)
{
	const char *start;

	ws(j);
	if (j->p >= j->end)
		return fail(j);
	if (*j->p == '"')
		return str(j, NULL, 0);
	if (*j->p == '{')
		return skip_object(j);
	if (*j->p == '[')
		return skip_array(j);
	start = j->p;
	while (j->p < j->end && strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.E", *j->p) && *j->p)
		j->p++;
	return j->p > start ? true : fail(j);
}

/* Enters a value expected to open with "open" ('{' or '['): 1 inside it,
 * 0 when the value is of another kind (null, say) and was skipped, -1 on
 * error. */
static int enter(struct jp *j, char open)
{
	ws(j);
	if (j->p < j->end && *j->p != open)
		return skip(j) ? 0 : -1;
	return open_level(j, open) ? 1 : -1;
}

/* A string into out, or any other value skipped with out "". */
static bool str_or_skip(struct jp *j, char *out, size_t outlen)
{
	ws(j);
	out[0] = '\0';
	if (j->p < j->end && *j->p == '"')
		return str(j, out, outlen);
	return skip(j);
}

/* ---- one pod ---- */

struct pod_raw {
	char uid[KEY_MAX];
	char app_k8s[KEY_MAX], app[KEY_MAX], hash[KEY_MAX];
	char kind[KEY_MAX], owner[PODMETA_NAME_MAX];
};

static bool parse_labels(struct jp *j, struct pod_raw *r)
{
	char key[KEY_MAX];
	bool first = true;
	int res, in;

	in = enter(j, '{');
	if (in <= 0)
		return in == 0;
	while ((res = next_key(j, &first, key)) > 0) {
		char *dst = !strcmp(key, "app.kubernetes.io/name") ? r->app_k8s
			    : !strcmp(key, "app")		   ? r->app
			    : !strcmp(key, "pod-template-hash")	   ? r->hash
								   : NULL;
		bool ok = dst ? str_or_skip(j, dst, KEY_MAX) : skip(j);

		if (!ok)
			return false;
	}
	return res == 0;
}

/* One ownerReference: kept when it is the controller. */
static bool parse_owner(struct jp *j, struct pod_raw *r)
{
	char key[KEY_MAX], kind[KEY_MAX] = "", name[PODMETA_NAME_MAX] = "";
	bool first = true, controller = false, ok;
	int res, in;

	in = enter(j, '{');
	if (in <= 0)
		return in == 0;
	while ((res = next_key(j, &first, key)) > 0) {
		if (!strcmp(key, "kind")) {
			ok = str_or_skip(j, kind, sizeof(kind));
		} else if (!strcmp(key, "name")) {
			ok = str_or_skip(j, name, sizeof(name));
		} else if (!strcmp(key, "controller")) {
			ws(j);
			controller = j->end - j->p >= 4 && !memcmp(j->p, "true", 4);
			ok = skip(j);
		} else {
			ok = skip(j);
		}
		if (!ok)
			return false;
	}
	if (res == 0 && controller && !r->kind[0]) {
		memcpy(r->kind, kind, sizeof(kind));
		memcpy(r->owner, name, sizeof(name));
	}
	return res == 0;
}

static bool parse_owners(struct jp *j, struct pod_raw *r)
{
	bool first = true;
	int res, in;

	in = enter(j, '[');
	if (in <= 0)
		return in == 0;
	while ((res = next_elem(j, &first)) > 0)
		if (!parse_owner(j, r))
			return false;
	return res == 0;
}

static bool parse_metadata(struct jp *j, struct pod_raw *r)
{
	char key[KEY_MAX];
	bool first = true, ok;
	int res, in;

	in = enter(j, '{');
	if (in <= 0)
		return in == 0;
	while ((res = next_key(j, &first, key)) > 0) {
		if (!strcmp(key, "uid"))
			ok = str_or_skip(j, r->uid, sizeof(r->uid));
		else if (!strcmp(key, "labels"))
			ok = parse_labels(j, r);
		else if (!strcmp(key, "ownerReferences"))
			ok = parse_owners(j, r);
		else
			ok = skip(j);
		if (!ok)
			return false;
	}
	return res == 0;
}

/* 8-4-4-4-12 lowercase hex digits, or 32 (as podmeta reads from cgroups). */
static bool valid_uid(const char *s)
{
	size_t n = strlen(s);

	if (n != 36 && n != 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

		if (dash ? s[i] != '-'
			 : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* A label value: 1..63 of [A-Za-z0-9._-], beginning and ending alphanumeric. */
static bool valid_label_value(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || i == n - 1 || !strchr("._-", c)))
			return false;
	}
	return true;
}

/*
 * The workload of the controller reference. A ReplicaSet is a Deployment's
 * only when its name is "<deployment>-<the pod's pod-template-hash label>"
 * (the rule the Deployment controller names it by); a bare ReplicaSet has
 * no workload here.
 */
static void resolve_owner(const struct pod_raw *r, struct k8sapi_pod *p)
{
	size_t n = strlen(r->owner), h = strlen(r->hash);

	p->kind = PODMETA_WL_NONE;
	if (!podmeta_valid_subdomain(r->owner, n))
		return;
	if (!strcmp(r->kind, "ReplicaSet")) {
		if (!h || n < h + 2 || r->owner[n - h - 1] != '-' ||
		    strcmp(r->owner + n - h, r->hash))
			return;
		n -= h + 1;
		p->kind = PODMETA_WL_DEPLOYMENT;
	} else if (!strcmp(r->kind, "StatefulSet")) {
		p->kind = PODMETA_WL_STATEFULSET;
	} else if (!strcmp(r->kind, "DaemonSet")) {
		p->kind = PODMETA_WL_DAEMONSET;
	} else if (!strcmp(r->kind, "Job")) {
		p->kind = PODMETA_WL_JOB;
	} else {
		return;
	}
	memcpy(p->workload, r->owner, n);
	p->workload[n] = '\0';
}

struct builder {
	struct k8sapi_table *t;
	size_t cap;
};

static bool add_pod(struct builder *b, const struct pod_raw *r)
{
	struct k8sapi_pod *p;

	if (!valid_uid(r->uid) || b->t->n >= K8SAPI_PODS_MAX)
		return true;
	if (b->t->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct k8sapi_table *t = realloc(b->t, sizeof(*t) + cap * sizeof(t->pods[0]));

		if (!t)
			return false;
		b->t = t;
		b->cap = cap;
	}
	p = &b->t->pods[b->t->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->uid, r->uid, strlen(r->uid) + 1);
	if (valid_label_value(r->app_k8s))
		memcpy(p->app, r->app_k8s, strlen(r->app_k8s) + 1);
	else if (valid_label_value(r->app))
		memcpy(p->app, r->app, strlen(r->app) + 1);
	resolve_owner(r, p);
	return true;
}

static bool parse_pod(struct jp *j, struct builder *b, bool *oom)
{
	struct pod_raw r;
	char key[KEY_MAX];
	bool first = true, ok;
	int res, in;

	memset(&r, 0, sizeof(r));
	in = enter(j, '{');
	if (in <= 0)
		return in == 0;
	while ((res = next_key(j, &first, key)) > 0) {
		ok = !strcmp(key, "metadata") ? parse_metadata(j, &r) : skip(j);
		if (!ok)
			return false;
	}
	if (res != 0)
		return false;
	if (!add_pod(b, &r))
		*oom = true;
	return !*oom;
}

static bool parse_items(struct jp *j, struct builder *b, bool *oom)
{
	bool first = true;
	int res, in;

	in = enter(j, '[');
	if (in <= 0)
		return in == 0; /* null: no pods */
	while ((res = next_elem(j, &first)) > 0)
		if (!parse_pod(j, b, oom))
			return false;
	return res == 0;
}

static int cmp_pod(const void *a, const void *b)
{
	return strcmp(((const struct k8sapi_pod *)a)->uid, ((const struct k8sapi_pod *)b)->uid);
}

int k8sapi_parse(const char *json, size_t len, struct k8sapi_table **out)
{
	struct jp j = {.p = json, .end = json + len};
	struct builder b = {.t = calloc(1, sizeof(*b.t))};
	char key[KEY_MAX];
	bool first = true, items = false, oom = false, ok = true;
	int res;

	*out = NULL;
	if (!b.t)
		return -ENOMEM;
	if (open_level(&j, '{')) {
		while (ok && (res = next_key(&j, &first, key)) > 0) {
			if (!strcmp(key, "items") && !items) {
				items = true;
				ok = parse_items(&j, &b, &oom);
			} else {
				ok = skip(&j);
			}
		}
		ws(&j);
		if (ok && (res != 0 || j.p != j.end))
			j.err = true;
	}
	if (oom || j.err || !ok || !items) {
		free(b.t);
		return oom ? -ENOMEM : -EINVAL;
	}
	qsort(b.t->pods, b.t->n, sizeof(b.t->pods[0]), cmp_pod);
	*out = b.t;
	return 0;
}

const struct k8sapi_pod *k8sapi_find(const struct k8sapi_table *t, const char *uid)
{
	struct k8sapi_pod key = {.kind = PODMETA_WL_NONE};

	if (!t || strlen(uid) >= sizeof(key.uid))
		return NULL;
	memcpy(key.uid, uid, strlen(uid) + 1);
	return bsearch(&key, t->pods, t->n, sizeof(t->pods[0]), cmp_pod);
}

/* ---- the current table ---- */

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct k8sapi_table *current;

void k8sapi_install(struct k8sapi_table *t)
{
	struct k8sapi_table *old;

	pthread_mutex_lock(&table_lock);
	old = current;
	current = t;
	pthread_mutex_unlock(&table_lock);
	free(old);
	podmeta_invalidate(); /* entries read before this table miss its data */
}

bool k8sapi_lookup(const char *uid, struct k8sapi_pod *out)
{
	const struct k8sapi_pod *p;

	pthread_mutex_lock(&table_lock);
	p = k8sapi_find(current, uid);
	if (p)
		*out = *p;
	pthread_mutex_unlock(&table_lock);
	return p != NULL;
}

/* ---- the fetch thread ---- */

static struct {
	pthread_t thread;
	bool running, stopping, fetched;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char *url, *token_file, *ca_file;
	unsigned refresh_s;
	bool failing; /* the last fetch failed: log again only on a change */
} fetcher = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

struct body {
	char *buf;
	size_t len, cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;

	if (n > K8SAPI_BODY_MAX - b->len)
		return 0; /* over the bound: libcurl aborts the transfer */
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > K8SAPI_BODY_MAX)
			cap = K8SAPI_BODY_MAX;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return n;
}

/* The first line of the token file ("" when none), read now: tokens rotate. */
static void read_token(char *tok, size_t len)
{
	int fd = fetcher.token_file[0] ? open(fetcher.token_file, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, tok, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	tok[n > 0 ? n : 0] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
}

/* One fetch and parse: 0 or -errno; the table is installed on success. */
static int fetch_once(void)
{
	static char tok[TOKEN_MAX], auth[TOKEN_MAX + 32];
	struct curl_slist *hdrs = NULL, *n;
	struct body b = {0};
	struct k8sapi_table *t;
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;
	int err;

	if (!c)
		return -ENOMEM;
	n = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = n ? n : hdrs;
	read_token(tok, sizeof(tok));
	/* the token goes over https only: never in clear to a read-only port */
	if (tok[0] && !strncasecmp(fetcher.url, "https://", 8)) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		n = curl_slist_append(hdrs, auth);
		hdrs = n ? n : hdrs;
	}
	curl_easy_setopt(c, CURLOPT_URL, fetcher.url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)K8SAPI_BODY_MAX);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "redtap-k8sapi");
	if (fetcher.ca_file[0] && access(fetcher.ca_file, R_OK) == 0)
		curl_easy_setopt(c, CURLOPT_CAINFO, fetcher.ca_file);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	memset(auth, 0, sizeof(auth));
	memset(tok, 0, sizeof(tok));
	if (rc != CURLE_OK || code != 200) {
		free(b.buf);
		if (!fetcher.failing)
			rt_warn("k8s pod list: %s (HTTP %ld); pod metadata from /proc only",
				rc != CURLE_OK ? curl_easy_strerror(rc) : "unexpected status",
				code);
		return -EIO;
	}
	err = k8sapi_parse(b.buf ? b.buf : "", b.len, &t);
	free(b.buf);
	if (err) {
		if (!fetcher.failing)
			rt_warn("k8s pod list: not a pod list (%s)", strerror(-err));
		return err;
	}
	if (fetcher.failing || log_current_level >= LOG_LVL_DEBUG)
		rt_info("k8s pod list: %zu pods", t->n);
	k8sapi_install(t);
	return 0;
}

static void *fetch_loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fetcher.lock);
	while (!fetcher.stopping) {
		struct timespec ts;

		pthread_mutex_unlock(&fetcher.lock);
		fetcher.failing = fetch_once() != 0;
		pthread_mutex_lock(&fetcher.lock);
		if (!fetcher.fetched) {
			fetcher.fetched = true;
			pthread_cond_broadcast(&fetcher.wake); /* k8sapi_start() waits for it */
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += fetcher.failing && fetcher.refresh_s > 10 ? 10 : fetcher.refresh_s;
		while (!fetcher.stopping &&
		       pthread_cond_timedwait(&fetcher.wake, &fetcher.lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&fetcher.lock);
	return NULL;
}

int k8sapi_start(const struct k8sapi_config *cfg)
{
	pthread_condattr_t ca;
	int err;

	if (!cfg->url || !cfg->url[0] || fetcher.running)
		return 0;
	if (otlp_http_global_init())
		return -ENOMEM;
	fetcher.url = strdup(cfg->url);
	fetcher.token_file = strdup(cfg->token_file ? cfg->token_file : "");
	fetcher.ca_file = strdup(cfg->ca_file ? cfg->ca_file : "");
	fetcher.refresh_s = cfg->refresh_s ? cfg->refresh_s : 30;
	fetcher.stopping = false;
	fetcher.failing = false;
	if (!fetcher.url || !fetcher.token_file || !fetcher.ca_file) {
		err = -ENOMEM;
		goto out;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fetcher.wake, &ca);
	pthread_condattr_destroy(&ca);
	fetcher.fetched = false;
	err = -pthread_create(&fetcher.thread, NULL, fetch_loop, NULL);
	if (!err) {
		struct timespec ts;

		/* The first list, so that the first processes named have it: a
		 * bounded wait (an unreachable server costs FIRST_WAIT_S once). */
		fetcher.running = true;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += FIRST_WAIT_S;
		pthread_mutex_lock(&fetcher.lock);
		while (!fetcher.fetched &&
		       pthread_cond_timedwait(&fetcher.wake, &fetcher.lock, &ts) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&fetcher.lock);
		return 0;
	}
out:
	free(fetcher.url);
	free(fetcher.token_file);
	free(fetcher.ca_file);
	fetcher.url = fetcher.token_file = fetcher.ca_file = NULL;
	return err;
}

void k8sapi_stop(void)
{
	if (fetcher.running) {
		pthread_mutex_lock(&fetcher.lock);
		fetcher.stopping = true;
		pthread_cond_signal(&fetcher.wake);
		pthread_mutex_unlock(&fetcher.lock);
		pthread_join(fetcher.thread, NULL);
		fetcher.running = false;
		free(fetcher.url);
		free(fetcher.token_file);
		free(fetcher.ca_file);
		fetcher.url = fetcher.token_file = fetcher.ca_file = NULL;
	}
	pthread_mutex_lock(&table_lock);
	free(current);
	current = NULL;
	pthread_mutex_unlock(&table_lock);
}
