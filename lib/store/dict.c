/* Dictionaries (users, aliases, merges, touchpoints, event types) and the
 * record encoding shared by the log and sealed segments. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dict.h"

#define ALIAS_BIT UINT32_C(0x80000000)

/* ---- little-endian integers (the format is little-endian everywhere) ---- */

void pd__put_u8(unsigned char *p, uint8_t v) { p[0] = v; }
void pd__put_u16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
void pd__put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
void pd__put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
uint16_t pd__get_u16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
uint32_t pd__get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
uint64_t pd__get_u64(const unsigned char *p) { return pd__get_u32(p) | ((uint64_t)pd__get_u32(p + 4) << 32); }

/* ---- growable storage ------------------------------------------------ */

/* Asks for transparent huge pages on the 2 MiB-aligned interior of a
 * large block that is read at random (names, offsets). */
static void advise_huge(void *p, size_t size) {
  const uintptr_t huge = 2u << 20;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + size) & ~(huge - 1);
  if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return false;
  if (c * elem >= (8u << 20)) advise_huge(q, c * elem);
  *p = q;
  *cap = c;
  return true;
}

pd_status pd__buf_reserve(pd__buf *b, size_t extra) {
  if (!grow((void **)&b->p, &b->cap, b->len + extra, 1)) return pd__error(PD_ERR_NOMEM, "out of memory");
  return PD_OK;
}

void pd__buf_free(pd__buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static pd_status names_add(pd__names *n, const char *s, size_t len) {
  size_t old_cap_n = n->cap_n;
  if (!grow((void **)&n->buf, &n->cap, n->len + len + 1, 1) || !grow((void **)&n->off, &n->cap_n, n->n + 1, sizeof *n->off))
    return pd__error(PD_ERR_NOMEM, "out of memory");
  if (n->cap_n != old_cap_n || !n->len_of) { /* len_of grows in step with off */
    uint32_t *lens = realloc(n->len_of, n->cap_n * sizeof *lens);
    if (!lens) {
      n->cap_n = old_cap_n; /* off is larger, len_of is not: count only what both hold */
      return pd__error(PD_ERR_NOMEM, "out of memory");
    }
    n->len_of = lens;
  }
  memcpy(n->buf + n->len, s, len);
  n->buf[n->len + len] = '\0';
  n->off[n->n] = n->len;
  n->len_of[n->n] = (uint32_t)len;
  n->len += len + 1;
  n->n++;
  return PD_OK;
}

static void names_truncate(pd__names *n, size_t count) {
  if (count >= n->n) return;
  n->len = n->off[count];
  n->n = count;
}

static void names_free(pd__names *n) {
  free(n->buf);
  free(n->off);
  free(n->len_of);
}

/* Large tables probed at random: ask for transparent huge pages, since a
 * TLB miss per lookup (under virtualisation, a double page walk) costs
 * more than the cache miss itself. */
static void *pd__alloc_zeroed_huge(size_t size) {
  const size_t huge = 2u << 20;
  if (size < huge) return calloc(1, size);
  void *p = NULL;
  if (posix_memalign(&p, huge, size) != 0) return NULL;
  madvise(p, size, MADV_HUGEPAGE);
  memset(p, 0, size);
  return p;
}

/* ---- string map --------------------------------------------------------
 * Open addressing with linear probing. A slot keeps a 32-bit hash whose low
 * four bits are the key's length when it is at most 8 bytes (0 otherwise),
 * and either the key itself (up to 8 bytes, zero-padded: names hold no NUL
 * bytes, so the padding is unambiguous together with the length) or the
 * key's offset and length in its pd__names arena. Short keys (most
 * external user ids) are then found with one cache miss and no compare. */

static inline uint64_t pack_short(const char *s, size_t len) { return pd__load_upto8(s, len); }

#define hash_str pd__dict_hash

/* The arena that holds the key of a map value. */
typedef const char *(*arena_fn)(const pd__dict *d, uint32_t value);
static const char *user_arena(const pd__dict *d, uint32_t v) { return v & ALIAS_BIT ? d->aliases.buf : d->user_names.buf; }
static const char *tp_arena(const pd__dict *d, uint32_t v) { (void)v; return d->tp_names.buf; }
static const char *type_arena(const pd__dict *d, uint32_t v) { (void)v; return d->type_names.buf; }
static const char *tag_arena(const pd__dict *d, uint32_t v) { (void)v; return d->tag_names.buf; }

static uint64_t where_of(const pd__names *n, size_t i) { return (n->off[i] << 16) | n->len_of[i]; }

static bool map_find(const pd__dict *d, const pd__strmap *m, arena_fn arena, const char *s, size_t len, uint32_t h,
                     uint32_t *out) {
  if (!m->cap) return false;
  if (h & 15) { /* a short key: compare in the slot */
    uint64_t key = pack_short(s, len);
    for (size_t i = pd__strmap_index(m, h);; i = (i + 1) & (m->cap - 1)) {
      const pd__slot *slot = &m->slots[i];
      if (!slot->value1) return false;
      if (slot->hash == h && slot->where == key) {
        *out = slot->value1 - 1;
        return true;
      }
    }
  }
  for (size_t i = pd__strmap_index(m, h);; i = (i + 1) & (m->cap - 1)) {
    const pd__slot *slot = &m->slots[i];
    if (!slot->value1) return false;
    if (slot->hash != h || (slot->where & 0xFFFF) != len) continue;
    uint32_t v = slot->value1 - 1;
    if (memcmp(arena(d, v) + (slot->where >> 16), s, len) == 0) {
      *out = v;
      return true;
    }
  }
}

static void map_put_slot(pd__strmap *m, pd__slot slot) {
  for (size_t i = pd__strmap_index(m, slot.hash);; i = (i + 1) & (m->cap - 1))
    if (!m->slots[i].value1) {
      m->slots[i] = slot;
      return;
    }
}

/* Inserts a value whose key s[0..len) is known to be absent; `where`
 * locates the key in its arena. */
static pd_status map_insert(pd__strmap *m, uint32_t h, uint32_t value, uint64_t where, const char *s, size_t len) {
  if ((m->n + 1) * 4 > m->cap * 3) { /* keep load <= 3/4 */
    size_t cap = m->cap ? m->cap * 2 : 1024;
    pd__slot *slots = pd__alloc_zeroed_huge(cap * sizeof *slots);
    if (!slots) return pd__error(PD_ERR_NOMEM, "out of memory");
    pd__slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].value1) map_put_slot(m, old[i]);
    free(old);
  }
  map_put_slot(m, (pd__slot){h, value + 1, h & 15 ? pack_short(s, len) : where});
  m->n++;
  return PD_OK;
}

/* Removes entries whose value satisfies `gone` (rollback), in place and
 * without allocating: clear them, then re-seat every survivor; two passes
 * re-seat clusters that wrap around the end of the table. */
static void map_remove_if(const pd__dict *d, pd__strmap *m, bool (*gone)(const pd__dict *, uint32_t)) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].value1 && gone(d, m->slots[i].value1 - 1)) {
      m->slots[i].value1 = 0;
      m->n--;
    }
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].value1) {
        pd__slot slot = m->slots[i];
        m->slots[i].value1 = 0;
        map_put_slot(m, slot);
      }
}

/* ---- dictionary ------------------------------------------------------ */

pd_status pd__dict_init(pd__dict *d) {
  memset(d, 0, sizeof *d);
  for (uint32_t t = 0; t < PD_EVENT_BUILTIN_COUNT; t++) {
    const char *name = pd_event_type_builtin_name(t);
    uint32_t id;
    pd_status st = pd__dict_add_type(d, name, strlen(name), &id);
    if (st != PD_OK) return st;
  }
  return PD_OK;
}

void pd__dict_free(pd__dict *d) {
  names_free(&d->user_names);
  names_free(&d->aliases);
  free(d->alias_user);
  free(d->canon);
  free(d->merge_undo);
  free(d->user_map.slots);
  free(d->user_map_error);
  names_free(&d->tp_names);
  free(d->tps);
  free(d->tp_map.slots);
  free(d->tp_undo);
  names_free(&d->type_names);
  free(d->type_map.slots);
  for (size_t t = 0; t < d->tag_names.n; t++) free(d->tag_bits[t]);
  free(d->tag_bits);
  names_free(&d->tag_names);
  free(d->tag_map.slots);
  free(d->tag_undo);
  memset(d, 0, sizeof *d);
}

uint32_t pd__dict_canonical(const pd__dict *d, uint32_t u) {
  if (d->n_merges == 0 || u >= d->user_names.n) return u; /* no merges: no canon[] read */
  for (size_t guard = 0; d->canon[u] != u && guard <= d->n_merges; guard++) u = d->canon[u];
  return u;
}

/* Room for n entries at load <= 3/4 in one allocation (the map must be empty). */
static pd_status map_reserve(pd__strmap *m, size_t n) {
  size_t cap = 1024;
  while (n * 4 > cap * 3) cap *= 2;
  if (m->cap >= cap) return PD_OK;
  pd__slot *slots = pd__alloc_zeroed_huge(cap * sizeof *slots);
  if (!slots) return pd__error(PD_ERR_NOMEM, "out of memory");
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return PD_OK;
}

/* Loading a dictionary appends names only; the map is built on the first
 * lookup, so readers that never look up a user by name never hash them
 * all. A name found twice then is corruption (writers never log one). */
static pd_status fill_user_map(pd__dict *d) {
  pd_status st = map_reserve(&d->user_map, d->user_names.n + d->aliases.n);
  for (size_t i = 0; st == PD_OK && i < d->user_names.n + d->aliases.n; i++) {
    bool alias = i >= d->user_names.n;
    const pd__names *names = alias ? &d->aliases : &d->user_names;
    uint32_t k = (uint32_t)(alias ? i - d->user_names.n : i), v;
    const char *name = pd__names_get(names, k);
    size_t len = names->len_of[k];
    uint32_t h = hash_str(name, len);
    if (map_find(d, &d->user_map, user_arena, name, len, h, &v))
      st = pd__error(PD_ERR_CORRUPT, "user dictionary: \"%.*s\" is defined twice", (int)len, name);
    else
      st = map_insert(&d->user_map, h, alias ? k | ALIAS_BIT : k, where_of(names, k), name, len);
  }
  if (st != PD_OK && d->user_map.slots) { /* empty again */
    memset(d->user_map.slots, 0, d->user_map.cap * sizeof *d->user_map.slots);
    d->user_map.n = 0;
  }
  return st;
}

/* Lookups on a shared read-only store may come from several threads: one
 * builds, the others wait for it. One lock for every dictionary (a
 * per-dictionary one would not survive the struct copies of a reload):
 * builds happen once per handle and take well under a second. */
static pthread_mutex_t user_map_lock = PTHREAD_MUTEX_INITIALIZER;

static pd_status build_user_map(pd__dict *d) {
  if (atomic_load_explicit(&d->user_map_built, memory_order_acquire)) return PD_OK;
  pthread_mutex_lock(&user_map_lock);
  pd_status st = PD_OK;
  if (d->user_map_error) {
    st = pd__error(PD_ERR_CORRUPT, "%s", d->user_map_error);
  } else if (!atomic_load_explicit(&d->user_map_built, memory_order_relaxed)) {
    st = fill_user_map(d);
    if (st == PD_OK) atomic_store_explicit(&d->user_map_built, true, memory_order_release);
    else if (st == PD_ERR_CORRUPT) d->user_map_error = strdup(pd_last_error()); /* NULL: found again next time */
  }
  pthread_mutex_unlock(&user_map_lock);
  return st;
}

pd_status pd__dict_user_map(pd__dict *d) { return build_user_map(d); }

pd_status pd__dict_find_user(pd__dict *d, const char *name, size_t len, uint32_t *out) {
  return pd__dict_find_user_h(d, name, len, hash_str(name, len), out);
}

pd_status pd__dict_find_user_h(pd__dict *d, const char *name, size_t len, uint32_t h, uint32_t *out) {
  pd_status st = build_user_map(d);
  if (st != PD_OK) return st;
  uint32_t v;
  if (!map_find(d, &d->user_map, user_arena, name, len, h, &v)) return PD_ERR_NOT_FOUND;
  *out = pd__dict_canonical(d, v & ALIAS_BIT ? d->alias_user[v & ~ALIAS_BIT] : v);
  return PD_OK;
}

pd_status pd__dict_find_tp(const pd__dict *d, const char *name, size_t len, uint32_t *out) {
  return map_find(d, &d->tp_map, tp_arena, name, len, hash_str(name, len), out) ? PD_OK : PD_ERR_NOT_FOUND;
}

pd_status pd__dict_find_type(const pd__dict *d, const char *name, size_t len, uint32_t *out) {
  return map_find(d, &d->type_map, type_arena, name, len, hash_str(name, len), out) ? PD_OK : PD_ERR_NOT_FOUND;
}

static pd_status check_name(const char *what, const char *name, size_t len) {
  if (len == 0) return pd__error(PD_ERR_INVALID, "empty %s name", what);
  if (memchr(name, '\0', len)) return pd__error(PD_ERR_INVALID, "%s name contains a NUL byte", what);
  if (len > PD_NAME_MAX) return pd__error(PD_ERR_RANGE, "%s name longer than %d bytes", what, PD_NAME_MAX);
  return PD_OK;
}

/* Keeps every tag bitmap as wide as the user capacity. */
static pd_status grow_tag_bits(pd__dict *d) {
  size_t words = (d->cap_users + 63) / 64;
  if (words <= d->tag_words) return PD_OK;
  for (size_t t = 0; t < d->tag_names.n; t++) {
    uint64_t *b = realloc(d->tag_bits[t], words * sizeof *b);
    if (!b) return pd__error(PD_ERR_NOMEM, "out of memory");
    memset(b + d->tag_words, 0, (words - d->tag_words) * sizeof *b);
    d->tag_bits[t] = b;
  }
  d->tag_words = words;
  return PD_OK;
}

pd_status pd__dict_add_user(pd__dict *d, const char *name, size_t len, uint32_t *out) {
  pd_status st = check_name("user", name, len);
  if (st != PD_OK) return st;
  if ((st = build_user_map(d)) != PD_OK) return st;
  uint32_t h = hash_str(name, len), v;
  if (map_find(d, &d->user_map, user_arena, name, len, h, &v))
    return pd__error(PD_ERR_EXISTS, "user \"%.*s\" already exists", (int)len, name);
  return pd__dict_add_new_user(d, name, len, h, out);
}

/* The next user id for name, in the names only (not the map). */
static pd_status append_user(pd__dict *d, const char *name, size_t len, uint32_t *out) {
  pd_status st = check_name("user", name, len);
  if (st != PD_OK) return st;
  if (d->user_names.n >= ALIAS_BIT - 1) return pd__error(PD_ERR_RANGE, "too many users");
  uint32_t id = (uint32_t)d->user_names.n;
  if (!grow((void **)&d->canon, &d->cap_users, id + 1, sizeof *d->canon)) return pd__error(PD_ERR_NOMEM, "out of memory");
  if ((st = grow_tag_bits(d)) != PD_OK) return st;
  if ((st = names_add(&d->user_names, name, len)) != PD_OK) return st;
  d->canon[id] = id;
  *out = id;
  return PD_OK;
}

pd_status pd__dict_add_new_user(pd__dict *d, const char *name, size_t len, uint32_t h, uint32_t *out) {
  pd_status st = build_user_map(d);
  uint32_t id;
  if (st == PD_OK) st = append_user(d, name, len, &id);
  if (st != PD_OK) return st;
  if ((st = map_insert(&d->user_map, h, id, where_of(&d->user_names, id), name, len)) != PD_OK) {
    names_truncate(&d->user_names, id);
    return st;
  }
  *out = id;
  return PD_OK;
}

/* Another name of user, in the names only (not the map). */
static pd_status append_alias(pd__dict *d, uint32_t user, const char *name, size_t len, uint32_t *out) {
  pd_status st = check_name("alias", name, len);
  if (st != PD_OK) return st;
  if (user >= d->user_names.n) return pd__error(PD_ERR_NOT_FOUND, "alias \"%.*s\": no user %u", (int)len, name, user);
  uint32_t a = (uint32_t)d->aliases.n;
  if (!grow((void **)&d->alias_user, &d->cap_aliases, a + 1, sizeof *d->alias_user)) return pd__error(PD_ERR_NOMEM, "out of memory");
  if ((st = names_add(&d->aliases, name, len)) != PD_OK) return st;
  d->alias_user[a] = user;
  *out = a;
  return PD_OK;
}

pd_status pd__dict_add_alias(pd__dict *d, uint32_t user, const char *name, size_t len) {
  pd_status st = check_name("alias", name, len);
  if (st != PD_OK) return st;
  if (user >= d->user_names.n) return pd__error(PD_ERR_NOT_FOUND, "alias \"%.*s\": no user %u", (int)len, name, user);
  if ((st = build_user_map(d)) != PD_OK) return st;
  uint32_t h = hash_str(name, len), v, a;
  if (map_find(d, &d->user_map, user_arena, name, len, h, &v)) {
    uint32_t owner = pd__dict_canonical(d, v & ALIAS_BIT ? d->alias_user[v & ~ALIAS_BIT] : v);
    if (owner == pd__dict_canonical(d, user)) return PD_OK; /* already names this user */
    return pd__error(PD_ERR_EXISTS, "\"%.*s\" already names user %u (merge the users instead)", (int)len, name, owner);
  }
  if ((st = append_alias(d, user, name, len, &a)) != PD_OK) return st;
  if ((st = map_insert(&d->user_map, h, a | ALIAS_BIT, where_of(&d->aliases, a), name, len)) != PD_OK) {
    names_truncate(&d->aliases, a);
    return st;
  }
  return PD_OK;
}

pd_status pd__dict_merge(pd__dict *d, uint32_t keep, uint32_t merged) {
  if (keep >= d->user_names.n || merged >= d->user_names.n)
    return pd__error(PD_ERR_NOT_FOUND, "merge: no user %u", keep >= d->user_names.n ? keep : merged);
  keep = pd__dict_canonical(d, keep);
  merged = pd__dict_canonical(d, merged);
  if (keep == merged) return PD_OK;
  if (!grow((void **)&d->merge_undo, &d->cap_merges, 2 * (d->n_merges + 1), sizeof *d->merge_undo))
    return pd__error(PD_ERR_NOMEM, "out of memory");
  d->merge_undo[2 * d->n_merges] = merged;
  d->merge_undo[2 * d->n_merges + 1] = d->canon[merged];
  d->n_merges++;
  d->canon[merged] = keep;
  return PD_OK;
}

pd_status pd__dict_set_tp(pd__dict *d, const char *name, size_t len, const pd__touchpoint *tp, uint32_t *out) {
  pd_status st = check_name("touchpoint", name, len);
  if (st != PD_OK) return st;
  uint32_t h = hash_str(name, len), id;
  if (map_find(d, &d->tp_map, tp_arena, name, len, h, &id)) {
    if (memcmp(&d->tps[id], tp, sizeof *tp) != 0) {
      if (!grow((void **)&d->tp_undo, &d->cap_tp_undo, d->n_tp_undo + 1, sizeof *d->tp_undo))
        return pd__error(PD_ERR_NOMEM, "out of memory");
      d->tp_undo[d->n_tp_undo].id = id;
      d->tp_undo[d->n_tp_undo].old = d->tps[id];
      d->n_tp_undo++;
      d->tps[id] = *tp;
    }
    *out = id;
    return PD_OK;
  }
  id = (uint32_t)d->tp_names.n;
  if (id == PD_NONE - 1) return pd__error(PD_ERR_RANGE, "too many touchpoints");
  if (!grow((void **)&d->tps, &d->cap_tps, id + 1, sizeof *d->tps)) return pd__error(PD_ERR_NOMEM, "out of memory");
  if ((st = names_add(&d->tp_names, name, len)) != PD_OK) return st;
  memset(&d->tps[id], 0, sizeof d->tps[id]); /* padding too: attributes are compared with memcmp */
  d->tps[id].domain = tp->domain;
  d->tps[id].carrier = tp->carrier;
  d->tps[id].daily_spend = tp->daily_spend;
  if ((st = map_insert(&d->tp_map, h, id, where_of(&d->tp_names, id), name, len)) != PD_OK) {
    names_truncate(&d->tp_names, id);
    return st;
  }
  *out = id;
  return PD_OK;
}

pd_status pd__dict_add_type(pd__dict *d, const char *name, size_t len, uint32_t *out) {
  pd_status st = check_name("event type", name, len);
  if (st != PD_OK) return st;
  uint32_t h = hash_str(name, len), id;
  if (map_find(d, &d->type_map, type_arena, name, len, h, &id)) {
    *out = id;
    return PD_OK;
  }
  id = (uint32_t)d->type_names.n;
  if (id > UINT16_MAX) return pd__error(PD_ERR_RANGE, "too many event types (at most 65536)");
  if ((st = names_add(&d->type_names, name, len)) != PD_OK) return st;
  if ((st = map_insert(&d->type_map, h, id, where_of(&d->type_names, id), name, len)) != PD_OK) {
    names_truncate(&d->type_names, id);
    return st;
  }
  *out = id;
  return PD_OK;
}

pd_status pd__dict_find_tag(const pd__dict *d, const char *name, size_t len, uint32_t *out) {
  return map_find(d, &d->tag_map, tag_arena, name, len, hash_str(name, len), out) ? PD_OK : PD_ERR_NOT_FOUND;
}

pd_status pd__dict_add_tag(pd__dict *d, const char *name, size_t len, uint32_t *out) {
  pd_status st = check_name("tag", name, len);
  if (st != PD_OK) return st;
  uint32_t h = hash_str(name, len), id;
  if (map_find(d, &d->tag_map, tag_arena, name, len, h, &id)) {
    *out = id;
    return PD_OK;
  }
  id = (uint32_t)d->tag_names.n;
  if (id >= (1u << 30)) return pd__error(PD_ERR_RANGE, "too many tags");
  if (!grow((void **)&d->tag_bits, &d->cap_tags, id + 1, sizeof *d->tag_bits)) return pd__error(PD_ERR_NOMEM, "out of memory");
  if (d->tag_words < (d->cap_users + 63) / 64) d->tag_words = (d->cap_users + 63) / 64;
  uint64_t *bits = calloc(d->tag_words ? d->tag_words : 1, sizeof *bits);
  if (!bits) return pd__error(PD_ERR_NOMEM, "out of memory");
  if ((st = names_add(&d->tag_names, name, len)) != PD_OK) {
    free(bits);
    return st;
  }
  d->tag_bits[id] = bits;
  if ((st = map_insert(&d->tag_map, h, id, where_of(&d->tag_names, id), name, len)) != PD_OK) {
    names_truncate(&d->tag_names, id);
    free(bits);
    return st;
  }
  *out = id;
  return PD_OK;
}

pd_status pd__dict_set_tag(pd__dict *d, uint32_t user, uint32_t tag, bool on, bool *changed) {
  if (user >= d->user_names.n) return pd__error(PD_ERR_NOT_FOUND, "tag: no user %u", user);
  if (tag >= d->tag_names.n) return pd__error(PD_ERR_NOT_FOUND, "no tag %u", tag);
  bool old = pd__dict_has_tag(d, user, tag);
  *changed = old != on;
  if (!*changed) return PD_OK;
  if (!grow((void **)&d->tag_undo, &d->cap_tag_undo, d->n_tag_undo + 1, sizeof *d->tag_undo))
    return pd__error(PD_ERR_NOMEM, "out of memory");
  d->tag_undo[d->n_tag_undo++] = ((uint64_t)user << 33) | ((uint64_t)tag << 1) | old;
  d->tag_bits[tag][user >> 6] ^= UINT64_C(1) << (user & 63);
  return PD_OK;
}

pd__dict_mark pd__dict_mark_now(const pd__dict *d) {
  pd__dict_mark m = {d->user_names.n, d->aliases.n, d->tp_names.n, d->type_names.n, d->n_merges, d->n_tp_undo,
                     d->tag_names.n, d->n_tag_undo};
  return m;
}

static _Thread_local const pd__dict_mark *rollback_mark; /* for the `gone` predicates below */
static bool user_gone(const pd__dict *d, uint32_t v) {
  (void)d;
  return v & ALIAS_BIT ? (v & ~ALIAS_BIT) >= rollback_mark->aliases : v >= rollback_mark->users;
}
static bool tp_gone(const pd__dict *d, uint32_t v) { (void)d; return v >= rollback_mark->tps; }
static bool type_gone(const pd__dict *d, uint32_t v) { (void)d; return v >= rollback_mark->types; }
static bool tag_gone(const pd__dict *d, uint32_t v) { (void)d; return v >= rollback_mark->tags; }

void pd__dict_rollback(pd__dict *d, const pd__dict_mark *mark) {
  while (d->n_merges > mark->merges) {
    d->n_merges--;
    d->canon[d->merge_undo[2 * d->n_merges]] = d->merge_undo[2 * d->n_merges + 1];
  }
  while (d->n_tag_undo > mark->tag_changes) {
    uint64_t u = d->tag_undo[--d->n_tag_undo];
    uint32_t user = (uint32_t)(u >> 33), tag = (uint32_t)(u >> 1) & 0xFFFFFFFFu;
    uint64_t bit = UINT64_C(1) << (user & 63);
    d->tag_bits[tag][user >> 6] = (d->tag_bits[tag][user >> 6] & ~bit) | ((u & 1) ? bit : 0);
  }
  if (d->tag_names.n > mark->tags) {
    for (size_t t = mark->tags; t < d->tag_names.n; t++) free(d->tag_bits[t]);
    names_truncate(&d->tag_names, mark->tags);
    rollback_mark = mark;
    map_remove_if(d, &d->tag_map, tag_gone);
  }
  while (d->n_tp_undo > mark->tp_updates) {
    d->n_tp_undo--;
    d->tps[d->tp_undo[d->n_tp_undo].id] = d->tp_undo[d->n_tp_undo].old;
  }
  rollback_mark = mark;
  if (d->user_names.n > mark->users || d->aliases.n > mark->aliases) {
    names_truncate(&d->user_names, mark->users);
    names_truncate(&d->aliases, mark->aliases);
    map_remove_if(d, &d->user_map, user_gone);
  }
  if (d->tp_names.n > mark->tps) {
    names_truncate(&d->tp_names, mark->tps);
    map_remove_if(d, &d->tp_map, tp_gone);
  }
  if (d->type_names.n > mark->types) {
    names_truncate(&d->type_names, mark->types);
    map_remove_if(d, &d->type_map, type_gone);
  }
}

/* ---- records ---------------------------------------------------------- */

pd_status pd__rec_user(pd__buf *b, uint8_t tag, uint32_t id, const char *name, size_t len) {
  pd_status st = pd__buf_reserve(b, 7 + len);
  if (st != PD_OK) return st;
  unsigned char *p = b->p + b->len;
  pd__put_u8(p, tag);
  pd__put_u32(p + 1, id);
  pd__put_u16(p + 5, (uint16_t)len);
  memcpy(p + 7, name, len);
  b->len += 7 + len;
  return PD_OK;
}

pd_status pd__rec_merge(pd__buf *b, uint32_t keep, uint32_t merged) {
  pd_status st = pd__buf_reserve(b, 9);
  if (st != PD_OK) return st;
  unsigned char *p = b->p + b->len;
  pd__put_u8(p, PD_REC_MERGE);
  pd__put_u32(p + 1, keep);
  pd__put_u32(p + 5, merged);
  b->len += 9;
  return PD_OK;
}

pd_status pd__rec_user_tag(pd__buf *b, uint32_t user, uint32_t tag, bool on) {
  pd_status st = pd__buf_reserve(b, 10);
  if (st != PD_OK) return st;
  unsigned char *p = b->p + b->len;
  pd__put_u8(p, PD_REC_USER_TAG);
  pd__put_u32(p + 1, user);
  pd__put_u32(p + 5, tag);
  pd__put_u8(p + 9, on);
  b->len += 10;
  return PD_OK;
}

pd_status pd__rec_touchpoint(pd__buf *b, uint32_t id, const pd__touchpoint *tp, const char *name, size_t len) {
  pd_status st = pd__buf_reserve(b, 17 + len);
  if (st != PD_OK) return st;
  unsigned char *p = b->p + b->len;
  pd__put_u8(p, PD_REC_TOUCHPOINT);
  pd__put_u32(p + 1, id);
  pd__put_u8(p + 5, tp->domain);
  pd__put_u8(p + 6, tp->carrier);
  pd__put_u64(p + 7, (uint64_t)tp->daily_spend);
  pd__put_u16(p + 15, (uint16_t)len);
  memcpy(p + 17, name, len);
  b->len += 17 + len;
  return PD_OK;
}

/* Event: i64 time, u32 user, u16 type, u16 zero, u32 touchpoint, u32 referrer, i64 amount. */
void pd__event_encode(unsigned char *p, const pd_event *e) {
  pd__put_u64(p, (uint64_t)e->time_ms);
  pd__put_u32(p + 8, e->user);
  pd__put_u16(p + 12, (uint16_t)e->type);
  pd__put_u16(p + 14, 0);
  pd__put_u32(p + 16, e->touchpoint);
  pd__put_u32(p + 20, e->referrer);
  pd__put_u64(p + 24, (uint64_t)e->amount);
}

void pd__event_decode(const unsigned char *p, pd_event *e) {
  e->time_ms = (int64_t)pd__get_u64(p);
  e->user = pd__get_u32(p + 8);
  e->type = pd__get_u16(p + 12);
  e->touchpoint = pd__get_u32(p + 16);
  e->referrer = pd__get_u32(p + 20);
  e->amount = (int64_t)pd__get_u64(p + 24);
}

#define NEED(n)                                                                                              \
  do {                                                                                                       \
    if (len - pos < (size_t)(n))                                                                             \
      return pd__error(PD_ERR_CORRUPT, "%s: record at offset %llu is truncated", where,                      \
                       (unsigned long long)(base_offset + start));                                           \
  } while (0)

pd_status pd__dict_apply(pd__dict *d, const unsigned char *p, size_t len, pd__events_fn fn, void *ctx,
                         const char *where, uint64_t base_offset) {
  size_t pos = 0;
  while (pos < len) {
    size_t start = pos;
    uint8_t tag = p[pos++];
    pd_status st = PD_OK;
    uint32_t id, got;
    size_t n;
    switch (tag) {
    case PD_REC_USER:
    case PD_REC_ALIAS:
    case PD_REC_TYPE:
    case PD_REC_TAG:
      NEED(6);
      id = pd__get_u32(p + pos);
      n = pd__get_u16(p + pos + 4);
      pos += 6;
      NEED(n);
      if (tag == PD_REC_USER) { /* names only until the map exists (build_user_map) */
        st = d->user_map_built ? pd__dict_add_user(d, (const char *)p + pos, n, &got)
                               : append_user(d, (const char *)p + pos, n, &got);
        if (st == PD_OK && got != id) st = PD_ERR_CORRUPT;
      } else if (tag == PD_REC_ALIAS) {
        st = d->user_map_built ? pd__dict_add_alias(d, id, (const char *)p + pos, n)
                               : append_alias(d, id, (const char *)p + pos, n, &got);
      } else if (tag == PD_REC_TYPE) {
        st = pd__dict_add_type(d, (const char *)p + pos, n, &got);
        if (st == PD_OK && got != id) st = PD_ERR_CORRUPT;
      } else {
        st = pd__dict_add_tag(d, (const char *)p + pos, n, &got);
        if (st == PD_OK && got != id) st = PD_ERR_CORRUPT;
      }
      pos += n;
      break;
    case PD_REC_MERGE:
      NEED(8);
      st = pd__dict_merge(d, pd__get_u32(p + pos), pd__get_u32(p + pos + 4));
      pos += 8;
      break;
    case PD_REC_TOUCHPOINT: {
      NEED(16);
      pd__touchpoint tp = {0};
      id = pd__get_u32(p + pos);
      tp.domain = p[pos + 4];
      tp.carrier = p[pos + 5];
      tp.daily_spend = (int64_t)pd__get_u64(p + pos + 6);
      n = pd__get_u16(p + pos + 14);
      pos += 16;
      NEED(n);
      st = pd__dict_set_tp(d, (const char *)p + pos, n, &tp, &got);
      if (st == PD_OK && got != id) st = PD_ERR_CORRUPT;
      pos += n;
      break;
    }
    case PD_REC_USER_TAG: {
      NEED(9);
      bool changed;
      st = pd__dict_set_tag(d, pd__get_u32(p + pos), pd__get_u32(p + pos + 4), p[pos + 8] != 0, &changed);
      pos += 9;
      break;
    }
    case PD_REC_TAG_BITS: {
      NEED(8);
      uint32_t t = pd__get_u32(p + pos), words = pd__get_u32(p + pos + 4);
      pos += 8;
      NEED((uint64_t)words * 8);
      if (t >= d->tag_names.n || words > (d->user_names.n + 63) / 64) {
        st = PD_ERR_CORRUPT;
        break;
      }
      for (uint32_t k = 0; k < words; k++) d->tag_bits[t][k] = pd__get_u64(p + pos + 8 * (size_t)k);
      if (words && (d->user_names.n & 63)) /* no bits beyond the last user */
        d->tag_bits[t][(d->user_names.n - 1) >> 6] &= ~UINT64_C(0) >> (64 - (d->user_names.n & 63));
      pos += (size_t)words * 8;
      break;
    }
    case PD_REC_EVENTS:
      NEED(4);
      id = pd__get_u32(p + pos);
      pos += 4;
      NEED((uint64_t)id * PD_EVENT_RECORD_SIZE);
      if (!fn) st = PD_ERR_CORRUPT;
      else if ((st = fn(ctx, p + pos, id)) != PD_OK) return st;
      pos += (size_t)id * PD_EVENT_RECORD_SIZE;
      break;
    default:
      st = PD_ERR_CORRUPT;
    }
    if (st != PD_OK)
      return pd__error(PD_ERR_CORRUPT, "%s: invalid record (tag %u) at offset %llu: %s", where, tag,
                       (unsigned long long)(base_offset + start), st == PD_ERR_CORRUPT ? "inconsistent ids" : pd_last_error());
  }
  return PD_OK;
}

pd_status pd__dict_encode(const pd__dict *d, pd__buf *out) {
  pd_status st = PD_OK;
  for (uint32_t u = 0; st == PD_OK && u < d->user_names.n; u++)
    st = pd__rec_user(out, PD_REC_USER, u, pd__names_get(&d->user_names, u), d->user_names.len_of[u]);
  for (uint32_t a = 0; st == PD_OK && a < d->aliases.n; a++)
    st = pd__rec_user(out, PD_REC_ALIAS, d->alias_user[a], pd__names_get(&d->aliases, a), d->aliases.len_of[a]);
  for (uint32_t u = 0; st == PD_OK && u < d->user_names.n; u++)
    if (d->canon[u] != u) st = pd__rec_merge(out, pd__dict_canonical(d, u), u);
  for (uint32_t t = 0; st == PD_OK && t < d->tp_names.n; t++)
    st = pd__rec_touchpoint(out, t, &d->tps[t], pd__names_get(&d->tp_names, t), d->tp_names.len_of[t]);
  for (uint32_t t = PD_EVENT_BUILTIN_COUNT; st == PD_OK && t < d->type_names.n; t++)
    st = pd__rec_user(out, PD_REC_TYPE, t, pd__names_get(&d->type_names, t), d->type_names.len_of[t]);
  /* Tags as bitmaps over surviving users: a merged user's tags move to
   * the user it was merged into. */
  size_t words = (d->user_names.n + 63) / 64;
  for (uint32_t t = 0; st == PD_OK && t < d->tag_names.n; t++) {
    st = pd__rec_user(out, PD_REC_TAG, t, pd__names_get(&d->tag_names, t), d->tag_names.len_of[t]);
    if (st == PD_OK) st = pd__buf_reserve(out, 9 + words * 8);
    if (st != PD_OK) break;
    unsigned char *p = out->p + out->len;
    pd__put_u8(p, PD_REC_TAG_BITS);
    pd__put_u32(p + 1, t);
    pd__put_u32(p + 5, (uint32_t)words);
    memset(p + 9, 0, words * 8);
    for (uint32_t u = 0; u < d->user_names.n; u++)
      if (pd__dict_has_tag(d, u, t)) {
        uint32_t c = pd__dict_canonical(d, u);
        p[9 + 8 * (c >> 6) + ((c & 63) >> 3)] |= (unsigned char)(1u << (c & 7));
      }
    out->len += 9 + words * 8;
  }
  return st;
}
