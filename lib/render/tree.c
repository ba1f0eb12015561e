/* Tree chart (referral trees): rows (node, parent, label) drawn top-down,
 * one level per depth, leaves spread evenly and each parent centred over
 * its children. Cycles and unknown parents never loop: a node whose parent
 * is missing becomes a root, and a cycle is cut at its first row. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

#define ALERT "#d62728"

static const char *const level_colors[] = {"#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#9c755f"};

typedef struct tree {
  size_t n;
  char **id, **label;
  size_t *parent;        /* SIZE_MAX: root */
  size_t *child_off, *child; /* children in CSR form, row order */
  size_t *order, n_order; /* preorder of drawn nodes */
  int *depth;
  double *x;
  size_t roots, dropped;
} tree;

static void tree_free(tree *tr) {
  for (size_t i = 0; tr->id && i < tr->n; i++) free(tr->id[i]);
  for (size_t i = 0; tr->label && i < tr->n; i++) free(tr->label[i]);
  free(tr->id);
  free(tr->label);
  free(tr->parent);
  free(tr->child_off);
  free(tr->child);
  free(tr->order);
  free(tr->depth);
  free(tr->x);
}

static pd_status col(const pd_table *t, const char *name, long *out) {
  *out = pd_table_col_index(t, name);
  if (*out < 0) return pd__error(PD_ERR_NOT_FOUND, "tree chart: column \"%s\" not in table \"%s\"", name, pd_table_name(t));
  return PD_OK;
}

static pd_status tree_load(tree *tr, const pd_table *t, const pd_chart_spec *s) {
  long node, parent, label;
  pd_status st;
  if ((st = col(t, s->node_col ? s->node_col : "node", &node))) return st;
  if ((st = col(t, s->parent_col ? s->parent_col : "parent", &parent))) return st;
  if (s->label_col) {
    if ((st = col(t, s->label_col, &label))) return st;
  } else {
    label = pd_table_col_index(t, "label");
    if (label < 0) label = node;
  }
  size_t rows = pd_table_n_rows(t);
  tr->id = calloc(rows + 1, sizeof *tr->id);
  tr->label = calloc(rows + 1, sizeof *tr->label);
  tr->parent = malloc((rows + 1) * sizeof *tr->parent);
  tr->child_off = calloc(rows + 2, sizeof *tr->child_off);
  tr->child = malloc((rows + 1) * sizeof *tr->child);
  tr->order = malloc((rows + 1) * sizeof *tr->order);
  tr->depth = calloc(rows + 1, sizeof *tr->depth);
  tr->x = calloc(rows + 1, sizeof *tr->x);
  char **parent_id = calloc(rows + 1, sizeof *parent_id);
  GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
  st = PD_OK;
  if (!tr->id || !tr->label || !tr->parent || !tr->child_off || !tr->child || !tr->order || !tr->depth || !tr->x ||
      !parent_id)
    st = pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
  char buf[512];
  bool null;
  for (size_t r = 0; r < rows && st == PD_OK; r++) {
    pd__cell_text(t, r, (size_t)node, buf, sizeof buf, &null);
    if (null || g_hash_table_contains(index, buf)) continue; /* first row of an id wins */
    size_t i = tr->n;
    if (!(tr->id[i] = strdup(buf))) st = pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
    pd__cell_text(t, r, (size_t)label, buf, sizeof buf, &null);
    if (st == PD_OK && !(tr->label[i] = strdup(null ? tr->id[i] : buf))) st = pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
    pd__cell_text(t, r, (size_t)parent, buf, sizeof buf, &null);
    if (st == PD_OK && !null && *buf && !(parent_id[i] = strdup(buf))) st = pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
    tr->n++;
    if (tr->id[i]) g_hash_table_insert(index, tr->id[i], GSIZE_TO_POINTER(i));
  }
  for (size_t i = 0; i < tr->n && st == PD_OK; i++) {
    gpointer p;
    tr->parent[i] = SIZE_MAX;
    if (parent_id[i] && g_hash_table_lookup_extended(index, parent_id[i], NULL, &p) && GPOINTER_TO_SIZE(p) != i)
      tr->parent[i] = GPOINTER_TO_SIZE(p);
  }
  for (size_t i = 0; i < rows; i++) free(parent_id[i]);
  free(parent_id);
  g_hash_table_destroy(index);
  if (st != PD_OK) return st;
  /* children lists (CSR) */
  for (size_t i = 0; i < tr->n; i++)
    if (tr->parent[i] != SIZE_MAX) tr->child_off[tr->parent[i] + 1]++;
  for (size_t i = 0; i < tr->n; i++) tr->child_off[i + 1] += tr->child_off[i];
  size_t *fill = calloc(tr->n + 1, sizeof *fill);
  if (!fill) return pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
  for (size_t i = 0; i < tr->n; i++)
    if (tr->parent[i] != SIZE_MAX) tr->child[tr->child_off[tr->parent[i]] + fill[tr->parent[i]]++] = i;
  free(fill);
  return PD_OK;
}

/* Preorder from every root (then from the first unvisited node of each
 * cycle), keeping at most `max` nodes. */
static pd_status tree_walk(tree *tr, size_t max) {
  bool *seen = calloc(tr->n + 1, sizeof *seen);
  size_t *stack = malloc((tr->n + 1) * sizeof *stack);
  if (!seen || !stack) {
    free(seen);
    free(stack);
    return pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
  }
  for (int pass = 0; pass < 2; pass++) {
    for (size_t r = 0; r < tr->n; r++) {
      if (seen[r] || (pass == 0 && tr->parent[r] != SIZE_MAX)) continue;
      if (pass == 1) tr->parent[r] = SIZE_MAX; /* cut the cycle here */
      tr->roots++;
      size_t sp = 0;
      stack[sp++] = r;
      seen[r] = true;
      tr->depth[r] = 0;
      while (sp > 0) {
        size_t v = stack[--sp];
        if (tr->n_order < max)
          tr->order[tr->n_order++] = v;
        else
          tr->dropped++;
        for (size_t k = tr->child_off[v + 1]; k > tr->child_off[v]; k--) {
          size_t ch = tr->child[k - 1];
          if (seen[ch]) continue;
          seen[ch] = true;
          tr->depth[ch] = tr->depth[v] + 1;
          tr->parent[ch] = v;
          stack[sp++] = ch;
        }
      }
    }
  }
  free(seen);
  free(stack);
  return PD_OK;
}

pd_status pd__chart_tree(const pd_table *t, const pd_chart_spec *s, pd__buf *b) {
  tree tr;
  memset(&tr, 0, sizeof tr);
  pd_status st = tree_load(&tr, t, s);
  if (st == PD_OK) st = tree_walk(&tr, s->max_items ? s->max_items : 400);
  if (st != PD_OK) {
    tree_free(&tr);
    return st;
  }
  double w = s->width > 0 ? s->width : 760;
  if (tr.n_order == 0) {
    pd__svg_message(b, w < 240 ? 240 : w, s->height > 0 ? s->height : 240, s->title, s->subtitle, "no data");
    tree_free(&tr);
    return PD_OK;
  }
  /* leaves in preorder get consecutive slots; parents sit over their children */
  bool *shown = calloc(tr.n + 1, sizeof *shown);
  double *lo = malloc((tr.n + 1) * sizeof *lo), *hi = malloc((tr.n + 1) * sizeof *hi);
  if (!shown || !lo || !hi) {
    free(shown);
    free(lo);
    free(hi);
    tree_free(&tr);
    return pd__error(PD_ERR_NOMEM, "tree chart: out of memory");
  }
  for (size_t k = 0; k < tr.n_order; k++) shown[tr.order[k]] = true;
  for (size_t i = 0; i < tr.n; i++) lo[i] = INFINITY, hi[i] = -INFINITY;
  size_t leaves = 0;
  int max_depth = 0;
  for (size_t k = 0; k < tr.n_order; k++) {
    size_t v = tr.order[k];
    bool leaf = true;
    for (size_t c = tr.child_off[v]; c < tr.child_off[v + 1]; c++)
      if (shown[tr.child[c]] && tr.parent[tr.child[c]] == v) leaf = false;
    if (leaf) tr.x[v] = (double)leaves++;
    if (tr.depth[v] > max_depth) max_depth = tr.depth[v];
  }
  for (size_t k = tr.n_order; k-- > 0;) {
    size_t v = tr.order[k];
    if (lo[v] <= hi[v]) tr.x[v] = (lo[v] + hi[v]) / 2;
    size_t p = tr.parent[v];
    if (p != SIZE_MAX) {
      if (tr.x[v] < lo[p]) lo[p] = tr.x[v];
      if (tr.x[v] > hi[p]) hi[p] = tr.x[v];
    }
  }
  free(lo);
  free(hi);

  if (s->width <= 0) {
    double need = 90 + leaves * 18.0;
    if (need > w) w = need > 4000 ? 4000 : need;
  }
  double level_h = 74;
  double h = s->height > 0 ? s->height : 34 + 60 + (max_depth + 1) * level_h + 40;
  if (w < 240) w = 240;
  if (h < 160) h = 160;
  double top = pd__svg_begin(b, w, h, s->title, s->subtitle) + 24;
  double left = 12 + 18 + 44, right = w - 12, bottom = h - 40;
  if (s->height > 0) level_h = (bottom - top) / (max_depth + 1);
  double slot = (right - left) / (double)leaves;
  double r = slot * 0.3 < 3 ? 3 : slot * 0.3 > 7 ? 7 : slot * 0.3;
  int cap = s->has_ref && isfinite(s->ref_value) ? (int)floor(s->ref_value) : INT32_MAX;
#define NX(v) (left + (tr.x[v] + 0.5) * slot)
#define NY(d) (top + (d) * level_h + 8)
  char buf[512];
  /* depth axis */
  pd__buf_printf(b, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333333\">",
                 24.0, top + (bottom - top) / 2);
  pd__buf_escape(b, s->x_title ? s->x_title : "depth (levels below the root)");
  pd__buf_puts(b, "</text>");
  for (int d = 0; d <= max_depth; d++) {
    snprintf(buf, sizeof buf, "%d", d);
    pd__svg_text(b, left - 16, NY(d) + 4, "end", d > cap ? "fill=\"" ALERT "\"" : "fill=\"#555555\"", buf);
  }
  if (cap < max_depth && cap >= 0) {
    double y = (NY(cap) + NY(cap + 1)) / 2;
    pd__buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" ALERT "\" stroke-width=\"1.5\" "
                   "stroke-dasharray=\"6 4\"/>",
                   left - 10, y, right, y);
    if (s->ref_label)
      snprintf(buf, sizeof buf, "%s", s->ref_label);
    else
      snprintf(buf, sizeof buf, "cap: depth %d", cap);
    pd__svg_text(b, left - 12, y + 13, "start", "font-size=\"10.5\" fill=\"" ALERT "\"", buf);
  }
  /* edges, then nodes on top */
  for (size_t k = 0; k < tr.n_order; k++) {
    size_t v = tr.order[k], p = tr.parent[v];
    if (p == SIZE_MAX) continue;
    double x1 = NX(p), y1 = NY(tr.depth[p]), x2 = NX(v), y2 = NY(tr.depth[v]), ym = (y1 + y2) / 2;
    pd__buf_printf(b, "<path d=\"M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"%s\"/>", x1, y1, x1, ym,
                   x2, ym, x2, y2, tr.depth[v] > cap ? ALERT : "#b8b8b8");
  }
  for (size_t k = 0; k < tr.n_order; k++) {
    size_t v = tr.order[k];
    int d = tr.depth[v];
    const char *fill = d > cap ? ALERT : level_colors[d % 6];
    pd__buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"#ffffff\"><title>", NX(v), NY(d), r, fill);
    pd__buf_escape(b, tr.label[v]);
    pd__buf_printf(b, " (depth %d)</title></circle>", d);
    pd__text_fit(tr.label[v], 10, slot - 2, buf, sizeof buf);
    if (slot >= 24 && buf[0])
      pd__svg_text(b, NX(v), NY(d) + r + 11, "middle", "font-size=\"10\" fill=\"#333333\"", buf);
  }
  snprintf(buf, sizeof buf, "%zu nodes, %zu roots, deepest level %d%s", tr.n_order, tr.roots, max_depth,
           tr.dropped ? "" : "");
  if (tr.dropped) {
    size_t len = strlen(buf);
    snprintf(buf + len, sizeof buf - len, "; %zu more nodes not shown", tr.dropped);
  }
  pd__svg_text(b, left + (right - left) / 2, h - 14, "middle", "fill=\"#333333\"", buf);
#undef NX
#undef NY
  pd__svg_end(b);
  free(shown);
  tree_free(&tr);
  return PD_OK;
}
