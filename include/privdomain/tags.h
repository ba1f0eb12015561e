/* Tags and user sets: named groups of users, stored with the store.
 *
 * A tag is a stored, named set of users ("vip", "wecom-group-3",
 * "rfm:champions"). Tags are set and cleared through the writer and become
 * visible at commit, like everything else. A pd_userset is an in-memory set
 * of users: built from a tag, from any computation of the caller's (a
 * metric predicate), combined with and/or/and-not, stored back as a tag,
 * and passed to pd_scan() (and so to every analysis) as a filter.
 * Users merged into another count as the surviving user.
 */
#ifndef PRIVDOMAIN_TAGS_H
#define PRIVDOMAIN_TAGS_H

#include "privdomain/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_userset pd_userset;

/* Tags `user` with `tag` (created on first use). */
PD_API pd_status pd_writer_tag(pd_writer *w, uint32_t user, const char *tag);
/* Removes `tag` from `user` (a no-op when not tagged). */
PD_API pd_status pd_writer_untag(pd_writer *w, uint32_t user, const char *tag);
/* Makes the stored tag exactly the members of `set`: a segment defined by
 * a metric predicate, materialised so later queries can use it. */
PD_API pd_status pd_writer_tag_set(pd_writer *w, const char *tag, const pd_userset *set);

PD_API uint32_t pd_store_n_tags(const pd_store *store);
/* Name of a tag (borrowed, valid until the store is closed), or NULL. */
PD_API const char *pd_store_tag_name(const pd_store *store, uint32_t tag);
PD_API pd_status pd_store_find_tag(const pd_store *store, const char *name, uint32_t *out);
/* 1 if the (surviving) user carries the tag, else 0. */
PD_API int pd_store_user_has_tag(const pd_store *store, uint32_t user, uint32_t tag);
/* Tags and their sizes: columns tag (string), users (int64).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_store_tags(pd_store *store, pd_table **out);

/* An empty set sized for the store's users. *out owned by the caller,
 * free with pd_userset_free(). */
PD_API pd_status pd_userset_new(pd_userset **out, const pd_store *store);
/* The users carrying a tag (PD_ERR_NOT_FOUND for an unknown tag). */
PD_API pd_status pd_userset_from_tag(pd_userset **out, const pd_store *store, const char *tag);
PD_API void pd_userset_free(pd_userset *set);
/* A copy of `set`. *out owned by the caller, free with pd_userset_free(). */
PD_API pd_status pd_userset_copy(pd_userset **out, const pd_userset *set);
/* Adds, removes, tests one user; out-of-range users are ignored / absent. */
PD_API void pd_userset_add(pd_userset *set, uint32_t user);
PD_API void pd_userset_remove(pd_userset *set, uint32_t user);
PD_API int pd_userset_contains(const pd_userset *set, uint32_t user);
PD_API uint64_t pd_userset_count(const pd_userset *set);
/* In place: a = a AND b, a = a OR b, a = a AND NOT b. */
PD_API void pd_userset_and(pd_userset *a, const pd_userset *b);
PD_API void pd_userset_or(pd_userset *a, const pd_userset *b);
PD_API void pd_userset_andnot(pd_userset *a, const pd_userset *b);

#ifdef __cplusplus
}
#endif
#endif
