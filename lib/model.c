/* Names of built-in event types, domains and carriers; exact amount parsing. */
#include <string.h>

#include "pd_internal.h"

static const char *const builtin_names[PD_EVENT_BUILTIN_COUNT] = {
    "acquire", "activate", "visit", "message_send", "message_open", "purchase",
    "refund", "invite", "referral_signup", "member_join", "stored_value", "churn"};

static const char *const carrier_names[PD_CARRIER_COUNT] = {
    "other", "personal_account", "group", "official_account", "mini_program", "wecom",
    "app", "store", "livestream", "search_ad", "feed_ad", "kol"};

static const char *const domain_names[] = {"unknown", "public", "private", "semi"};

const char *pd_event_type_builtin_name(uint32_t type) {
  return type < PD_EVENT_BUILTIN_COUNT ? builtin_names[type] : NULL;
}

pd_domain pd_domain_from_name(const char *name) {
  for (int i = 1; name && i < 4; i++)
    if (strcmp(name, domain_names[i]) == 0) return (pd_domain)i;
  return PD_DOMAIN_UNKNOWN;
}

const char *pd_domain_name(pd_domain domain) {
  return (unsigned)domain < 4 ? domain_names[domain] : "unknown";
}

int pd_carrier_from_name(const char *name) {
  for (int i = 0; name && i < PD_CARRIER_COUNT; i++)
    if (strcmp(name, carrier_names[i]) == 0) return i;
  return -1;
}

const char *pd_carrier_name(pd_carrier carrier) {
  return (unsigned)carrier < PD_CARRIER_COUNT ? carrier_names[carrier] : "other";
}

pd_status pd_amount_parse(const char *text, size_t len, int decimals, int64_t *out) {
  if (!text || !out || decimals < 0 || decimals > 9)
    return pd__error(PD_ERR_INVALID, "pd_amount_parse: bad argument");
  size_t i = 0;
  bool neg = false;
  if (i < len && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  uint64_t v = 0;
  const uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1 : 0);
  size_t int_digits = 0, frac_digits = 0;
  for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, int_digits++) {
    unsigned d = (unsigned)(text[i] - '0');
    if (v > (limit - d) / 10) goto range;
    v = v * 10 + d;
  }
  if (i < len && text[i] == '.') {
    for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
      unsigned d = (unsigned)(text[i] - '0');
      if ((int)frac_digits < decimals) {
        if (v > (limit - d) / 10) goto range;
        v = v * 10 + d;
      } else if (d != 0) {
        return pd__error(PD_ERR_PARSE, "expected an amount with at most %d decimals, got \"%.*s\"",
                         decimals, (int)len, text);
      }
      frac_digits++;
    }
  }
  if (i != len || int_digits + frac_digits == 0)
    return pd__error(PD_ERR_PARSE, "expected a decimal amount, got \"%.*s\"", (int)len, text);
  for (size_t k = frac_digits; (int)k < decimals; k++) {
    if (v > limit / 10) goto range;
    v *= 10;
  }
  *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
  return PD_OK;
range:
  return pd__error(PD_ERR_RANGE, "amount out of range: \"%.*s\"", (int)len, text);
}
