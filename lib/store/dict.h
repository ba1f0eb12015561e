/* Dictionaries of a store: users (names, aliases, merges), touchpoints,
 * event types; and the record encoding they share with the log.
 *
 * Every change to a dictionary is a record (see docs/FORMAT.md). The writer
 * appends records to the log; open replays them; compaction writes the
 * whole dictionary as records into the segment. One decoder serves all. */
#ifndef PD_DICT_H
#define PD_DICT_H

#include <stdatomic.h>
#include <string.h>

#include "pd_internal.h"

/* Record tags. Pinned: they are part of the on-disk format. */
enum {
  PD_REC_USER = 1,       /* u32 id, u16 len, name */
  PD_REC_ALIAS = 2,      /* u32 user, u16 len, name */
  PD_REC_MERGE = 3,      /* u32 keep, u32 merged */
  PD_REC_TOUCHPOINT = 4, /* u32 id, u8 domain, u8 carrier, i64 spend, u16 len, name */
  PD_REC_TYPE = 5,       /* u32 id, u16 len, name */
  PD_REC_EVENTS = 6,     /* u32 n, n x 32-byte events (log only) */
  PD_REC_TAG = 7,        /* u32 id, u16 len, name: a new tag */
  PD_REC_USER_TAG = 8,   /* u32 user, u32 tag, u8 on: tag or untag one user (log) */
  PD_REC_TAG_BITS = 9    /* u32 tag, u32 n_words, u64 words[n]: a tag's users (segment) */
};
#define PD_EVENT_RECORD_SIZE 32
#define PD_NAME_MAX 65535

/* A string -> u32 open-addressing hash. A slot keeps the key's hash (see
 * pd__dict_hash()), the value, and the key itself when it has at most 8
 * bytes (one cache miss a lookup), else its arena offset and length (a
 * second miss for the compare). */
typedef struct pd__slot {
  uint32_t hash;
  uint32_t value1; /* value + 1; 0 = empty */
  uint64_t where;  /* hash & 15 (length <= 8): the key, zero-padded; else (offset in the arena << 16) | length */
} pd__slot;

typedef struct pd__strmap {
  pd__slot *slots;
  size_t cap; /* power of two, or 0 */
  size_t n;
} pd__strmap;

/* The n <= 8 bytes at s as a little-endian integer, zero-extended (what
 * memcpy into a zeroed uint64_t gives), with at most two loads and no call:
 * the key of a short name. */
static inline uint64_t pd__load_upto8(const char *s, size_t n) {
  uint32_t a, b;
  uint16_t c, d;
  if (n >= 4) {
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4); /* overlaps a when n < 8: the same bytes */
    return (uint64_t)a | (uint64_t)b << (8 * (n - 4));
  }
  if (n >= 2) {
    memcpy(&c, s, 2);
    memcpy(&d, s + n - 2, 2);
    return (uint64_t)c | (uint64_t)d << (8 * (n - 2));
  }
  return n ? (unsigned char)s[0] : 0;
}

/* pd__load_upto8() where 8 bytes from s may be read: one load, masked. */
static inline uint64_t pd__load_upto8_padded(const char *s, size_t n) {
  uint64_t v;
  memcpy(&v, s, 8);
  return n >= 8 ? v : v & ((UINT64_C(1) << (8 * n)) - 1);
}

/* The hash of a name as the maps use it: low four bits = length if <= 8.
 * padded: 8 bytes past the name's last 8-byte word may be read. */
static inline uint32_t pd__dict_hash_with(const char *s, size_t len, bool padded) {
  uint64_t h = 0x9E3779B97F4A7C15u ^ len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t k;
    memcpy(&k, s + i, 8);
    h = (h ^ k) * 0xBF58476D1CE4E5B9u;
    h ^= h >> 29;
  }
  h = (h ^ (padded ? pd__load_upto8_padded(s + i, len - i) : pd__load_upto8(s + i, len - i))) * 0x94D049BB133111EBu;
  h ^= h >> 32;
  return ((uint32_t)h & ~UINT32_C(15)) | (len <= 8 ? (uint32_t)len : 0);
}

static inline uint32_t pd__dict_hash(const char *s, size_t len) { return pd__dict_hash_with(s, len, false); }
/* The first slot probed for hash h (m->cap > 0). */
static inline size_t pd__strmap_index(const pd__strmap *m, uint32_t h) {
  return (size_t)(((uint64_t)(uint32_t)(h * 0x9E3779B1u) * m->cap) >> 32);
}

/* A growable arena of NUL-terminated names addressed by offset. */
typedef struct pd__names {
  char *buf;
  size_t len, cap;
  uint64_t *off; /* name i starts at buf + off[i] */
  uint32_t *len_of;
  size_t n, cap_n;
} pd__names;

typedef struct pd__touchpoint {
  uint8_t domain, carrier;
  int64_t daily_spend;
} pd__touchpoint;

typedef struct pd__dict {
  /* users: names[i] for i < n_users are primary names; aliases follow
   * in `aliases` with their user in alias_user. */
  pd__names user_names;
  pd__names aliases;
  uint32_t *alias_user;
  uint32_t *canon; /* canon[u] == u unless merged (points toward the survivor) */
  size_t cap_users, cap_aliases;
  uint32_t *merge_undo; /* pairs (merged root, its previous canon) in merge order */
  size_t n_merges, cap_merges;
  /* Names and aliases -> user: value u for user_names[u], ALIAS_BIT | i for
   * aliases[i]. Built on first lookup: readers that never look up a name
   * never pay for hashing every user. */
  pd__strmap user_map;
  atomic_bool user_map_built; /* set once built; readers may build it concurrently (one does, under a lock) */
  char *user_map_error;       /* why building it failed (a duplicate name), reported on every lookup */

  pd__names tp_names;
  pd__touchpoint *tps;
  size_t cap_tps;
  pd__strmap tp_map;
  struct pd__tp_undo { uint32_t id; pd__touchpoint old; } *tp_undo; /* attribute updates, for rollback */
  size_t n_tp_undo, cap_tp_undo;

  pd__names type_names;
  pd__strmap type_map;

  /* Tags: named user sets, one bitmap of cap_users bits per tag. */
  pd__names tag_names;
  pd__strmap tag_map;
  uint64_t **tag_bits;
  size_t cap_tags, tag_words;
  uint64_t *tag_undo; /* (user << 33) | (tag << 1) | old bit, for rollback */
  size_t n_tag_undo, cap_tag_undo;
} pd__dict;

/* Sizes, to roll back a batch. */
typedef struct pd__dict_mark {
  size_t users, aliases, tps, types, merges, tp_updates, tags, tag_changes;
} pd__dict_mark;

pd_status pd__dict_init(pd__dict *d);
void pd__dict_free(pd__dict *d);

static inline uint32_t pd__dict_n_users(const pd__dict *d) { return (uint32_t)d->user_names.n; }
static inline uint32_t pd__dict_n_tps(const pd__dict *d) { return (uint32_t)d->tp_names.n; }
static inline uint32_t pd__dict_n_types(const pd__dict *d) { return (uint32_t)d->type_names.n; }
static inline const char *pd__names_get(const pd__names *n, size_t i) { return n->buf + n->off[i]; }

/* Builds the user name map now if it is not (see the lookups below). */
pd_status pd__dict_user_map(pd__dict *d);

/* The surviving user of u after merges (path-compressed chains are short). */
uint32_t pd__dict_canonical(const pd__dict *d, uint32_t u);

/* Lookups: PD_OK and *out, or PD_ERR_NOT_FOUND (no message set). The first
 * user lookup builds the name map: it may also fail with PD_ERR_NOMEM, or
 * PD_ERR_CORRUPT when a loaded name is defined twice (message set). */
pd_status pd__dict_find_user(pd__dict *d, const char *name, size_t len, uint32_t *out);
/* The same with h = pd__dict_hash(name, len) computed by the caller. */
pd_status pd__dict_find_user_h(pd__dict *d, const char *name, size_t len, uint32_t h, uint32_t *out);
/* Hints that a lookup of hash h follows soon (fetches its first slot). */
static inline void pd__dict_prefetch_user(const pd__dict *d, uint32_t h) {
  if (d->user_map.cap) __builtin_prefetch(&d->user_map.slots[pd__strmap_index(&d->user_map, h)]);
}
pd_status pd__dict_find_tp(const pd__dict *d, const char *name, size_t len, uint32_t *out);
pd_status pd__dict_find_type(const pd__dict *d, const char *name, size_t len, uint32_t *out);

/* Mutations (in memory). Each returns PD_OK or an error with message. */
pd_status pd__dict_add_user(pd__dict *d, const char *name, size_t len, uint32_t *out);
/* Adds a user the caller just failed to find (hash h as above). */
pd_status pd__dict_add_new_user(pd__dict *d, const char *name, size_t len, uint32_t h, uint32_t *out);
pd_status pd__dict_add_alias(pd__dict *d, uint32_t user, const char *name, size_t len);
pd_status pd__dict_merge(pd__dict *d, uint32_t keep, uint32_t merged);
pd_status pd__dict_set_tp(pd__dict *d, const char *name, size_t len, const pd__touchpoint *tp, uint32_t *out);
pd_status pd__dict_add_type(pd__dict *d, const char *name, size_t len, uint32_t *out);
pd_status pd__dict_find_tag(const pd__dict *d, const char *name, size_t len, uint32_t *out);
pd_status pd__dict_add_tag(pd__dict *d, const char *name, size_t len, uint32_t *out);
/* Sets or clears a user's tag; *changed tells whether the bit moved. */
pd_status pd__dict_set_tag(pd__dict *d, uint32_t user, uint32_t tag, bool on, bool *changed);
static inline bool pd__dict_has_tag(const pd__dict *d, uint32_t user, uint32_t tag) {
  return (d->tag_bits[tag][user >> 6] >> (user & 63)) & 1;
}
static inline uint32_t pd__dict_n_tags(const pd__dict *d) { return (uint32_t)d->tag_names.n; }

/* Undoes everything done after `mark` (a rolled-back batch). */
pd__dict_mark pd__dict_mark_now(const pd__dict *d);
void pd__dict_rollback(pd__dict *d, const pd__dict_mark *mark);

/* ---- record encoding ------------------------------------------------ */

/* A growable byte buffer. */
typedef struct pd__buf {
  unsigned char *p;
  size_t len, cap;
} pd__buf;
pd_status pd__buf_reserve(pd__buf *b, size_t extra);
void pd__buf_free(pd__buf *b);

void pd__put_u8(unsigned char *p, uint8_t v);
void pd__put_u16(unsigned char *p, uint16_t v);
void pd__put_u32(unsigned char *p, uint32_t v);
void pd__put_u64(unsigned char *p, uint64_t v);
uint16_t pd__get_u16(const unsigned char *p);
uint32_t pd__get_u32(const unsigned char *p);
uint64_t pd__get_u64(const unsigned char *p);

/* Appends one encoded record to b. */
pd_status pd__rec_user(pd__buf *b, uint8_t tag, uint32_t id, const char *name, size_t len); /* USER, ALIAS, TYPE */
pd_status pd__rec_merge(pd__buf *b, uint32_t keep, uint32_t merged);
pd_status pd__rec_user_tag(pd__buf *b, uint32_t user, uint32_t tag, bool on);
pd_status pd__rec_touchpoint(pd__buf *b, uint32_t id, const pd__touchpoint *tp, const char *name, size_t len);
void pd__event_encode(unsigned char *p, const pd_event *e);
void pd__event_decode(const unsigned char *p, pd_event *e);

/* Receives decoded events (a batch of n encoded 32-byte events). */
typedef pd_status (*pd__events_fn)(void *ctx, const unsigned char *events, uint32_t n);

/* Applies the records in p[0..len) to d; events go to fn (may be NULL
 * when events are not expected). `where` names the source in errors. */
pd_status pd__dict_apply(pd__dict *d, const unsigned char *p, size_t len, pd__events_fn fn, void *ctx,
                         const char *where, uint64_t base_offset);

/* Encodes the whole dictionary as records (for a sealed segment). */
pd_status pd__dict_encode(const pd__dict *d, pd__buf *out);

#endif
