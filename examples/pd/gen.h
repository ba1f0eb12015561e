/* A deterministic synthetic private-domain business (pd gen). */
#ifndef PD_GEN_H
#define PD_GEN_H

#include <stdint.h>

#include <privdomain.h>

typedef struct pd_gen_options {
  uint64_t users;    /* total users, referred ones included */
  uint64_t seed;
  int64_t start_ms;  /* UTC, start of the business */
  int months;        /* length of the history */
} pd_gen_options;

/* The touchpoints of the business (fixed list). */
typedef struct pd_gen_touchpoint {
  const char *name;
  pd_domain domain;
  pd_carrier carrier;
  int64_t daily_spend; /* minor units */
} pd_gen_touchpoint;
extern const pd_gen_touchpoint pd_gen_touchpoints[];
extern const unsigned pd_gen_n_touchpoints;

/* One generated event. user/referrer are generator indexes (user names are
 * "u<index>"); referrer and touchpoint are PD_NONE when absent; has_amount
 * tells whether the amount column is filled. */
typedef struct pd_gen_event {
  int64_t time_ms;
  uint32_t user;
  uint32_t type;
  uint32_t touchpoint;
  uint32_t referrer;
  int64_t amount;
  int has_amount;
} pd_gen_event;

/* Receives events in non-decreasing time order; returns nonzero to stop. */
typedef int (*pd_gen_sink)(void *ctx, const pd_gen_event *ev);

typedef struct pd_gen_stats {
  uint64_t users, events, referred;
  uint64_t by_type[PD_EVENT_BUILTIN_COUNT];
} pd_gen_stats;

/* Runs the simulation. Returns 0, -1 when out of memory, or the sink's
 * nonzero value. stats may be NULL. */
int pd_gen_run(const pd_gen_options *opts, pd_gen_sink sink, void *ctx, pd_gen_stats *stats);

/* Writes "u<index>" into buf (>= 16 bytes); returns its length. */
int pd_gen_user_name(uint32_t index, char *buf);

#endif
