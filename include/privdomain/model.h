/* The data model: users, touchpoints, event types, events.
 *
 * Users are dense 32-bit ids (0, 1, 2, ...) interned from external string
 * ids; several external ids can be aliases of one user. Touchpoints are
 * interned names with attributes. Event types 0..PD_EVENT_BUILTIN_COUNT-1
 * are built in with fixed ids; custom names get ids from
 * PD_EVENT_BUILTIN_COUNT upwards (at most 65535 types in a store).
 * Amounts are int64 minor currency units (fen, cents), never floats.
 */
#ifndef PRIVDOMAIN_MODEL_H
#define PRIVDOMAIN_MODEL_H

#include "privdomain/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Built-in event types. Pinned ids. */
typedef enum pd_event_type {
  PD_EV_ACQUIRE = 0,
  PD_EV_ACTIVATE = 1,
  PD_EV_VISIT = 2,
  PD_EV_MESSAGE_SEND = 3,
  PD_EV_MESSAGE_OPEN = 4,
  PD_EV_PURCHASE = 5,
  PD_EV_REFUND = 6,
  PD_EV_INVITE = 7,
  PD_EV_REFERRAL_SIGNUP = 8,
  PD_EV_MEMBER_JOIN = 9,
  PD_EV_STORED_VALUE = 10,
  PD_EV_CHURN = 11
} pd_event_type;
#define PD_EVENT_BUILTIN_COUNT 12

/* Where a touchpoint sits: a public platform, the business's own private
 * domain, or in between (e.g. a WeCom group run by a partner). */
typedef enum pd_domain {
  PD_DOMAIN_UNKNOWN = 0,
  PD_DOMAIN_PUBLIC = 1,
  PD_DOMAIN_PRIVATE = 2,
  PD_DOMAIN_SEMI = 3
} pd_domain;

/* What carries the contact. Pinned values. */
typedef enum pd_carrier {
  PD_CARRIER_OTHER = 0,
  PD_CARRIER_PERSONAL_ACCOUNT = 1,
  PD_CARRIER_GROUP = 2,
  PD_CARRIER_OFFICIAL_ACCOUNT = 3,
  PD_CARRIER_MINI_PROGRAM = 4,
  PD_CARRIER_WECOM = 5,
  PD_CARRIER_APP = 6,
  PD_CARRIER_STORE = 7,
  PD_CARRIER_LIVESTREAM = 8,
  PD_CARRIER_SEARCH_AD = 9,
  PD_CARRIER_FEED_AD = 10,
  PD_CARRIER_KOL = 11
} pd_carrier;
#define PD_CARRIER_COUNT 12

/* Touchpoint attributes. `size` must be sizeof(pd_touchpoint_def); use
 * PD_TOUCHPOINT_DEF_INIT. daily_spend is in minor units; -1 = unknown. */
typedef struct pd_touchpoint_def {
  size_t size;
  const char *name;
  pd_domain domain;
  pd_carrier carrier;
  int64_t daily_spend;
} pd_touchpoint_def;
#define PD_TOUCHPOINT_DEF_INIT {sizeof(pd_touchpoint_def), NULL, PD_DOMAIN_UNKNOWN, PD_CARRIER_OTHER, -1}

/* One event. touchpoint and referrer are PD_NONE when absent. */
typedef struct pd_event {
  int64_t time_ms;     /* milliseconds since 1970-01-01 UTC */
  uint32_t user;
  uint32_t type;       /* pd_event_type or a custom id */
  uint32_t touchpoint;
  uint32_t referrer;   /* a user id, or PD_NONE */
  int64_t amount;      /* minor currency units */
} pd_event;

/* Calendar periods for cohorts, trends and reports, computed in a time
 * zone given per query (IANA name such as "Asia/Shanghai"; NULL = UTC).
 * Weeks are ISO weeks starting Monday unless PD_PERIOD_WEEK_SUNDAY. */
typedef enum pd_period {
  PD_PERIOD_DAY = 0,
  PD_PERIOD_WEEK = 1,
  PD_PERIOD_WEEK_SUNDAY = 2,
  PD_PERIOD_MONTH = 3
} pd_period;

/* Name of a built-in event type ("purchase"), or NULL for other ids. Static. */
PD_API const char *pd_event_type_builtin_name(uint32_t type);
/* Parses "public"/"private"/"semi" (else PD_DOMAIN_UNKNOWN); static names back. */
PD_API pd_domain pd_domain_from_name(const char *name);
PD_API const char *pd_domain_name(pd_domain domain);
/* Parses "personal_account", "group", "official_account", "mini_program",
 * "wecom", "app", "store", "livestream", "search_ad", "feed_ad", "kol",
 * "other"; returns -1 for an unknown name. */
PD_API int pd_carrier_from_name(const char *name);
PD_API const char *pd_carrier_name(pd_carrier carrier);

/* Parses a decimal amount ("12.34", "-0.5", "7") into minor units with
 * `decimals` fractional digits (2 for fen/cents), exactly, never through a
 * double. More fractional digits than `decimals` is an error unless they
 * are zeros. Returns PD_ERR_PARSE / PD_ERR_RANGE with a message. */
PD_API pd_status pd_amount_parse(const char *text, size_t len, int decimals, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
