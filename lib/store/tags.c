/* Tags (stored user sets) and in-memory user sets. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct pd_userset {
  uint32_t n_users; /* bits beyond are always zero */
  uint64_t *bits;
};

static pd_status set_tag(pd_writer *w, uint32_t user, const char *tag, bool on) {
  if (!w || !tag) return pd__error(PD_ERR_INVALID, "tag: NULL argument");
  pd_store *s = pd__writer_store(w);
  pd__dict *d = &s->dict;
  uint32_t t;
  size_t len = strlen(tag);
  pd_status st = pd__dict_find_tag(d, tag, len, &t);
  if (st == PD_ERR_NOT_FOUND) {
    if (!on) return PD_OK;
    if ((st = pd__dict_add_tag(d, tag, len, &t)) != PD_OK) return st;
    if ((st = pd__rec_user(pd__writer_pending(w), PD_REC_TAG, t, tag, len)) != PD_OK) return st;
  }
  if (user >= pd__dict_n_users(d)) return pd__error(PD_ERR_NOT_FOUND, "tag %s: no user %u", tag, user);
  bool changed;
  user = pd__dict_canonical(d, user);
  if ((st = pd__dict_set_tag(d, user, t, on, &changed)) != PD_OK || !changed) return st;
  if ((st = pd__rec_user_tag(pd__writer_pending(w), user, t, on)) != PD_OK) return st;
  return pd__writer_after_record(w);
}

pd_status pd_writer_tag(pd_writer *w, uint32_t user, const char *tag) { return set_tag(w, user, tag, true); }
pd_status pd_writer_untag(pd_writer *w, uint32_t user, const char *tag) { return set_tag(w, user, tag, false); }

pd_status pd_writer_tag_set(pd_writer *w, const char *tag, const pd_userset *set) {
  if (!w || !tag || !set) return pd__error(PD_ERR_INVALID, "pd_writer_tag_set: NULL argument");
  const pd__dict *d = &pd__writer_store(w)->dict;
  uint32_t n = pd__dict_n_users(d), t;
  bool exists = pd__dict_find_tag(d, tag, strlen(tag), &t) == PD_OK;
  pd_status st = PD_OK;
  for (uint32_t u = 0; u < n && st == PD_OK; u++) {
    bool want = pd_userset_contains(set, u) && pd__dict_canonical(d, u) == u;
    if (want || (exists && pd__dict_has_tag(d, u, t))) st = set_tag(w, u, tag, want);
  }
  /* An empty set still creates the (empty) tag, so the name resolves. */
  if (st == PD_OK && !exists && pd__dict_find_tag(d, tag, strlen(tag), &t) != PD_OK) {
    pd__dict *md = &pd__writer_store(w)->dict;
    if ((st = pd__dict_add_tag(md, tag, strlen(tag), &t)) == PD_OK &&
        (st = pd__rec_user(pd__writer_pending(w), PD_REC_TAG, t, tag, strlen(tag))) == PD_OK)
      st = pd__writer_after_record(w);
  }
  return st;
}

uint32_t pd_store_n_tags(const pd_store *s) { return s ? pd__dict_n_tags(&s->dict) : 0; }

const char *pd_store_tag_name(const pd_store *s, uint32_t tag) {
  return s && tag < pd__dict_n_tags(&s->dict) ? pd__names_get(&s->dict.tag_names, tag) : NULL;
}

pd_status pd_store_find_tag(const pd_store *s, const char *name, uint32_t *out) {
  if (!s || !name || !out) return pd__error(PD_ERR_INVALID, "pd_store_find_tag: NULL argument");
  if (pd__dict_find_tag(&s->dict, name, strlen(name), out) != PD_OK) return pd__error(PD_ERR_NOT_FOUND, "no tag \"%s\"", name);
  return PD_OK;
}

/* A tag's users as survivors: the tags of merged users move to the user
 * they were merged into (compaction does the same on disk). */
static void fill_from_tag(pd_userset *set, const pd__dict *d, uint32_t t) {
  uint32_t n = pd__dict_n_users(d);
  for (uint32_t u = 0; u < n; u++)
    if (pd__dict_has_tag(d, u, t)) pd_userset_add(set, pd__dict_canonical(d, u));
}

int pd_store_user_has_tag(const pd_store *s, uint32_t user, uint32_t tag) {
  if (!s || tag >= pd__dict_n_tags(&s->dict) || user >= pd__dict_n_users(&s->dict)) return 0;
  const pd__dict *d = &s->dict;
  user = pd__dict_canonical(d, user);
  if (pd__dict_has_tag(d, user, tag)) return 1;
  if (!d->n_merges) return 0;
  for (uint32_t u = 0; u < pd__dict_n_users(d); u++)
    if (pd__dict_has_tag(d, u, tag) && pd__dict_canonical(d, u) == user) return 1;
  return 0;
}

pd_status pd_store_tags(pd_store *s, pd_table **out) {
  if (!s || !out) return pd__error(PD_ERR_INVALID, "pd_store_tags: NULL argument");
  pd_table *t = pd__table_new("tags");
  if (!t) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd__table_add_col(t, "tag", PD_TYPE_STRING);
  pd__table_add_col(t, "users", PD_TYPE_INT64);
  for (uint32_t g = 0; g < pd__dict_n_tags(&s->dict); g++) {
    pd_userset *set;
    pd_status st = pd_userset_new(&set, s);
    if (st != PD_OK) {
      pd_table_free(t);
      return st;
    }
    fill_from_tag(set, &s->dict, g);
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, 0, pd__names_get(&s->dict.tag_names, g));
    pd__table_set_int64(t, r, 1, (int64_t)pd_userset_count(set));
    pd_userset_free(set);
  }
  return pd__table_finish(t, out);
}

pd_status pd_userset_new(pd_userset **out, const pd_store *s) {
  if (!out || !s) return pd__error(PD_ERR_INVALID, "pd_userset_new: NULL argument");
  pd_userset *set = calloc(1, sizeof *set);
  uint32_t n = pd__dict_n_users(&s->dict);
  if (set) set->bits = calloc(((size_t)n + 63) / 64 + 1, sizeof *set->bits);
  if (!set || !set->bits) {
    free(set);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  set->n_users = n;
  *out = set;
  return PD_OK;
}

pd_status pd_userset_from_tag(pd_userset **out, const pd_store *s, const char *tag) {
  if (!out || !s || !tag) return pd__error(PD_ERR_INVALID, "pd_userset_from_tag: NULL argument");
  uint32_t t;
  pd_status st = pd_store_find_tag(s, tag, &t);
  if (st == PD_OK) st = pd_userset_new(out, s);
  if (st == PD_OK) fill_from_tag(*out, &s->dict, t);
  return st;
}

pd_status pd_userset_copy(pd_userset **out, const pd_userset *set) {
  if (!out || !set) return pd__error(PD_ERR_INVALID, "pd_userset_copy: NULL argument");
  pd_userset *c = calloc(1, sizeof *c);
  size_t words = ((size_t)set->n_users + 63) / 64 + 1;
  if (c) c->bits = malloc(words * sizeof *c->bits);
  if (!c || !c->bits) {
    free(c);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  memcpy(c->bits, set->bits, words * sizeof *c->bits);
  c->n_users = set->n_users;
  *out = c;
  return PD_OK;
}

void pd_userset_free(pd_userset *set) {
  if (!set) return;
  free(set->bits);
  free(set);
}

void pd_userset_add(pd_userset *set, uint32_t u) {
  if (set && u < set->n_users) set->bits[u >> 6] |= UINT64_C(1) << (u & 63);
}

void pd_userset_remove(pd_userset *set, uint32_t u) {
  if (set && u < set->n_users) set->bits[u >> 6] &= ~(UINT64_C(1) << (u & 63));
}

int pd_userset_contains(const pd_userset *set, uint32_t u) {
  return set && u < set->n_users ? (int)((set->bits[u >> 6] >> (u & 63)) & 1) : 0;
}

uint64_t pd_userset_count(const pd_userset *set) {
  uint64_t n = 0;
  for (size_t i = 0; set && i < ((size_t)set->n_users + 63) / 64; i++) n += (uint64_t)__builtin_popcountll(set->bits[i]);
  return n;
}

/* Sets built for different store sizes combine over the common users. */
static size_t common_words(const pd_userset *a, const pd_userset *b) {
  uint32_t n = a->n_users < b->n_users ? a->n_users : b->n_users;
  return ((size_t)n + 63) / 64;
}

void pd_userset_and(pd_userset *a, const pd_userset *b) {
  if (!a || !b) return;
  size_t w = common_words(a, b), all = ((size_t)a->n_users + 63) / 64;
  for (size_t i = 0; i < w; i++) a->bits[i] &= b->bits[i];
  for (size_t i = w; i < all; i++) a->bits[i] = 0;
}

void pd_userset_or(pd_userset *a, const pd_userset *b) {
  if (!a || !b) return;
  size_t w = common_words(a, b);
  for (size_t i = 0; i < w; i++) a->bits[i] |= b->bits[i];
  if (a->n_users & 63) a->bits[(a->n_users - 1) >> 6] &= ~UINT64_C(0) >> (64 - (a->n_users & 63));
}

void pd_userset_andnot(pd_userset *a, const pd_userset *b) {
  if (!a || !b) return;
  size_t w = common_words(a, b);
  for (size_t i = 0; i < w; i++) a->bits[i] &= ~b->bits[i];
}

/* For pd_scan: a user passes when no set is given or the set holds it. */
int pd__userset_pass(const pd_userset *set, uint32_t u) { return !set || pd_userset_contains(set, u); }
