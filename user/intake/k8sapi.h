/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * k8sapi.h - the optional pod list from the kubelet (https://NODE:10250/pods)
 * or the API server (/api/v1/pods?fieldSelector=spec.nodeName=NODE): per pod
 * uid, the app label (app.kubernetes.io/name, else app) and the owner
 * workload from the controller ownerReference. Off unless k8s.pods_url is
 * set; podmeta.c merges what it finds by the pod uid it reads from the
 * cgroup. Never a requirement: when the URL is down the last good table (or
 * none) stays and everything else works as without it.
 *
 * The fetch runs on a thread of its own (never the event loop) with libcurl:
 * a bearer token re-read from k8s.token_file on each fetch (service-account
 * tokens rotate) and sent over https only, the CA of k8s.ca_file, a bounded
 * time and a bounded body (K8SAPI_BODY_MAX). The body is parsed by a small
 * bounded JSON reader of only the fields needed (k8sapi_parse(), fuzzed).
 * Each good parse builds a new immutable table, swapped in under a mutex.
 */
#ifndef REDTAP_K8SAPI_H
#define REDTAP_K8SAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "podmeta.h"

#define K8SAPI_BODY_MAX	 (16u << 20) /* a pod list of a full node is a few MiB */
#define K8SAPI_PODS_MAX	 8192	     /* pods kept per list (kubelets allow 110..250) */
#define K8SAPI_DEPTH_MAX 64	     /* JSON nesting accepted */

struct k8sapi_pod {
	char uid[PODMETA_UID_MAX];
	char app[64]; /* label value: [A-Za-z0-9._-], alnum ends, <= 63 */
	enum podmeta_workload kind;
	char workload[PODMETA_NAME_MAX];
};

struct k8sapi_table {
	size_t n;
	struct k8sapi_pod pods[]; /* sorted by uid */
};

/*
 * Parses a PodList (len bytes, need not be NUL-terminated) into a new table
 * (free() it). Pods without a valid uid are skipped; a value that fails
 * validation is absent. Returns 0, -EINVAL (not a pod list, malformed or too
 * deep JSON) or -ENOMEM.
 */
int k8sapi_parse(const char *json, size_t len, struct k8sapi_table **out);

/* The pod of uid in t, or NULL. */
const struct k8sapi_pod *k8sapi_find(const struct k8sapi_table *t, const char *uid);

/* Installs t as the current table (frees the previous one; NULL: none). */
void k8sapi_install(struct k8sapi_table *t);

/* Copies the current table's pod of uid into *out: false when none. */
bool k8sapi_lookup(const char *uid, struct k8sapi_pod *out);

struct k8sapi_config {
	const char *url;	/* "" or NULL: off */
	const char *token_file; /* "" or missing file: no token */
	const char *ca_file;	/* "" or missing file: the system CAs */
	unsigned refresh_s;	/* seconds between fetches */
};

/* Starts the fetch thread (nothing when the URL is empty) and waits up to
 * 3 s for its first list, so that the first processes named have it: 0 or
 * -errno. */
int k8sapi_start(const struct k8sapi_config *cfg);
/* Stops it and drops the table. Safe when never started. */
void k8sapi_stop(void);

#endif /* REDTAP_K8SAPI_H */
