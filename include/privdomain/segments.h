/* Segments: named, stored definitions of groups of users.
 *
 * A segment is a name and an expression over tags (tags.h) and per-user
 * metrics. Definitions are stored in the store (the file SEGMENTS, see
 * docs/FORMAT.md) and evaluated on demand into a pd_userset, which every
 * analysis accepts as a filter (pd_scan_options.users, or the `users`
 * member of the analysis's options). Evaluation reads the store as it is
 * at that moment: a segment is a definition, not a frozen list (freeze one
 * with pd_writer_tag_set()).
 *
 * Grammar (whitespace between tokens is free):
 *   expr       = and_expr { OR and_expr }
 *   and_expr   = unary { AND unary }
 *   unary      = NOT unary | primary
 *   primary    = "(" expr ")" | comparison | tag
 *   comparison = metric op value
 *   tag        = word | string
 *   op         = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
 *   value      = word | string
 *   OR         = "or" | "||"      AND = "and" | "&&"      NOT = "not" | "!"
 *   word       = one or more of: ASCII letters, digits, _ - . : / @ # and
 *                any byte >= 0x80 (UTF-8 text)
 *   string     = '"' { any character but '"' and '\', or \" or \\ } '"'
 * Keywords (and, or, not) and metric names are ASCII case-insensitive;
 * tag and touchpoint names are exact. A word that names a metric and is
 * followed by an operator starts a comparison; every other word is a tag
 * name (quote a tag named "and", "or" or "not", or one with other
 * characters: "spring sale"). NOT binds tighter than AND, AND tighter than
 * OR: `vip or new and not churned` is `vip or (new and (not churned))`.
 * Parentheses and NOTs nest at most 200 deep (deeper is PD_ERR_PARSE).
 *
 * Metrics, per (surviving) user over all of the user's events:
 *   revenue           integer: purchase amounts minus refund amounts, in
 *                     minor units (fen, cents): revenue >= 10000 is 100.00
 *   purchases         integer: number of purchase events
 *   events            integer: number of events of any type
 *   invites           integer: number of invite events
 *   last_event_days   integer: whole days (floor of 24-hour units) from the
 *                     user's last event to as_of (see pd_segment_options)
 *   first_event_days  integer: the same from the user's first event (age)
 *   acquired_via      touchpoint name: the touchpoint of the user's first
 *                     acquire event (= and != only)
 *   domain            public, private, semi or unknown: the domain of that
 *                     touchpoint (= and != only)
 * Integer values are decimal integers with an optional leading "-". A user
 * without events has revenue, purchases, events and invites 0 and no
 * last/first_event_days; a user without an acquire event with a
 * touchpoint has no acquired_via and no domain. A comparison with a
 * missing value is false, for != too (`not (domain = private)` holds them).
 * A name (the `tag` of the grammar) is a stored segment of that name,
 * evaluated in place (stored segments may name others, at most 16 deep:
 * deeper, or a cycle, is PD_ERR_INVALID), else the users carrying the tag
 * of that name. NOT is relative to all users of the store (merged-away
 * ids excluded).
 *
 * Errors. A bad expression is PD_ERR_PARSE with the message
 * "column C: expected ..., got ..." (C: 1-based character column, UTF-8
 * code points, of the offending token; "got end of expression" past the
 * end); pd_segment_define() prefixes it with the segment's name. At
 * evaluation a name that is neither a stored segment nor a tag, or an
 * unknown touchpoint, is PD_ERR_NOT_FOUND naming it with its column.
 */
#ifndef PRIVDOMAIN_SEGMENTS_H
#define PRIVDOMAIN_SEGMENTS_H

#include "privdomain/store.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest segment name in bytes; names are words of the grammar above. */
#define PD_SEGMENT_NAME_MAX 255

typedef struct pd_segment_options {
  size_t size;      /* sizeof(pd_segment_options) */
  int64_t as_of_ms; /* reference time of *_days metrics; INT64_MIN: the latest event in the store */
  unsigned threads; /* scan workers for metric predicates; 0 = one per core */
} pd_segment_options;
#define PD_SEGMENT_OPTIONS_INIT {sizeof(pd_segment_options), INT64_MIN, 0}

/* Checks an expression without a store (PD_ERR_PARSE as above). */
PD_API pd_status pd_segment_check(const char *expr);

/* Stores (or replaces) the definition of segment `name`. The expression is
 * checked first. Durable on return: the SEGMENTS file is replaced
 * atomically, independent of any writer batch. Takes the writer lock
 * (PD_ERR_LOCKED when another process holds it; a writer open on this
 * handle is used as is); PD_ERR_READONLY on a read-only handle;
 * PD_ERR_INVALID for a bad name. */
PD_API pd_status pd_segment_define(pd_store *store, const char *name, const char *expr);
/* Removes a definition (PD_ERR_NOT_FOUND when there is none). */
PD_API pd_status pd_segment_drop(pd_store *store, const char *name);
/* The definitions, by name: columns segment (string), expr (string).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_store_segments(pd_store *store, pd_table **out);
/* The expression of a segment. *expr owned by the caller, free with
 * pd_free(). PD_ERR_NOT_FOUND when undefined. */
PD_API pd_status pd_segment_get(pd_store *store, const char *name, char **expr);

/* The users of a segment: `name` is a stored segment, else a tag of that
 * name (so every tag is usable as a segment); PD_ERR_NOT_FOUND when it is
 * neither. opts may be NULL. *out owned by the caller, free with
 * pd_userset_free(). */
PD_API pd_status pd_segment_eval(pd_store *store, const char *name, const pd_segment_options *opts, pd_userset **out);
/* The users of an expression (not stored). */
PD_API pd_status pd_segment_eval_expr(pd_store *store, const char *expr, const pd_segment_options *opts,
                                      pd_userset **out);

/* Segment breakdown of any analysis: one group per segment.
 * For each name (as pd_segment_eval() resolves it) `run` is called with
 * the segment's users and returns a table; the tables must have the same
 * columns (names and types). The result has a first column `segment`
 * (string, the name) followed by those columns, the groups' rows in the
 * order of `names`. A user in several segments is counted in each of
 * them, so the groups' totals may add up to more than the whole.
 * `run` returns PD_OK and a table it hands over (freed here), or an error
 * that stops the breakdown and is returned. opts may be NULL.
 * *out owned by the caller, free with pd_table_free(). */
typedef pd_status (*pd_segment_run_fn)(void *ctx, const pd_userset *users, pd_table **out);
PD_API pd_status pd_segment_breakdown(pd_store *store, const char *const *names, size_t n_names,
                                      const pd_segment_options *opts, pd_segment_run_fn run, void *ctx,
                                      pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
