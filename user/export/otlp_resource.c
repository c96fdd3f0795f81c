// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_resource.c - OTLP resource attributes for processes and services.
 * See otlp_resource.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otlp_env.h"
#include "otlp_resource.h"
#include "podmeta.h"
#include "procfs.h"
#include "semconv.h"
#include "version.h"

#define MAX_RESOURCE_ATTRS 64

/* host.arch: the agent runs on the architecture it was built for. */
#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__i386__)
#define HOST_ARCH "x86"
#elif defined(__arm__)
#define HOST_ARCH "arm32"
#elif defined(__powerpc64__)
#define HOST_ARCH "ppc64"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#else
#define HOST_ARCH ""
#endif

struct extra_ctx {
	struct otlp_resource_ctx *r;
	int err;
};

static int extra_add(void *ctx, const char *key, const char *val)
{
	struct extra_ctx *x = ctx;
	struct otlp_resource_attr *n;

	if (x->r->nextra >= MAX_RESOURCE_ATTRS - 8)
		return 0;
	n = realloc(x->r->extra, (x->r->nextra + 1) * sizeof(*n));
	if (!n)
		return x->err = -ENOMEM;
	x->r->extra = n;
	n = &n[x->r->nextra];
	n->key = strdup(key);
	n->val = strdup(val);
	if (!n->key || !n->val) {
		free(n->key);
		free(n->val);
		return x->err = -ENOMEM;
	}
	x->r->nextra++;
	return 0;
}

int otlp_resource_ctx_init(struct otlp_resource_ctx *r, const char *resource_attrs)
{
	struct extra_ctx x = {.r = r};

	memset(r, 0, sizeof(*r));
	if (gethostname(r->host, sizeof(r->host) - 1) || !r->host[0])
		snprintf(r->host, sizeof(r->host), "localhost");
	snprintf(r->agent_instance, sizeof(r->agent_instance), "%s-%d-%llu", r->host, (int)getpid(),
		 (unsigned long long)otlp_process_start(r, (uint32_t)getpid()));
	if (resource_attrs && *resource_attrs)
		otlp_kv_parse(resource_attrs, true, extra_add, &x);
	if (x.err) {
		otlp_resource_ctx_release(r);
		return x.err;
	}
	return 0;
}

void otlp_resource_ctx_release(struct otlp_resource_ctx *r)
{
	for (size_t i = 0; i < r->nextra; i++) {
		free(r->extra[i].key);
		free(r->extra[i].val);
	}
	free(r->extra);
	r->extra = NULL;
	r->nextra = 0;
}

/* Field 22 (starttime) of /proc/<pid>/stat, or 0. */
static uint64_t read_start(uint32_t pid)
{
	unsigned long long start;

	return procfs_stat_field(pid, 22, &start) ? 0 : start;
}

uint64_t otlp_process_start(struct otlp_resource_ctx *r, uint32_t pid)
{
	uint64_t start = read_start(pid);
	size_t slot = pid % OTLP_PID_CACHE;

	if (start) {
		r->starts[slot].pid = pid;
		r->starts[slot].start = start;
		return start;
	}
	return r->starts[slot].pid == pid ? r->starts[slot].start : 0;
}

struct attrs {
	Otlpb__KeyValue *kv[MAX_RESOURCE_ATTRS];
	size_t n;
	bool oom;
};

static void add(struct attrs *at, Otlpb__KeyValue *kv)
{
	if (!kv)
		at->oom = true;
	else if (at->n < MAX_RESOURCE_ATTRS)
		at->kv[at->n++] = kv;
}

static bool has_key(const struct attrs *at, const char *key)
{
	for (size_t i = 0; i < at->n; i++)
		if (!strcmp(at->kv[i]->key, key))
			return true;
	return false;
}

static Otlpb__Resource *finish(struct otlp_arena *a, struct otlp_resource_ctx *r, struct attrs *at)
{
	Otlpb__Resource *res = otlp_arena_alloc(a, sizeof(*res));

	add(at, otlp_kv_str(a, semconv_key(SC_HOST_NAME), r->host));
	if (HOST_ARCH[0])
		add(at, otlp_kv_str(a, semconv_key(SC_HOST_ARCH), HOST_ARCH));
	add(at, otlp_kv_str(a, semconv_key(SC_OS_TYPE), "linux"));
	add(at, otlp_kv_str(a, "telemetry.sdk.name", "redtap"));
	add(at, otlp_kv_str(a, "telemetry.sdk.language", "cpp"));
	add(at, otlp_kv_str(a, "telemetry.sdk.version", redtap_version));
	for (size_t i = 0; i < r->nextra; i++)
		if (!has_key(at, r->extra[i].key))
			add(at, otlp_kv_str(a, r->extra[i].key, r->extra[i].val));
	if (!res || at->oom)
		return NULL;
	otlpb__resource__init(res);
	res->attributes = otlp_arena_calloc(a, at->n, sizeof(*res->attributes));
	if (!res->attributes)
		return NULL;
	memcpy(res->attributes, at->kv, at->n * sizeof(*at->kv));
	res->n_attributes = at->n;
	return res;
}

static void add_str(struct otlp_arena *a, struct attrs *at, enum semconv_attr k, const char *v)
{
	if (v[0])
		add(at, otlp_kv_str(a, semconv_key(k), otlp_arena_strdup(a, v)));
}

/* The container and pod of pid (podmeta.h), each attribute only when known. */
static void add_pod(struct otlp_arena *a, struct attrs *at, uint32_t pid)
{
	struct podmeta m;

	podmeta_get(pid, &m);
	add_str(a, at, SC_CONTAINER_ID, m.container_id);
	add_str(a, at, SC_K8S_POD_UID, m.pod_uid);
	add_str(a, at, SC_K8S_POD_NAME, m.pod_name);
	add_str(a, at, SC_K8S_NAMESPACE_NAME, m.namespace_name);
	add_str(a, at, SC_K8S_CONTAINER_NAME, m.container_name);
	add_str(a, at, SC_K8S_POD_QOS_CLASS, podmeta_qos_name(m.qos));
	if (m.workload_kind == PODMETA_WL_DEPLOYMENT)
		add_str(a, at, SC_K8S_DEPLOYMENT_NAME, m.workload);
	else if (m.workload_kind == PODMETA_WL_STATEFULSET)
		add_str(a, at, SC_K8S_STATEFULSET_NAME, m.workload);
	else if (m.workload_kind == PODMETA_WL_DAEMONSET)
		add_str(a, at, SC_K8S_DAEMONSET_NAME, m.workload);
	else if (m.workload_kind == PODMETA_WL_JOB)
		add_str(a, at, SC_K8S_JOB_NAME, m.workload);
}

Otlpb__Resource *otlp_resource_process(struct otlp_arena *a, struct otlp_resource_ctx *r,
				       uint32_t pid, const char *service, const char *exe)
{
	struct attrs at = {.n = 0};
	char buf[320];
	uint64_t start = otlp_process_start(r, pid);

	if (service && *service) {
		add(&at, otlp_kv_str(a, "service.name", service));
	} else {
		snprintf(buf, sizeof(buf), "unknown_service%s%s", exe && *exe ? ":" : "",
			 exe ? exe : "");
		add(&at, otlp_kv_str(a, "service.name", otlp_arena_strdup(a, buf)));
	}
	if (start)
		snprintf(buf, sizeof(buf), "%s-%u-%llu", r->host, pid, (unsigned long long)start);
	else
		snprintf(buf, sizeof(buf), "%s-%u", r->host, pid);
	add(&at, otlp_kv_str(a, "service.instance.id", otlp_arena_strdup(a, buf)));
	add(&at, otlp_kv_int(a, "process.pid", pid));
	if (exe && *exe)
		add(&at, otlp_kv_str(a, "process.executable.name", exe));
	add_pod(a, &at, pid);
	return finish(a, r, &at);
}

Otlpb__Resource *otlp_resource_agent(struct otlp_arena *a, struct otlp_resource_ctx *r,
				     const char *service)
{
	struct attrs at = {.n = 0};

	add(&at, otlp_kv_str(a, "service.name", service && *service ? service : "unknown_service"));
	add(&at, otlp_kv_str(a, "service.instance.id", r->agent_instance));
	return finish(a, r, &at);
}
