/* JSON Lines through json-glib. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

#define SLOTS 8

struct pd__jsonl {
  JsonParser *parser;
  JsonObject *root; /* borrowed from parser */
  char num[SLOTS][40];
};

pd_status pd__jsonl_new(pd__jsonl **out) {
  pd__jsonl *j = calloc(1, sizeof *j);
  if (!j) return pd__error(PD_ERR_NOMEM, "out of memory for the JSON reader");
  j->parser = json_parser_new_immutable();
  *out = j;
  return PD_OK;
}

void pd__jsonl_free(pd__jsonl *j) {
  if (!j) return;
  if (j->parser) g_object_unref(j->parser);
  free(j);
}

static const char *node_kind(JsonNode *n) {
  switch (json_node_get_node_type(n)) {
  case JSON_NODE_OBJECT: return "an object";
  case JSON_NODE_ARRAY: return "an array";
  case JSON_NODE_NULL: return "null";
  default: break;
  }
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_BOOLEAN) return json_node_get_boolean(n) ? "true" : "false";
  if (t == G_TYPE_STRING) return "a string";
  return "a number";
}

bool pd__jsonl_parse(pd__jsonl *j, const char *line, size_t len, char *err, size_t errsize, size_t *err_off) {
  j->root = NULL;
  GError *e = NULL;
  if (len > (size_t)G_MAXSSIZE) len = (size_t)G_MAXSSIZE;
  if (!json_parser_load_from_data(j->parser, line, (gssize)len, &e)) {
    /* json-glib says "<data>:LINE:COL: Parse error: what"; COL counts bytes from 1. */
    unsigned l = 0, c = 0;
    const char *what = e ? e->message : "unknown error";
    if (e && sscanf(e->message, "<data>:%u:%u:", &l, &c) == 2) {
      const char *pe = strstr(e->message, "Parse error: ");
      what = pe ? pe + 13 : e->message;
    }
    *err_off = c > 0 && c - 1 <= len ? c - 1 : 0;
    snprintf(err, errsize, "expected a JSON object, got invalid JSON (%s)", what);
    if (e) g_error_free(e);
    return false;
  }
  JsonNode *root = json_parser_get_root(j->parser);
  size_t first = 0;
  while (first < len && (line[first] == ' ' || line[first] == '\t' || line[first] == '\r')) first++;
  *err_off = first;
  if (!root) {
    snprintf(err, errsize, "expected a JSON object, got nothing");
    return false;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    snprintf(err, errsize, "expected a JSON object, got %s", node_kind(root));
    return false;
  }
  j->root = json_node_get_object(root);
  return true;
}

/* Shortest "%.Ng" that reads back as d; integral values without exponent. */
static void format_double(char *buf, size_t size, double d) {
  if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) { /* range first: the cast of 1e300 is undefined */
    snprintf(buf, size, "%lld", (long long)d);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    char fmt[8];
    snprintf(fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd(buf, (gint)size, fmt, d);
    if (g_ascii_strtod(buf, NULL) == d) return;
  }
}

int pd__jsonl_get(pd__jsonl *j, const char *name, int slot, const char **p, size_t *len, char *err, size_t errsize) {
  if (!j->root) return 0;
  JsonNode *n = json_object_get_member(j->root, name);
  if (!n || JSON_NODE_HOLDS_NULL(n)) return 0;
  if (JSON_NODE_HOLDS_VALUE(n)) {
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_STRING) {
      const char *s = json_node_get_string(n);
      *p = s;
      *len = strlen(s);
      return 1;
    }
    char *buf = j->num[slot & (SLOTS - 1)];
    if (t == G_TYPE_INT64) {
      snprintf(buf, sizeof j->num[0], "%lld", (long long)json_node_get_int(n));
      *p = buf;
      *len = strlen(buf);
      return 1;
    }
    if (t == G_TYPE_DOUBLE) {
      format_double(buf, sizeof j->num[0], json_node_get_double(n));
      *p = buf;
      *len = strlen(buf);
      return 1;
    }
  }
  snprintf(err, errsize, "expected a string or a number, got %s", node_kind(n));
  return -1;
}

/* Not a JSON parser: json-glib has read the line already and keeps no
 * positions, so this only walks strings and brackets to find where a
 * top-level key's value starts, for the column of an error message. */
size_t pd__jsonl_locate(const char *line, size_t len, const char *name) {
  size_t nlen = strlen(name);
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < len; i++) {
    char c = line[i];
    if (c == '"') {
      size_t s = i + 1, k = s;
      while (k < len && line[k] != '"') k += line[k] == '\\' ? 2 : 1;
      if (k >= len) return 0;
      if (depth == 1 && expect_key && k - s == nlen && memcmp(line + s, name, nlen) == 0) {
        size_t v = k + 1;
        while (v < len && (line[v] == ' ' || line[v] == '\t')) v++;
        if (v < len && line[v] == ':') v++;
        while (v < len && (line[v] == ' ' || line[v] == '\t')) v++;
        return v < len ? v : 0;
      }
      expect_key = false;
      i = k;
    } else if (c == '{' || c == '[') {
      depth++;
      expect_key = c == '{' && depth == 1;
    } else if (c == '}' || c == ']') {
      depth--;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return 0;
}
