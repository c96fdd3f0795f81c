// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_k8sapi.c - unit tests for the optional pod list reader
 * (user/intake/k8sapi.c): a kubelet PodList with the fields around the ones
 * read, the app label order, the owner rules (ReplicaSet only with its
 * pod-template-hash, StatefulSet, DaemonSet, Job, non-controller references),
 * hostile values, escapes, truncated and deep JSON, and the table's merge
 * into podmeta's result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "k8sapi.h"

#define UID1 "11111111-2222-4333-8444-555555555555"
#define UID2 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define UID3 "0123456789abcdef0123456789abcdef"

/* Parses an exact-size heap copy, so ASan sees overreads. */
static int parse(const char *text, struct k8sapi_table **t)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, text, len);
	err = k8sapi_parse(copy, len, t);
	free(copy);
	return err;
}

/* One pod's JSON: metadata members meta, the rest of a real pod around. */
#define POD(meta)                                                                                  \
	"{\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\",\"creationTimestamp\":null," meta    \
	"},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80}]}],"        \
	"\"nodeName\":\"n1\",\"priority\":0,\"enableServiceLinks\":true},"                         \
	"\"status\":{\"phase\":\"Running\",\"conditions\":[]}}"

static void test_pod_list(void **ts)
{
	static const char
	    list
		[] =
		    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[" POD(
			"\"uid\":\"" UID1
			"\",\"labels\":{\"app\":\"old\",\"app.kubernetes.io/name\":"
			"\"checkout\",\"pod-template-hash\":\"7d9f8b6c5\"},\"ownerReferences\":[{"
			"\"apiVersion\":\"apps/"
			"v1\",\"kind\":\"ReplicaSet\",\"name\":\"checkout-web-"
			"7d9f8b6c5\",\"uid\":\"x\",\"controller\":true,\"blockOwnerDeletion\":true}"
			"]") "," POD("\"ownerReferences\":[{\"kind\":\"DaemonSet\",\"name\":\"node-"
				     "exp\","
				     "\"controller\":false},{\"kind\":\"DaemonSet\",\"name\":"
				     "\"fluent-bit\","
				     "\"controller\":true}],\"labels\":{\"app\":\"fluent\"},"
				     "\"uid\":\"" UID2 "\"") "," POD("\"uid\":\"" UID3 "\"") "]}";
	struct k8sapi_table *t;
	const struct k8sapi_pod *p;

	(void)ts;
	assert_int_equal(parse(list, &t), 0);
	assert_int_equal(t->n, 3);
	p = k8sapi_find(t, UID1);
	assert_non_null(p);
	assert_string_equal(p->app, "checkout"); /* app.kubernetes.io/name before app */
	assert_int_equal(p->kind, PODMETA_WL_DEPLOYMENT);
	assert_string_equal(p->workload, "checkout-web");
	p = k8sapi_find(t, UID2);
	assert_non_null(p);
	assert_string_equal(p->app, "fluent");
	assert_int_equal(p->kind, PODMETA_WL_DAEMONSET); /* the controller, not the first */
	assert_string_equal(p->workload, "fluent-bit");
	p = k8sapi_find(t, UID3);
	assert_non_null(p);
	assert_string_equal(p->app, "");
	assert_int_equal(p->kind, PODMETA_WL_NONE);
	assert_null(k8sapi_find(t, "ffffffff-2222-4333-8444-555555555555"));
	free(t);
}

/* The one pod of a list with these metadata members. */
static struct k8sapi_pod one(const char *meta)
{
	char buf[4096];
	struct k8sapi_table *t;
	struct k8sapi_pod p;

	snprintf(buf, sizeof(buf), "{\"items\":[{\"metadata\":{\"uid\":\"%s\",%s}}]}", UID1, meta);
	assert_int_equal(parse(buf, &t), 0);
	assert_int_equal(t->n, 1);
	p = t->pods[0];
	free(t);
	return p;
}

static void test_owners(void **ts)
{
	struct k8sapi_pod p;

	(void)ts;
	p = one("\"ownerReferences\":[{\"kind\":\"StatefulSet\",\"name\":\"db\",\"controller\":"
		"true}]");
	assert_int_equal(p.kind, PODMETA_WL_STATEFULSET);
	assert_string_equal(p.workload, "db");
	p = one("\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"migrate-28391\","
		"\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_JOB);
	assert_string_equal(p.workload, "migrate-28391");
	/* a ReplicaSet without the hash label, or whose name does not end in it */
	p = one("\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"web-5d8f7c9b4\","
		"\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	p = one("\"labels\":{\"pod-template-hash\":\"abc\"},\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"web-5d8f7c9b4\",\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	p = one("\"labels\":{\"pod-template-hash\":\"web\"},\"ownerReferences\":[{\"kind\":"
		"\"ReplicaSet\",\"name\":\"web\",\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	/* not the controller; an unknown kind; an invalid name */
	p = one("\"ownerReferences\":[{\"kind\":\"StatefulSet\",\"name\":\"db\"}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	p = one("\"ownerReferences\":[{\"kind\":\"Node\",\"name\":\"n1\",\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	p = one("\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"A/../x\",\"controller\":true}]");
	assert_int_equal(p.kind, PODMETA_WL_NONE);
	assert_string_equal(p.workload, "");
}

static void test_hostile_values(void **ts)
{
	struct k8sapi_pod p;
	char big[200];

	(void)ts;
	p = one("\"labels\":{\"app\":\"a b\"}");
	assert_string_equal(p.app, "");
	p = one("\"labels\":{\"app\":\"-x\"}");
	assert_string_equal(p.app, "");
	p = one("\"labels\":{\"app\":\"caf\\u00e9\"}");
	assert_string_equal(p.app, "");
	p = one("\"labels\":{\"app\":\"x\\ny\"}");
	assert_string_equal(p.app, "");
	p = one("\"labels\":{\"app\":\"sh\\u006fp\"}"); /* an ASCII escape is that character */
	assert_string_equal(p.app, "shop");
	p = one("\"labels\":{\"app\":7,\"app.kubernetes.io/name\":[\"x\"]}");
	assert_string_equal(p.app, "");
	/* 64 characters: too long for a label value, absent, never truncated */
	memset(big, 'a', 64);
	snprintf(big + 64, sizeof(big) - 64, "%s", "");
	{
		char meta[300];

		snprintf(meta, sizeof(meta), "\"labels\":{\"app\":\"%s\"}", big);
		p = one(meta);
		assert_string_equal(p.app, "");
		big[63] = '\0';
		snprintf(meta, sizeof(meta), "\"labels\":{\"app\":\"%s\"}", big);
		p = one(meta);
		assert_string_equal(p.app, big);
	}
}

static void test_bad_lists(void **ts)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{}",						 /* no items */
	    "{\"items\":[]",					 /* truncated */
	    "{\"items\":[]}x",					 /* trailing bytes */
	    "{\"items\":[{\"metadata\":{\"uid\":\"" UID1 "\"}}", /* truncated */
	    "{\"items\":[{\"metadata\":{\"uid\":\"" UID1 "}}]}", /* open string */
	    "{\"items\" [] }",
	    "{\"items\":[1,,2]}",
	    "{\"items\":[\"\\x\"]}",
	};
	struct k8sapi_table *t;
	char deep[4096];
	size_t n = 0;

	(void)ts;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = (struct k8sapi_table *)1;
		assert_int_equal(parse(bad[i], &t), -EINVAL);
		assert_null(t);
	}
	n += (size_t)snprintf(deep, sizeof(deep), "{\"items\":[],\"x\":");
	for (int i = 0; i < 200; i++)
		deep[n++] = '[';
	for (int i = 0; i < 200; i++)
		deep[n++] = ']';
	snprintf(deep + n, sizeof(deep) - n, "}");
	assert_int_equal(parse(deep, &t), -EINVAL);
	/* null items, bad uids and non-object pods are no pods, not errors */
	assert_int_equal(parse("{\"items\":null}", &t), 0);
	assert_int_equal(t->n, 0);
	free(t);
	assert_int_equal(parse(" {\"items\":[3,{\"metadata\":{\"uid\":\"../x\"}},{}]} ", &t), 0);
	assert_int_equal(t->n, 0);
	free(t);
}

/* The installed table answers lookups; the next install replaces it. */
static void test_install_lookup(void **ts)
{
	struct k8sapi_table *t;
	struct k8sapi_pod p;

	(void)ts;
	assert_false(k8sapi_lookup(UID1, &p));
	assert_int_equal(parse("{\"items\":[{\"metadata\":{\"uid\":\"" UID1
			       "\",\"labels\":{\"app\":\"web\"}}}]}",
			       &t),
			 0);
	k8sapi_install(t);
	assert_true(k8sapi_lookup(UID1, &p));
	assert_string_equal(p.app, "web");
	assert_false(k8sapi_lookup(UID2, &p));
	k8sapi_install(NULL);
	assert_false(k8sapi_lookup(UID1, &p));
	k8sapi_stop(); /* never started: only drops the table */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pod_list),	   cmocka_unit_test(test_owners),
	    cmocka_unit_test(test_hostile_values), cmocka_unit_test(test_bad_lists),
	    cmocka_unit_test(test_install_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
