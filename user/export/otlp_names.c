// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_names.c - Prometheus -> OpenTelemetry names of metrics, units and
 * attributes: the single mapping table. See otlp_names.h.
 */
#include <stddef.h>
#include <string.h>

#include "metrics.h"
#include "otlp_names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *prom, *otel, *unit;
} metric_names[] = {
    {"http_server_request_duration_seconds", "http.server.request.duration", "s"},
    {"http_client_request_duration_seconds", "http.client.request.duration", "s"},
    {"http_server_active_requests", "http.server.active_requests", "{request}"},
    {"db_client_operation_duration_seconds", "db.client.operation.duration", "s"},
};

static const struct {
	const char *prom, *otel;
	bool is_int;
} attr_names[] = {
    {"http_request_method", "http.request.method", false},
    {"http_response_status_code", "http.response.status_code", true},
    {"http_route", "http.route", false},
    {"error_type", "error.type", false},
    {"server_address", "server.address", false},
    {"server_port", "server.port", true},
    {"db_system_name", "db.system.name", false},
    {"db_operation_name", "db.operation.name", false},
    {"db_namespace", "db.namespace", false},
    {"db_query_summary", "db.query.summary", false},
    {"db_response_status_code", "db.response.status_code", false},
    {OTLP_SERVICE_LABEL, "service.name", false},
    {METRIC_OVERFLOW_LABEL, "otel.metric.overflow", false},
};

static const struct {
	const char *om, *ucum;
} units[] = {
    {"seconds", "s"},
    {"bytes", "By"},
    {"ratio", "1"},
    {"milliseconds", "ms"},
};

const char *otlp_metric_name(const char *prom_name, const char *prom_unit, const char **unit)
{
	for (size_t i = 0; i < NELEM(metric_names); i++) {
		if (!strcmp(prom_name, metric_names[i].prom)) {
			*unit = metric_names[i].unit;
			return metric_names[i].otel;
		}
	}
	*unit = prom_unit ? prom_unit : "";
	for (size_t i = 0; prom_unit && i < NELEM(units); i++)
		if (!strcmp(prom_unit, units[i].om))
			*unit = units[i].ucum;
	return prom_name;
}

const char *otlp_attr_name(const char *label)
{
	for (size_t i = 0; i < NELEM(attr_names); i++)
		if (!strcmp(label, attr_names[i].prom))
			return attr_names[i].otel;
	return label;
}

bool otlp_attr_is_int(const char *otel_key)
{
	for (size_t i = 0; i < NELEM(attr_names); i++)
		if (!strcmp(otel_key, attr_names[i].otel))
			return attr_names[i].is_int;
	return false;
}
