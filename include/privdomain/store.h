/* pd_store: an event store in a directory on local disk.
 *
 * The store is an append-only write-ahead log plus immutable sealed
 * segments made by compaction (see docs/FORMAT.md). Any number of handles
 * may read; one pd_writer at a time may append (see writer.h). A reader
 * sees the committed snapshot of the moment it opened or last called
 * pd_store_refresh().
 */
#ifndef PRIVDOMAIN_STORE_H
#define PRIVDOMAIN_STORE_H

#include "privdomain/model.h"
#include "privdomain/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_store pd_store;

/* Durability of pd_writer_commit(), named by what a crash may lose.
 * FULL: nothing committed is lost (fsync at every commit).
 * BATCH: the last commits not yet synced may be lost (synced on close,
 *        compaction and every 64 MiB); never corruption, never a partial
 *        batch. */
typedef enum pd_durability {
  PD_DURABILITY_FULL = 0,
  PD_DURABILITY_BATCH = 1
} pd_durability;

typedef struct pd_store_options {
  size_t size;               /* sizeof(pd_store_options) */
  int create;                /* create the directory/store if missing */
  int read_only;             /* never write; pd_writer_open() fails */
  pd_durability durability;
} pd_store_options;
#define PD_STORE_OPTIONS_INIT {sizeof(pd_store_options), 0, 0, PD_DURABILITY_FULL}

/* Opens the store at `path`. opts may be NULL (read-write, no create).
 * Recovery runs here: a torn or uncommitted log tail is dropped and
 * reported by pd_store_recovered_bytes(). The sealed segment is verified
 * (every checksum, and that its events refer to known users, types and
 * touchpoints): PD_ERR_CORRUPT names the file and the bytes. *out is owned
 * by the caller, close with pd_store_close(). */
PD_API pd_status pd_store_open(pd_store **out, const char *path, const pd_store_options *opts);
/* Closes the store. Accepts NULL. A writer must be closed first. */
PD_API void pd_store_close(pd_store *store);

/* Re-reads what other processes committed since open. */
PD_API pd_status pd_store_refresh(pd_store *store);

/* Bytes of torn/uncommitted log tail dropped when this handle opened. */
PD_API uint64_t pd_store_recovered_bytes(const pd_store *store);

/* Counts in the current snapshot. */
PD_API uint32_t pd_store_n_users(const pd_store *store);
PD_API uint64_t pd_store_n_events(const pd_store *store);
PD_API uint32_t pd_store_n_touchpoints(const pd_store *store);
PD_API uint32_t pd_store_n_event_types(const pd_store *store);

/* Finds the user of an external id or alias. PD_ERR_NOT_FOUND if absent.
 * When users were merged, the surviving user id is returned. The first
 * lookup on a handle builds its name index (safe from several threads at
 * once; later lookups only read it) and reports PD_ERR_CORRUPT, on that and
 * every later lookup, if the store defines a name twice. */
PD_API pd_status pd_store_find_user(const pd_store *store, const char *external_id, uint32_t *out);
/* The primary external id of a user (borrowed, valid until close), or NULL. */
PD_API const char *pd_store_user_name(const pd_store *store, uint32_t user);
/* The user that `user` was merged into (itself when never merged). */
PD_API uint32_t pd_store_canonical_user(const pd_store *store, uint32_t user);

PD_API pd_status pd_store_find_touchpoint(const pd_store *store, const char *name, uint32_t *out);
/* Fills *out with a touchpoint's attributes; out->name is borrowed, valid
 * until close. out->size must be set by the caller. */
PD_API pd_status pd_store_touchpoint(const pd_store *store, uint32_t touchpoint, pd_touchpoint_def *out);

PD_API pd_status pd_store_find_event_type(const pd_store *store, const char *name, uint32_t *out);
/* Name of an event type (borrowed, valid until close), or NULL. */
PD_API const char *pd_store_event_type_name(const pd_store *store, uint32_t type);

/* What is in the store: one row per fact (users, events, events by type,
 * touchpoints, time range, segments, bytes on disk, ...), columns
 * key (string), value (int64), detail (string).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_store_info(pd_store *store, pd_table **out);

/* Touchpoints and their attributes as a table (id, name, domain, carrier,
 * daily_spend). *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_store_touchpoints(pd_store *store, pd_table **out);

/* Seals everything committed into one immutable segment sorted by
 * (user, time, insertion order) and starts a fresh log. Uncommitted
 * appends of an open writer on this handle are kept pending. Without an
 * open writer it takes the writer lock itself (PD_ERR_LOCKED when another
 * writer holds it). Readers that have the store open keep their snapshot.
 * In the rare case that the new segment is committed but this handle then
 * fails to load it (out of memory, I/O), the error says "(committed)" and
 * the handle refuses further writes and compactions (PD_ERR_INVALID) until
 * it is reopened (or, without a writer, refreshed). */
PD_API pd_status pd_store_compact(pd_store *store);

#ifdef __cplusplus
}
#endif
#endif
