// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_podmeta.c - unit tests for container and pod identity
 * (user/intake/podmeta.c): cgroup v1 and v2 lines of the cgroupfs and
 * systemd drivers (containerd, CRI-O, Docker, podman), hostile and overlong
 * lines, the environ sources and their precedence, the workload rules, the
 * label setting, and the reader against this test's own process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "podmeta.h"

#define ID   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "1f2e3d4c-5b6a-4789-8abc-def012345678"
#define UIDU "1f2e3d4c_5b6a_4789_8abc_def012345678"

/* Parses an exact-size heap copy (no NUL after len), so ASan sees overreads. */
static bool cg(const char *text, struct podmeta *m)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	bool r;

	memcpy(copy, text, len);
	memset(m, 0, sizeof(*m));
	r = podmeta_parse_cgroup(copy, len, m);
	free(copy);
	return r;
}

static void env(const char *block, size_t len, struct podmeta *m)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, block, len);
	podmeta_parse_environ(copy, len, m);
	free(copy);
}

static void test_cgroup_v1_cgroupfs(void **state)
{
	struct podmeta m;

	(void)state;
	assert_true(cg("12:pids:/kubepods/burstable/pod" UID "/" ID "\n"
		       "11:memory:/kubepods/burstable/pod" UID "/" ID "\n",
		       &m));
	assert_string_equal(m.container_id, ID);
	assert_string_equal(m.pod_uid, UID);
	assert_string_equal(podmeta_qos_name(m.qos), "burstable");
	/* guaranteed pods sit right under kubepods */
	assert_true(cg("3:cpu,cpuacct:/kubepods/pod" UID "/" ID, &m));
	assert_string_equal(podmeta_qos_name(m.qos), "guaranteed");
	assert_true(cg("5:memory:/kubepods/besteffort/pod" UID "/" ID, &m));
	assert_string_equal(podmeta_qos_name(m.qos), "besteffort");
}

static void test_cgroup_v2_systemd(void **state)
{
	struct podmeta m;

	(void)state;
	assert_true(cg("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
		       ".slice/cri-containerd-" ID ".scope\n",
		       &m));
	assert_string_equal(m.container_id, ID);
	assert_string_equal(m.pod_uid, UID);
	assert_string_equal(podmeta_qos_name(m.qos), "burstable");
	assert_true(cg("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
		       ".slice/crio-" ID ".scope",
		       &m));
	assert_string_equal(m.container_id, ID);
	assert_string_equal(podmeta_qos_name(m.qos), "besteffort");
	assert_true(cg("0::/kubepods.slice/kubepods-pod" UIDU ".slice/docker-" ID ".scope", &m));
	assert_string_equal(podmeta_qos_name(m.qos), "guaranteed");
	assert_string_equal(m.pod_uid, UID);
	/* CRI-O's monitor is not the container */
	assert_true(
	    cg("0::/kubepods.slice/kubepods-pod" UIDU ".slice/crio-conmon-" ID ".scope", &m));
	assert_string_equal(m.container_id, "");
	assert_string_equal(m.pod_uid, UID);
}

static void test_cgroup_no_pod(void **state)
{
	struct podmeta m;

	(void)state;
	/* plain Docker and podman: a container, no pod */
	assert_true(cg("0::/system.slice/docker-" ID ".scope", &m));
	assert_string_equal(m.container_id, ID);
	assert_string_equal(m.pod_uid, "");
	assert_int_equal(m.qos, PODMETA_QOS_NONE);
	assert_true(cg("13:name=systemd:/docker/" ID, &m));
	assert_string_equal(m.container_id, ID);
	assert_true(cg(
	    "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", &m));
	assert_string_equal(m.container_id, ID);
	/* a host process */
	assert_false(cg("0::/system.slice/ssh.service\n", &m));
	assert_false(cg("0::/user.slice/user-0.slice/session-3.scope", &m));
	assert_false(cg("", &m));
	assert_false(podmeta_known(&m));
}

static void test_cgroup_hostile(void **state)
{
	struct podmeta m;
	char *big;
	size_t n = 100000;

	(void)state;
	/* ids of the wrong length or alphabet, uids of the wrong shape */
	assert_false(cg("0::/kubepods/burstable/podnotauid/" ID "0", &m));
	assert_false(cg("0::/docker/" ID "X", &m));
	assert_false(
	    cg("0::/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", &m));
	assert_true(cg("0::/kubepods/pod1f2e3d4c-5b6a-4789-8abc-def01234567/" ID, &m));
	assert_string_equal(m.pod_uid, ""); /* one digit short */
	/* no colons, trailing junk, separators only */
	assert_false(cg("kubepods/pod" UID, &m));
	assert_false(cg("0:://///", &m));
	assert_false(cg("0::kubepods-", &m));
	assert_false(cg("0::/kubepods----.slice", &m));
	assert_false(cg("0::/kubepods-pod.slice", &m));
	/* a static pod's hash uid */
	assert_true(cg("0::/kubepods/pod0123456789abcdef0123456789abcdef/" ID, &m));
	assert_string_equal(m.pod_uid, "0123456789abcdef0123456789abcdef");
	/* an overlong line: parsed without reading past the buffer */
	big = malloc(n + 1);
	memset(big, '/', n);
	memcpy(big, "0::/kubepods-", 13);
	memset(big + 13, '-', n - 13);
	big[n] = '\0';
	assert_false(cg(big, &m));
	memset(big + 4, 'a', n - 4);
	assert_false(cg(big, &m));
	free(big);
}

static void test_environ(void **state)
{
	static const char block[] = "PATH=/bin\0HOSTNAME=web-7d4b9c8f6d-x2kqp\0"
				    "POD_NAMESPACE=shop\0CONTAINER_NAME=api";
	struct podmeta m;

	(void)state;
	/* outside a pod nothing is taken */
	memset(&m, 0, sizeof(m));
	env(block, sizeof(block) - 1, &m);
	assert_string_equal(m.pod_name, "");
	/* in a pod */
	assert_true(cg("0::/kubepods/pod" UID "/" ID, &m));
	env(block, sizeof(block) - 1, &m);
	assert_string_equal(m.pod_name, "web-7d4b9c8f6d-x2kqp");
	assert_string_equal(m.namespace_name, "shop");
	assert_string_equal(m.container_name, "api");
	assert_int_equal(m.workload_kind, PODMETA_WL_DEPLOYMENT);
	assert_string_equal(m.workload, "web");
}

static void test_environ_precedence(void **state)
{
	static const char block[] =
	    "HOSTNAME=web-0\0POD_NAME=db-1\0K8S_POD_NAME=cache-2\0"
	    "OTEL_RESOURCE_ATTRIBUTES=k8s.namespace.name=prod,k8s.container.name=main\0"
	    "POD_NAMESPACE=other\0CONTAINER_NAME=sidecar";
	static const char bad[] = "HOSTNAME=Not_A_Name\0POD_NAMESPACE=../etc\0"
				  "CONTAINER_NAME=-x\0OTEL_RESOURCE_ATTRIBUTES=k8s.pod.name=a%2Fb";
	struct podmeta m;

	(void)state;
	assert_true(cg("0::/kubepods/pod" UID "/" ID, &m));
	env(block, sizeof(block) - 1, &m);
	assert_string_equal(m.pod_name, "db-1"); /* POD_NAME over K8S_POD_NAME over HOSTNAME */
	assert_string_equal(m.namespace_name, "prod");
	assert_string_equal(m.container_name, "main");
	assert_int_equal(m.workload_kind, PODMETA_WL_STATEFULSET);
	assert_string_equal(m.workload, "db");
	/* invalid values are absent, not cleaned up */
	assert_true(cg("0::/kubepods/pod" UID "/" ID, &m));
	env(bad, sizeof(bad) - 1, &m);
	assert_string_equal(m.pod_name, "");
	assert_string_equal(m.namespace_name, "");
	assert_string_equal(m.container_name, "");
	assert_int_equal(m.workload_kind, PODMETA_WL_NONE);
}

static void test_workload(void **state)
{
	char out[PODMETA_NAME_MAX], small[4];

	(void)state;
	assert_int_equal(podmeta_workload("web-7d4b9c8f6d-x2kqp", out, sizeof(out)),
			 PODMETA_WL_DEPLOYMENT);
	assert_string_equal(out, "web");
	assert_int_equal(podmeta_workload("my-app-5f9b8c7d94-zz2bq", out, sizeof(out)),
			 PODMETA_WL_DEPLOYMENT);
	assert_string_equal(out, "my-app");
	assert_int_equal(podmeta_workload("kafka-12", out, sizeof(out)), PODMETA_WL_STATEFULSET);
	assert_string_equal(out, "kafka");
	assert_int_equal(podmeta_workload("kafka-0", out, sizeof(out)), PODMETA_WL_STATEFULSET);
	/* not exact: a DaemonSet or Job pod's one suffix, a 5-digit suffix, leading zero,
	 * characters outside the generator's alphabet, a truncated prefix */
	assert_int_equal(podmeta_workload("fluentd-x2kqp", out, sizeof(out)), PODMETA_WL_NONE);
	assert_string_equal(out, "");
	assert_int_equal(podmeta_workload("node-24567", out, sizeof(out)), PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("db-01", out, sizeof(out)), PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("web-7d4b9c8f6a-x2kqp", out, sizeof(out)),
			 PODMETA_WL_NONE); /* 'a' is not generated */
	assert_int_equal(podmeta_workload("web-7d4b9-x2kqp", out, sizeof(out)), PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("a-very-long-deployment-name-that-goes-on-and-on-and-on-"
					  "7d4b9c8f6d-x2kqp",
					  out, sizeof(out)),
			 PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("-0", out, sizeof(out)), PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("", out, sizeof(out)), PODMETA_WL_NONE);
	assert_int_equal(podmeta_workload("plain", out, sizeof(out)), PODMETA_WL_NONE);
	/* no room for the name: absent, not truncated */
	assert_int_equal(podmeta_workload("kafka-1", small, sizeof(small)), PODMETA_WL_NONE);
}

static void test_labels_setting(void **state)
{
	unsigned mask = 99;

	(void)state;
	assert_int_equal(podmeta_parse_labels("namespace,workload", &mask), 0);
	assert_int_equal(mask, PODMETA_LABEL_NAMESPACE | PODMETA_LABEL_WORKLOAD);
	assert_int_equal(podmeta_parse_labels("pod, namespace", &mask), 0);
	assert_int_equal(mask, PODMETA_LABEL_NAMESPACE | PODMETA_LABEL_POD);
	assert_int_equal(podmeta_parse_labels("none", &mask), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(podmeta_parse_labels("", &mask), 0);
	assert_int_equal(mask, 0);
	mask = 7;
	assert_int_equal(podmeta_parse_labels("namespace,node", &mask), -EINVAL);
	assert_int_equal(mask, 7);
	assert_true(podmeta_valid_label("kube-system", 11));
	assert_false(podmeta_valid_label("Kube", 4));
	assert_false(podmeta_valid_label("x-", 2));
}

/* This test runs on a host or in a CI container, not in a pod: the reader
 * must find no pod, and no labels come out. */
static void test_read_self(void **state)
{
	struct podmeta m;
	struct podmeta_labelvals lv = {.vals = {NULL}};

	(void)state;
	podmeta_get((uint32_t)getpid(), &m);
	assert_string_equal(m.pod_uid, "");
	podmeta_set_labels(PODMETA_LABEL_NAMESPACE | PODMETA_LABEL_WORKLOAD | PODMETA_LABEL_POD);
	podmeta_label_values((uint32_t)getpid(), &lv);
	for (int i = 0; i < PODMETA_NLABELS; i++)
		assert_string_equal(lv.vals[i], "");
	podmeta_forget((uint32_t)getpid());
	podmeta_get(999999999u, &m); /* no such process */
	assert_false(podmeta_known(&m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup_v1_cgroupfs),
	    cmocka_unit_test(test_cgroup_v2_systemd),
	    cmocka_unit_test(test_cgroup_no_pod),
	    cmocka_unit_test(test_cgroup_hostile),
	    cmocka_unit_test(test_environ),
	    cmocka_unit_test(test_environ_precedence),
	    cmocka_unit_test(test_workload),
	    cmocka_unit_test(test_labels_setting),
	    cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
