/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_names.h - the one table that maps redtap's Prometheus metric and
 * label names back to OpenTelemetry semantic-convention names for OTLP
 * (http_server_request_duration_seconds -> http.server.request.duration,
 * http_request_method -> http.request.method, ...).
 *
 * API: pure lookups over static tables; thread-safe. Returned strings are
 * static or the argument itself.
 */
#ifndef REDTAP_OTLP_NAMES_H
#define REDTAP_OTLP_NAMES_H

#include <stdbool.h>

/* The label that names the service: it becomes the resource's service.name. */
#define OTLP_SERVICE_LABEL "service_name"

/*
 * The OTel name and unit of a metric family. Known families get their
 * semconv name and UCUM unit; others keep their Prometheus name, and their
 * OpenMetrics unit is translated (seconds -> s, bytes -> By, ratio -> 1;
 * NULL -> ""). *unit is set in every case.
 */
const char *otlp_metric_name(const char *prom_name, const char *prom_unit, const char **unit);

/* The OTel attribute key of a label: mapped when known, else the label itself. */
const char *otlp_attr_name(const char *label);

/* Whether semconv types this attribute as an integer (status codes, ports). */
bool otlp_attr_is_int(const char *otel_key);

#endif /* REDTAP_OTLP_NAMES_H */
