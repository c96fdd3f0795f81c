/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_resource.h - the OTLP resources redtap sends: one per instrumented
 * process for spans, one per service (and one for redtap itself) for
 * metrics.
 *
 * Every resource has service.name, service.instance.id, host.name,
 * telemetry.sdk.name "redtap", telemetry.sdk.language "cpp" (the closest
 * well-known value: redtap is written in C), telemetry.sdk.version, os.type
 * and host.arch; a process resource adds process.pid,
 * process.executable.name and, for a process in a container or pod, what
 * podmeta.h knows: container.id, k8s.pod.uid, k8s.pod.name,
 * k8s.namespace.name, k8s.container.name, k8s.pod.qos_class and
 * k8s.deployment.name or k8s.statefulset.name (each only when known). Then come
 * the agent's own OTEL_RESOURCE_ATTRIBUTES, for keys not already set:
 * what redtap knows about the process wins over the agent-wide settings.
 *
 * service.instance.id: for a process, "<host>-<pid>-<start time in clock
 * ticks since boot>", stable for the life of the process and different
 * after pid reuse; for metrics (which are aggregated by the agent over all
 * processes of a service) the same string for the agent's own process.
 *
 * API: otlp_resource_ctx_init() once (copies what it needs; not
 * thread-safe), then otlp_resource_process() / otlp_resource_agent() from
 * one thread at a time per context.
 */
#ifndef REDTAP_OTLP_RESOURCE_H
#define REDTAP_OTLP_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_build.h"

#define OTLP_PID_CACHE	  256
#define OTLP_SELF_SERVICE "redtap"

struct otlp_resource_attr {
	char *key, *val;
};

struct otlp_resource_ctx {
	char host[256];
	char agent_instance[320];
	struct otlp_resource_attr *extra; /* decoded OTEL_RESOURCE_ATTRIBUTES */
	size_t nextra;
	struct {
		uint32_t pid;
		uint64_t start;
	} starts[OTLP_PID_CACHE]; /* last start time seen per pid (direct-mapped) */
};

/*
 * resource_attrs is an OTEL_RESOURCE_ATTRIBUTES value (percent-encoded), may
 * be NULL or "". Returns 0 or -ENOMEM.
 */
int otlp_resource_ctx_init(struct otlp_resource_ctx *r, const char *resource_attrs);
void otlp_resource_ctx_release(struct otlp_resource_ctx *r);

/*
 * The start time of pid in clock ticks since boot from /proc/<pid>/stat;
 * when the process is gone, the last value seen for it. 0 when unknown.
 */
uint64_t otlp_process_start(struct otlp_resource_ctx *r, uint32_t pid);

/* The resource of one process; an empty service becomes "unknown_service:<exe>". */
Otlpb__Resource *otlp_resource_process(struct otlp_arena *a, struct otlp_resource_ctx *r,
				       uint32_t pid, const char *service, const char *exe);

/* The resource of a service as seen by the agent (metrics). */
Otlpb__Resource *otlp_resource_agent(struct otlp_arena *a, struct otlp_resource_ctx *r,
				     const char *service);

#endif /* REDTAP_OTLP_RESOURCE_H */
