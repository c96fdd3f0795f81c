// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config_yaml.c - the YAML layer of the settings: config_load_file() walks
 * the document with libyaml and hands each scalar to the row of the
 * settings table (config_table.h) whose key it names. Sections nest
 * ("otlp: { traces: { endpoint: ... } }" is the key otlp.traces.endpoint);
 * unknown keys are errors that list the known ones.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config.h"
#include "config_table.h"

struct yaml_ctx {
	struct redtap_config *c;
	yaml_document_t *doc;
	const char *path;
	char *errbuf;
	size_t errlen;
	unsigned int replaced;
};

static int yfail(struct yaml_ctx *y, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int yfail(struct yaml_ctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!y->errbuf || !y->errlen)
		return -EINVAL;
	len = snprintf(y->errbuf, y->errlen, "%s:%zu: ", y->path, n->start_mark.line + 1);
	if (len >= 0 && (size_t)len < y->errlen) {
		va_start(ap, fmt);
		vsnprintf(y->errbuf + len, y->errlen - (size_t)len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++) {
		if (!strcmp(scalar(n), nulls[i]))
			return true;
	}
	return false;
}

/* Applies one scalar node n to st, naming "FILE:LINE: key" in errors. */
static int yaml_apply(struct yaml_ctx *y, const struct setting *st, const yaml_node_t *n)
{
	char what[4400];
	struct src s = {
	    .what = what, .errbuf = y->errbuf, .errlen = y->errlen, .replaced = &y->replaced};

	if (n->type != YAML_SCALAR_NODE)
		return yfail(y, n, "%s: expected a single value", st->key);
	snprintf(what, sizeof(what), "%s:%zu: %s", y->path, n->start_mark.line + 1, st->key);
	return config_apply(y->c, st, scalar(n), &s);
}

static int yaml_value(struct yaml_ctx *y, const struct setting *st, yaml_node_t *v)
{
	struct src s = {
	    .what = st->key, .errbuf = y->errbuf, .errlen = y->errlen, .replaced = &y->replaced};

	if (st->list == LIST_NONE) {
		if (is_null(v))
			return yfail(y, v, "%s: missing value", st->key);
		if (v->type == YAML_SCALAR_NODE && !*scalar(v))
			return 0; /* "" leaves the setting unset, as an empty variable does */
		return yaml_apply(y, st, v);
	}
	config_list_begin(y->c, st->list, &s);
	if (is_null(v))
		return 0; /* an empty list */
	if (v->type != YAML_SEQUENCE_NODE)
		return yaml_apply(y, st, v);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		int err = yaml_apply(y, st, yaml_document_get_node(y->doc, *it));

		if (err)
			return err;
	}
	return 0;
}

/* Whether the comma list buf already names the word w[0..wlen). */
static bool listed(const char *buf, const char *w, size_t wlen)
{
	for (const char *p = buf; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 2 : 0)) {
		if (strcspn(p, ",") == wlen && !strncmp(p, w, wlen))
			return true;
	}
	return false;
}

/* Lists the names directly below section (the top-level names when section
 * is NULL) into buf, each once. */
static void known_keys(const char *section, char *buf, size_t len)
{
	size_t off = 0, slen = section ? strlen(section) : 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nsettings && off < len; i++) {
		const char *k = settings[i].key;
		size_t klen;

		if (!k || (section && (strncmp(k, section, slen) || k[slen] != '.')))
			continue;
		if (section)
			k += slen + 1;
		klen = strcspn(k, ".");
		if (listed(buf, k, klen))
			continue;
		off +=
		    (size_t)snprintf(buf + off, len - off, "%s%.*s", off ? ", " : "", (int)klen, k);
	}
}

static int yaml_mapping(struct yaml_ctx *y, const char *section, yaml_node_t *map);

static int yaml_pair(struct yaml_ctx *y, const char *section, yaml_node_t *k, yaml_node_t *v)
{
	char name[128], known[512];
	const struct setting *st;

	if (k->type != YAML_SCALAR_NODE)
		return yfail(y, k, "keys must be plain names");
	snprintf(name, sizeof(name), "%s%s%s", section ? section : "", section ? "." : "",
		 scalar(k));
	st = config_setting_by_key(name);
	if (st)
		return yaml_value(y, st, v);
	if (config_is_section(name)) {
		if (is_null(v))
			return 0;
		if (v->type != YAML_MAPPING_NODE)
			return yfail(y, v, "'%s' must be a mapping of keys, as '%s: { ... }'", name,
				     name);
		return yaml_mapping(y, name, v);
	}
	known_keys(section, known, sizeof(known));
	return yfail(y, k, "unknown key '%s' (%s%s%s)", name, section ? section : "known keys",
		     section ? " has: " : ": ", known);
}

static int yaml_mapping(struct yaml_ctx *y, const char *section, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		int err = yaml_pair(y, section, yaml_document_get_node(y->doc, p->key),
				    yaml_document_get_node(y->doc, p->value));

		if (err)
			return err;
	}
	return 0;
}

static int yaml_syntax_error(const yaml_parser_t *p, const char *path, char *errbuf, size_t errlen)
{
	if (p->error == YAML_MEMORY_ERROR) {
		config_errf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		config_errf(errbuf, errlen, "%s: invalid YAML: %s at byte %zu", path,
			    p->problem ? p->problem : "unreadable", p->problem_offset);
		return -EINVAL;
	}
	config_errf(errbuf, errlen, "%s:%zu:%zu: invalid YAML: %s%s%s%s", path,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    p->problem ? p->problem : "syntax error", p->context ? " (" : "",
		    p->context ? p->context : "", p->context ? ")" : "");
	return -EINVAL;
}

int config_load_file(struct redtap_config *c, const char *path, char *errbuf, size_t errlen)
{
	struct yaml_ctx y = {.c = c, .path = path, .errbuf = errbuf, .errlen = errlen};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct stat sb;
	FILE *f;
	int err = 0;

	if (strlen(path) >= sizeof(c->config_path)) {
		config_errf(errbuf, errlen, "%.64s...: the path is too long", path);
		return -ENAMETOOLONG;
	}
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		config_errf(errbuf, errlen, "%s: cannot open the config file: %s", path,
			    strerror(errno));
		return err;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		config_errf(errbuf, errlen, "%s: is a directory, not a config file", path);
		err = -EISDIR;
		goto out_close;
	}
	if (!yaml_parser_initialize(&parser)) {
		config_errf(errbuf, errlen, "%s: out of memory", path);
		err = -ENOMEM;
		goto out_close;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err = yaml_syntax_error(&parser, path, errbuf, errlen);
		goto out_parser;
	}
	y.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			err = yfail(&y, root,
				    "the top level must be a mapping of keys, "
				    "as 'capture: { bytes: 256 }'");
		else
			err = yaml_mapping(&y, NULL, root);
	}
	yaml_document_delete(&doc);
	if (!err)
		strcpy(c->config_path, path);
out_parser:
	yaml_parser_delete(&parser);
out_close:
	fclose(f);
	return err;
}
