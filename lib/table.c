/* pd_table: named, typed, nullable columns; builder and text/CSV/JSON writers. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

typedef struct column {
  char *name;
  pd_type type;
  union {
    int64_t *i64;
    double *f64;
    char **str;
  } v;
  unsigned char *valid; /* 1 = has a value */
} column;

struct pd_table {
  char *name;
  column *cols;
  size_t n_cols, n_rows, cap_rows;
  bool oom;
};

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

pd_table *pd__table_new(const char *name) {
  pd_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->name = dup_str(name ? name : "");
  if (!t->name) {
    free(t);
    return NULL;
  }
  return t;
}

static size_t cell_size(pd_type type) {
  return type == PD_TYPE_INT64 ? sizeof(int64_t) : type == PD_TYPE_DOUBLE ? sizeof(double) : sizeof(char *);
}

static bool grow_column(column *c, size_t cap) {
  void *p = realloc(c->v.i64, cap * cell_size(c->type));
  if (!p) return false;
  c->v.i64 = p;
  unsigned char *valid = realloc(c->valid, cap);
  if (!valid) return false;
  c->valid = valid;
  return true;
}

size_t pd__table_add_col(pd_table *t, const char *name, pd_type type) {
  if (t->oom) return 0;
  column *cols = realloc(t->cols, (t->n_cols + 1) * sizeof *cols);
  if (!cols) {
    t->oom = true;
    return 0;
  }
  t->cols = cols;
  column *c = &cols[t->n_cols];
  memset(c, 0, sizeof *c);
  c->type = type;
  c->name = dup_str(name);
  if (!c->name || (t->cap_rows && !grow_column(c, t->cap_rows))) {
    t->oom = true;
    return 0;
  }
  t->n_cols++;
  if (t->n_rows) memset(c->valid, 0, t->n_rows);
  return t->n_cols - 1;
}

size_t pd__table_add_row(pd_table *t) {
  if (t->oom) return 0;
  if (t->n_rows == t->cap_rows) {
    size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
    for (size_t i = 0; i < t->n_cols; i++)
      if (!grow_column(&t->cols[i], cap)) {
        t->oom = true;
        return 0;
      }
    t->cap_rows = cap;
  }
  size_t r = t->n_rows++;
  for (size_t i = 0; i < t->n_cols; i++) {
    t->cols[i].valid[r] = 0;
    if (t->cols[i].type == PD_TYPE_STRING) t->cols[i].v.str[r] = NULL;
  }
  return r;
}

static column *cell(pd_table *t, size_t row, size_t col, pd_type type) {
  if (t->oom || row >= t->n_rows || col >= t->n_cols || t->cols[col].type != type) return NULL;
  return &t->cols[col];
}

void pd__table_set_int64(pd_table *t, size_t row, size_t col, int64_t v) {
  column *c = cell(t, row, col, PD_TYPE_INT64);
  if (!c) return;
  c->v.i64[row] = v;
  c->valid[row] = 1;
}

void pd__table_set_double(pd_table *t, size_t row, size_t col, double v) {
  column *c = cell(t, row, col, PD_TYPE_DOUBLE);
  if (!c) return;
  c->v.f64[row] = v;
  c->valid[row] = !isnan(v); /* NaN is stored as null: undefined, never printed as "nan" */
}

void pd__table_set_string(pd_table *t, size_t row, size_t col, const char *s) {
  column *c = cell(t, row, col, PD_TYPE_STRING);
  if (!c || !s) return;
  char *d = dup_str(s);
  if (!d) {
    t->oom = true;
    return;
  }
  free(c->v.str[row]);
  c->v.str[row] = d;
  c->valid[row] = 1;
}

pd_status pd__table_finish(pd_table *t, pd_table **out) {
  if (!t) return pd__error(PD_ERR_NOMEM, "out of memory building a result table");
  if (t->oom) {
    pd_table_free(t);
    return pd__error(PD_ERR_NOMEM, "out of memory building a result table");
  }
  *out = t;
  return PD_OK;
}

void pd_table_free(pd_table *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n_cols; i++) {
    column *c = &t->cols[i];
    if (c->type == PD_TYPE_STRING && c->v.str)
      for (size_t r = 0; r < t->n_rows; r++) free(c->v.str[r]);
    free(c->v.i64);
    free(c->valid);
    free(c->name);
  }
  free(t->cols);
  free(t->name);
  free(t);
}

const char *pd_table_name(const pd_table *t) { return t ? t->name : NULL; }
size_t pd_table_n_rows(const pd_table *t) { return t ? t->n_rows : 0; }
size_t pd_table_n_cols(const pd_table *t) { return t ? t->n_cols : 0; }

const char *pd_table_col_name(const pd_table *t, size_t col) {
  return t && col < t->n_cols ? t->cols[col].name : NULL;
}

pd_type pd_table_col_type(const pd_table *t, size_t col) {
  return t && col < t->n_cols ? t->cols[col].type : (pd_type)0;
}

long pd_table_col_index(const pd_table *t, const char *name) {
  if (!t || !name) return -1;
  for (size_t i = 0; i < t->n_cols; i++)
    if (strcmp(t->cols[i].name, name) == 0) return (long)i;
  return -1;
}

static const column *get(const pd_table *t, size_t row, size_t col, pd_type type) {
  if (!t || row >= t->n_rows || col >= t->n_cols) return NULL;
  const column *c = &t->cols[col];
  return c->type == type && c->valid[row] ? c : NULL;
}

int pd_table_is_null(const pd_table *t, size_t row, size_t col) {
  if (!t || row >= t->n_rows || col >= t->n_cols) return 1;
  return !t->cols[col].valid[row];
}

int64_t pd_table_get_int64(const pd_table *t, size_t row, size_t col) {
  const column *c = get(t, row, col, PD_TYPE_INT64);
  return c ? c->v.i64[row] : 0;
}

double pd_table_get_double(const pd_table *t, size_t row, size_t col) {
  const column *c = get(t, row, col, PD_TYPE_DOUBLE);
  return c ? c->v.f64[row] : 0.0;
}

const char *pd_table_get_string(const pd_table *t, size_t row, size_t col) {
  const column *c = get(t, row, col, PD_TYPE_STRING);
  return c ? c->v.str[row] : NULL;
}

/* ---- writers -------------------------------------------------------- */

/* A growable text buffer; `failed` latches the first allocation failure. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  bool failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_pad(sbuf *b, size_t n) {
  while (n--) sb_put(b, " ", 1);
}

/* Shortest text that reads back as the same double ("%.17g" trimmed);
 * whole numbers below 1e15 as integers (49416000, not 4.9416e+07). */
static void format_double(char *buf, size_t size, double v) {
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, size, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
    return;
  }
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

/* For people (PD_FORMAT_TEXT): at most six decimals, trailing zeros
 * dropped (0.5636363636 -> 0.563636); tiny or huge values as %.6g. CSV and
 * JSON keep the exact text of format_double(). */
static void format_double_text(char *buf, size_t size, double v) {
  double a = fabs(v);
  if (v != v || a >= 1e15 || (a < 1e-4 && a > 0)) {
    snprintf(buf, size, "%.6g", v);
    return;
  }
  snprintf(buf, size, "%.6f", v);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *end = buf + strlen(buf);
    while (end > dot + 1 && end[-1] == '0') *--end = '\0';
    if (end == dot + 1) *dot = '\0';
  }
  if (strcmp(buf, "-0") == 0) snprintf(buf, size, "0");
}

/* Plain text of a cell; "" for null. `human`: doubles as for people. */
static void cell_text(const pd_table *t, size_t r, size_t c, char *buf, size_t size, const char **out, bool human) {
  const column *col = &t->cols[c];
  *out = buf;
  buf[0] = '\0';
  if (!col->valid[r]) return;
  switch (col->type) {
  case PD_TYPE_INT64: snprintf(buf, size, "%" PRId64, col->v.i64[r]); break;
  case PD_TYPE_DOUBLE: (human ? format_double_text : format_double)(buf, size, col->v.f64[r]); break;
  case PD_TYPE_STRING: *out = col->v.str[r]; break;
  }
}

/* Display width in terminal columns: CJK characters take two. */
static size_t display_width(const char *s) {
  size_t w = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    uint32_t cp;
    int n;
    if (*p < 0x80) { cp = *p; n = 1; }
    else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; n = 2; }
    else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; n = 3; }
    else { cp = *p & 0x07; n = 4; }
    for (int i = 1; i < n; i++) {
      if ((p[i] & 0xC0) != 0x80) { n = i; break; }
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    p += n;
    w += (cp >= 0x1100 && (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
                           (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000))
             ? 2 : 1;
  }
  return w;
}

static void write_text(const pd_table *t, sbuf *b) {
  char buf[64];
  const char *s;
  size_t *width = calloc(t->n_cols ? t->n_cols : 1, sizeof *width);
  if (!width) {
    b->failed = true;
    return;
  }
  for (size_t c = 0; c < t->n_cols; c++) {
    width[c] = display_width(t->cols[c].name);
    for (size_t r = 0; r < t->n_rows; r++) {
      cell_text(t, r, c, buf, sizeof buf, &s, true);
      size_t w = display_width(s);
      if (w > width[c]) width[c] = w;
    }
  }
  for (size_t r = 0; r <= t->n_rows; r++) { /* r == 0 is the header */
    for (size_t c = 0; c < t->n_cols; c++) {
      if (r == 0) s = t->cols[c].name;
      else cell_text(t, r - 1, c, buf, sizeof buf, &s, true);
      size_t pad = width[c] - display_width(s);
      bool right = t->cols[c].type != PD_TYPE_STRING; /* numbers (and their headers) align right */
      if (c) sb_puts(b, "  ");
      if (right) sb_pad(b, pad);
      sb_puts(b, s);
      if (!right && c + 1 < t->n_cols) sb_pad(b, pad);
    }
    while (!b->failed && b->len && b->p[b->len - 1] == ' ') b->p[--b->len] = '\0'; /* no trailing blanks */
    sb_puts(b, "\n");
    if (r == 0) {
      for (size_t c = 0; c < t->n_cols; c++) {
        if (c) sb_puts(b, "  ");
        for (size_t i = 0; i < width[c]; i++) sb_puts(b, "-");
      }
      sb_puts(b, "\n");
    }
  }
  free(width);
}

static void csv_field(sbuf *b, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    sb_puts(b, s);
    return;
  }
  sb_puts(b, "\"");
  for (; *s; s++) sb_puts(b, *s == '"' ? "\"\"" : (char[2]){*s, '\0'});
  sb_puts(b, "\"");
}

static void write_csv(const pd_table *t, sbuf *b) {
  char buf[64];
  const char *s;
  for (size_t c = 0; c < t->n_cols; c++) {
    if (c) sb_puts(b, ",");
    csv_field(b, t->cols[c].name);
  }
  sb_puts(b, "\n");
  for (size_t r = 0; r < t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      if (c) sb_puts(b, ",");
      cell_text(t, r, c, buf, sizeof buf, &s, false);
      csv_field(b, s);
    }
    sb_puts(b, "\n");
  }
}

static void json_string(sbuf *b, const char *s) {
  sb_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      sb_put(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      sb_puts(b, esc);
    } else {
      sb_put(b, (const char *)p, 1);
    }
  }
  sb_puts(b, "\"");
}

static void write_json(const pd_table *t, sbuf *b) {
  char buf[64];
  const char *s;
  sb_puts(b, "[");
  for (size_t r = 0; r < t->n_rows; r++) {
    sb_puts(b, r ? ",\n {" : "\n {");
    for (size_t c = 0; c < t->n_cols; c++) {
      if (c) sb_puts(b, ", ");
      json_string(b, t->cols[c].name);
      sb_puts(b, ": ");
      cell_text(t, r, c, buf, sizeof buf, &s, false);
      if (!t->cols[c].valid[r]) sb_puts(b, "null");
      else if (t->cols[c].type == PD_TYPE_STRING) json_string(b, s);
      else if (t->cols[c].type == PD_TYPE_DOUBLE && !isfinite(t->cols[c].v.f64[r])) sb_puts(b, "null");
      else sb_puts(b, s);
    }
    sb_puts(b, "}");
  }
  sb_puts(b, t->n_rows ? "\n]\n" : "]\n");
}

pd_status pd_table_format(const pd_table *t, pd_format format, char **out, size_t *len) {
  if (!t || !out) return pd__error(PD_ERR_INVALID, "pd_table_format: NULL argument");
  sbuf b = {0};
  switch (format) {
  case PD_FORMAT_TEXT: write_text(t, &b); break;
  case PD_FORMAT_CSV: write_csv(t, &b); break;
  case PD_FORMAT_JSON: write_json(t, &b); break;
  default: return pd__error(PD_ERR_INVALID, "pd_table_format: unknown format %d", (int)format);
  }
  sb_puts(&b, ""); /* ensure a buffer even for an empty table */
  if (b.failed) {
    free(b.p);
    return pd__error(PD_ERR_NOMEM, "out of memory formatting table %s", t->name);
  }
  *out = b.p;
  if (len) *len = b.len;
  return PD_OK;
}

pd_status pd_table_write(const pd_table *t, FILE *out, pd_format format) {
  if (!out) return pd__error(PD_ERR_INVALID, "pd_table_write: NULL stream");
  char *text;
  size_t len;
  pd_status st = pd_table_format(t, format, &text, &len);
  if (st != PD_OK) return st;
  size_t n = fwrite(text, 1, len, out);
  free(text);
  if (n != len) return pd__error(PD_ERR_IO, "writing table %s: short write", t->name);
  return PD_OK;
}
