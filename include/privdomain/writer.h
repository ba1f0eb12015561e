/* pd_writer: the one appender of a store.
 *
 * Everything appended (users, aliases, merges, touchpoints, event types,
 * events) becomes visible and durable together at pd_writer_commit(); a
 * pd_writer_rollback() or a crash before commit loses exactly the batch
 * in progress. Ids handed out in a rolled-back batch are invalid after it.
 */
#ifndef PRIVDOMAIN_WRITER_H
#define PRIVDOMAIN_WRITER_H

#include "privdomain/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_writer pd_writer;

/* Takes the store's writer lock. PD_ERR_LOCKED (message names the lock
 * file) when another writer holds it; PD_ERR_READONLY on a read-only
 * handle. *out owned by the caller, close with pd_writer_close(), before
 * pd_store_close(). */
PD_API pd_status pd_writer_open(pd_writer **out, pd_store *store);
/* Rolls back anything uncommitted, releases the lock. Accepts NULL. */
PD_API void pd_writer_close(pd_writer *w);

/* Interns an external user id: returns the existing user (also through
 * an alias) or creates one. */
PD_API pd_status pd_writer_user(pd_writer *w, const char *external_id, uint32_t *out);
/* Makes `external_id` another name of `user`. PD_ERR_EXISTS when it
 * already names a different user (use pd_writer_merge_users). */
PD_API pd_status pd_writer_alias(pd_writer *w, uint32_t user, const char *external_id);
/* Merges user `merged` into `keep`: from the commit on, every query sees
 * one user (keep) with both users' events, and both users' names find it. */
PD_API pd_status pd_writer_merge_users(pd_writer *w, uint32_t keep, uint32_t merged);

/* Defines a touchpoint or updates its attributes (by name). */
PD_API pd_status pd_writer_touchpoint(pd_writer *w, const pd_touchpoint_def *def, uint32_t *out);
/* Interns a touchpoint name; a new one gets unknown domain, carrier other. */
PD_API pd_status pd_writer_touchpoint_name(pd_writer *w, const char *name, uint32_t *out);
/* Interns an event type name; built-in names return their pinned ids. */
PD_API pd_status pd_writer_event_type(pd_writer *w, const char *name, uint32_t *out);

/* Appends one event. Its user, type, touchpoint and referrer must exist. */
PD_API pd_status pd_writer_append(pd_writer *w, const pd_event *event);

/* Makes the batch durable (per the store's durability) and visible. */
PD_API pd_status pd_writer_commit(pd_writer *w);
/* Discards everything since the last commit. */
PD_API pd_status pd_writer_rollback(pd_writer *w);

/* Events appended since the last commit. */
PD_API uint64_t pd_writer_pending(const pd_writer *w);

#ifdef __cplusplus
}
#endif
#endif
