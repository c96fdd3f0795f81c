/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * podmeta.h - container and Kubernetes pod identity of a process, with no
 * API server: what /proc/PID/cgroup, /proc/PID/environ and the process's own
 * filesystem view (its service-account namespace file) tell.
 *
 *  - /proc/PID/cgroup (v1 and v2; cgroupfs and systemd drivers; containerd,
 *    CRI-O, Docker, podman): container.id (64 hex digits), k8s.pod.uid and
 *    the QoS class (guaranteed, burstable, besteffort).
 *  - environ, only for a process in a pod: k8s.pod.name (HOSTNAME, or a
 *    downward-API POD_NAME / K8S_POD_NAME), k8s.namespace.name (POD_NAMESPACE
 *    / K8S_NAMESPACE / KUBERNETES_NAMESPACE), k8s.container.name
 *    (CONTAINER_NAME / K8S_CONTAINER_NAME); k8s.* keys of
 *    OTEL_RESOURCE_ATTRIBUTES win over those.
 *  - <root>/var/run/secrets/kubernetes.io/serviceaccount/namespace, read
 *    inside the process's root (openat2 RESOLVE_IN_ROOT, never following a
 *    link out of it) when environ named no namespace.
 *  - the owner workload from the pod name, only by the rules that generated
 *    names follow (podmeta_workload()).
 * Every value is validated (DNS label / subdomain characters, bounded
 * length); a value that fails is absent, never truncated.
 *
 * API: the parsers are pure and exposed for tests and fuzzing. podmeta_get()
 * is the one reader for the daemon: it reads a process's files once and keeps
 * the result in a small direct-mapped cache shared by the pipeline (service
 * names, metric labels) and the OTLP exporter (resource attributes);
 * podmeta_forget() drops an entry at exec and exit. Thread-safe (one mutex).
 */
#ifndef REDTAP_PODMETA_H
#define REDTAP_PODMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PODMETA_ID_MAX	 65  /* 64 hex digits */
#define PODMETA_UID_MAX	 37  /* 8-4-4-4-12, or 32 hex digits (static pods) */
#define PODMETA_NAME_MAX 254 /* DNS subdomain (253) */

enum podmeta_qos {
	PODMETA_QOS_NONE,
	PODMETA_QOS_GUARANTEED,
	PODMETA_QOS_BURSTABLE,
	PODMETA_QOS_BESTEFFORT
};

/* DaemonSet and Job only from the pod list option (k8sapi.h): their pod names do not tell. */
enum podmeta_workload {
	PODMETA_WL_NONE,
	PODMETA_WL_DEPLOYMENT,
	PODMETA_WL_STATEFULSET,
	PODMETA_WL_DAEMONSET,
	PODMETA_WL_JOB
};

struct podmeta {
	char container_id[PODMETA_ID_MAX];
	char pod_uid[PODMETA_UID_MAX];
	enum podmeta_qos qos;
	char pod_name[PODMETA_NAME_MAX];
	char namespace_name[64];
	char container_name[64];
	enum podmeta_workload workload_kind;
	char workload[PODMETA_NAME_MAX]; /* name of the owner of kind workload_kind */
	char app[64]; /* app.kubernetes.io/name or app label, from the pod list option */
};

/* Whether m says anything (a container id or a pod). */
bool podmeta_known(const struct podmeta *m);

/* "guaranteed", "burstable", "besteffort" or "" (none). */
const char *podmeta_qos_name(enum podmeta_qos q);

/*
 * Fills container_id, pod_uid and qos from the text of /proc/PID/cgroup (len
 * bytes, need not be NUL-terminated). Lines and fields that do not parse are
 * skipped. Returns true when a container id or a pod uid was found.
 */
bool podmeta_parse_cgroup(const char *text, size_t len, struct podmeta *m);

/*
 * Fills the pod name, namespace and container name from an environ block
 * (NUL-separated KEY=VALUE strings of len bytes), then the workload. Does
 * nothing unless m->pod_uid is set (HOSTNAME alone means nothing outside a
 * pod).
 */
void podmeta_parse_environ(const char *env, size_t len, struct podmeta *m);

/*
 * The owner workload of a pod by its generated name: "<deployment>-<pod
 * template hash of 6 to 10 characters>-<5 characters>" (both of the
 * generator's alphabet "bcdfghjklmnpqrstvwxz2456789", prefix short enough
 * not to have been truncated) is a Deployment's; "<statefulset>-<ordinal>"
 * (0 to 9999, no leading zero: never a 5-character random suffix) is a
 * StatefulSet's. Anything else (DaemonSet and Job pods, whose one suffix
 * cannot be told apart) is PODMETA_WL_NONE. out gets the name.
 */
enum podmeta_workload podmeta_workload(const char *pod_name, char *out, size_t outlen);

/* Whether s is a valid namespace (DNS label: [a-z0-9-], 1..63, alnum ends). */
bool podmeta_valid_label(const char *s, size_t n);
/* Whether s is a valid DNS subdomain (pod and workload names): labels joined by '.'. */
bool podmeta_valid_subdomain(const char *s, size_t n);

/* The metadata of pid (a zeroed struct when none), read from /proc on the
 * first call, then cached until podmeta_forget(pid). */
void podmeta_get(uint32_t pid, struct podmeta *out);
void podmeta_forget(uint32_t pid);
/* Drops every cached entry (a new pod list came: k8sapi.h). */
void podmeta_invalidate(void);

/* Reads pid's files now, without the cache. Exposed for tests. */
void podmeta_read(uint32_t pid, struct podmeta *out);

/*
 * The Kubernetes labels on /metrics and in metric points: a comma-separated
 * list of "namespace", "workload", "pod" (or "none"). Default
 * PODMETA_DEFAULT_LABELS. Returns 0 or -EINVAL (the setting is unchanged).
 */
#define PODMETA_DEFAULT_LABELS	"namespace,workload"
#define PODMETA_LABEL_NAMESPACE 0x1u
#define PODMETA_LABEL_WORKLOAD	0x2u
#define PODMETA_LABEL_POD	0x4u
int podmeta_parse_labels(const char *list, unsigned *mask);
void podmeta_set_labels(unsigned mask);
/* podmeta_parse_labels() then podmeta_set_labels(): 0 or -EINVAL. */
int podmeta_configure(const char *list);
unsigned podmeta_labels(void);

/*
 * The values of the label set for pid, in the order of the metric entries'
 * k8s attributes (semconv.h: namespace, deployment, statefulset, pod), into
 * buf (NUL-separated); each vals[i] is "" when unknown or not enabled.
 */
#define PODMETA_NLABELS 4
struct podmeta_labelvals {
	const char *vals[PODMETA_NLABELS];
	char buf[64 + 2 * PODMETA_NAME_MAX];
};
void podmeta_label_values(uint32_t pid, struct podmeta_labelvals *lv);

#endif /* REDTAP_PODMETA_H */
