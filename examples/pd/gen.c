/* pd gen: a deterministic synthetic private-domain business.
 *
 * Users are planned first (acquisition time, touchpoint, referrer), then
 * simulated one at a time: each user is a small state machine of
 * independent processes (visits, purchases, messages...), each holding the
 * time of its next event. Events go into one bucket per day; each day is
 * then sorted by time (stable counting sort on the second) and handed to the
 * sink, so the output is time-ordered like a real event log. Memory: 16
 * bytes per event plus 20 per user.
 *
 * The model, per user:
 *  - acquisition through one of the touchpoints (referred users through the
 *    referral poster; their referrer invited them shortly before and both
 *    their acquire and referral_signup carry the referrer; depth 1-3);
 *  - activation with a touchpoint-dependent probability;
 *  - visits at a heterogeneous (gamma) rate that decays with age, much
 *    lower once the user has dropped out;
 *  - purchases as in BG/NBD: a gamma-distributed Poisson rate while alive,
 *    dropout with a beta-distributed probability after each purchase;
 *    amounts gamma-distributed around a gamma-distributed personal mean
 *    (Gamma-Gamma), in cents; occasional refunds;
 *  - message sends from the business to reachable users and opens that
 *    fade with age and after dropout; member joins and stored value;
 *    invites that do not convert from habitual sharers; churn (unfollow)
 *    some time after dropout.
 * All randomness comes from one xoshiro256** stream seeded by splitmix64,
 * consumed in a fixed order: same options, same events. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* ---- touchpoints ------------------------------------------------------- */

enum {
  TP_DOUYIN, TP_BAIDU, TP_CHANNELS_LIVE, TP_XHS_KOL, TP_STORE_SH, TP_STORE_BJ, TP_POPUP, TP_OFFICIAL,
  TP_WECOM, TP_GROUP, TP_MALL, TP_GUIDE, TP_REFERRAL, TP_APP, TP_COUNT
};

const pd_gen_touchpoint pd_gen_touchpoints[] = {
    {"Douyin Feed Ads", PD_DOMAIN_PUBLIC, PD_CARRIER_FEED_AD, 320000},
    {"Baidu SEM", PD_DOMAIN_PUBLIC, PD_CARRIER_SEARCH_AD, 150000},
    {"视频号直播", PD_DOMAIN_PUBLIC, PD_CARRIER_LIVESTREAM, 90000},
    {"Xiaohongshu KOL", PD_DOMAIN_PUBLIC, PD_CARRIER_KOL, 120000},
    {"门店·上海", PD_DOMAIN_SEMI, PD_CARRIER_STORE, 240000},
    {"门店·北京", PD_DOMAIN_SEMI, PD_CARRIER_STORE, 210000},
    {"Pop-up, Hangzhou", PD_DOMAIN_SEMI, PD_CARRIER_STORE, 60000},
    {"公众号", PD_DOMAIN_PRIVATE, PD_CARRIER_OFFICIAL_ACCOUNT, 15000},
    {"企业微信", PD_DOMAIN_PRIVATE, PD_CARRIER_WECOM, 30000},
    {"社群·会员群", PD_DOMAIN_PRIVATE, PD_CARRIER_GROUP, 8000},
    {"小程序商城", PD_DOMAIN_PRIVATE, PD_CARRIER_MINI_PROGRAM, 25000},
    {"导购个人号", PD_DOMAIN_PRIVATE, PD_CARRIER_PERSONAL_ACCOUNT, 20000},
    {"老带新·裂变海报", PD_DOMAIN_PRIVATE, PD_CARRIER_MINI_PROGRAM, 12000},
    {"Official App", PD_DOMAIN_PRIVATE, PD_CARRIER_APP, 0},
};
const unsigned pd_gen_n_touchpoints = TP_COUNT;

/* Organic acquisition mix (weights), activation probability per touchpoint. */
static const double acq_weight[TP_COUNT] = {22, 12, 12, 8, 9, 7, 3, 8, 7, 4, 5, 3, 0, 0};
static const double act_prob[TP_COUNT] = {0.40, 0.50, 0.55, 0.45, 0.80, 0.60, 0.65,
                                          0.65, 0.75, 0.70, 0.60, 0.75, 0.65, 0.70};
/* Where a user comes back (home) and how the business reaches them. */
static const unsigned home_tp[] = {TP_MALL, TP_WECOM, TP_STORE_SH, TP_STORE_BJ, TP_APP};
static const double home_weight[] = {40, 20, 12, 10, 18};
static const unsigned msg_tp[] = {TP_WECOM, TP_OFFICIAL, TP_GROUP, TP_GUIDE};
static const double msg_weight[] = {45, 25, 20, 10};

/* ---- random numbers ---------------------------------------------------- */

typedef struct rng {
  uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(rng *r) { /* xoshiro256** */
  uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in [0, 1). */
static inline double unif(rng *r) { return (double)(next_u64(r) >> 11) * 0x1.0p-53; }
static inline double expo(rng *r, double mean) { return -mean * log1p(-unif(r)); }
static inline int chance(rng *r, double p) { return unif(r) < p; }

static double normal(rng *r) { /* Marsaglia polar */
  double u, v, s;
  do {
    u = 2 * unif(r) - 1;
    v = 2 * unif(r) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  return u * sqrt(-2 * log(s) / s);
}

/* Gamma(shape, scale) by Marsaglia-Tsang; shape < 1 boosted. */
static double gamma_rand(rng *r, double shape, double scale) {
  if (shape < 1) return gamma_rand(r, shape + 1, scale) * pow(1 - unif(r), 1 / shape);
  double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
  for (;;) {
    double x = normal(r), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = unif(r);
    if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v))) return d * v * scale;
  }
}

static double beta_rand(rng *r, double a, double b) {
  double x = gamma_rand(r, a, 1), y = gamma_rand(r, b, 1);
  return x / (x + y);
}

static unsigned pick(rng *r, const double *w, unsigned n) {
  double total = 0;
  for (unsigned i = 0; i < n; i++) total += w[i];
  double x = unif(r) * total;
  for (unsigned i = 0; i < n; i++) {
    if (x < w[i]) return i;
    x -= w[i];
  }
  return n - 1;
}

/* ---- users ------------------------------------------------------------- */

enum {
  S_PREINV, /* the referrer's invite, just before this user's acquisition */
  S_ACQ, S_SIGNUP, S_ACT, S_VISIT, S_PURCH, S_REFUND, S_MSG, S_OPEN, S_MEMBER, S_SV, S_INVITE, S_CHURN, NSLOT
};
#define NEVER UINT32_MAX
#define DAY 86400.0
#define HOUR 3600.0

enum { F_ACTIVATED = 1, F_ALIVE = 2, F_REACHABLE = 4, F_MEMBER = 8, F_SV = 16 };

/* What the plan fixes for every user before the simulation. */
typedef struct planned {
  uint32_t acq, preinv, referrer; /* seconds since start; referrer index or PD_NONE */
  float share;                    /* propensity to invite */
  uint8_t depth, tp_acq;
} planned;

/* The simulation state of the user being simulated. */
typedef struct user {
  uint32_t next[NSLOT]; /* seconds since start of each process's next event */
  uint32_t k, acq, referrer;
  float v_rate, p_rate, p_drop, spend, share;
  int32_t refund;
  uint8_t tp_acq, tp_home, tp_msg, flags, early_visits;
} user;

/* A generated event waiting in its day's bucket (16 bytes). */
typedef struct rec {
  uint32_t t, user;
  int32_t amount;
  uint8_t type, tp, has_amount, pad;
} rec;

typedef struct bucket {
  rec *v;
  size_t n, cap;
} bucket;

typedef struct sim {
  rng r;
  planned *p;
  uint64_t n;
  uint32_t end;
  bucket *days;
  uint32_t n_days;
  int oom;
  pd_gen_stats *stats;
} sim;

/* now + gap seconds, or NEVER at/after the end of the history. */
static inline uint32_t after(const sim *s, uint32_t now, double gap) {
  if (gap < 0) gap = 0;
  double t = (double)now + gap;
  return t >= (double)s->end ? NEVER : (uint32_t)t;
}

static void emit(sim *s, uint32_t t, uint32_t user_idx, unsigned type, unsigned tp, int64_t amount, int has_amount) {
  bucket *b = &s->days[t / 86400];
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 1024;
    rec *v = realloc(b->v, cap * sizeof *v);
    if (!v) {
      s->oom = 1;
      return;
    }
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = (rec){t, user_idx, (int32_t)amount, (uint8_t)type, (uint8_t)tp, (uint8_t)has_amount, 0};
  s->stats->events++;
  s->stats->by_type[type]++;
}

static void plan(sim *s) {
  rng *r = &s->r;
  /* Acquisition times: sorted uniforms (normalised exponential spacings)
   * through the inverse CDF of a linearly growing intake (3x at the end). */
  const double g = 2.0, span = 0.85 * s->end;
  rng spacing = *r;
  double total = 0;
  for (uint64_t k = 0; k <= s->n; k++) total += expo(&spacing, 1);
  spacing = *r;
  rng_seed(r, next_u64(r) ^ UINT64_C(0x5EED));
  double cum = 0;
  const double per_day = (double)s->n / (span / DAY);
  uint64_t window = (uint64_t)(per_day * 21) + 50; /* referrers come from the last three weeks */
  for (uint64_t k = 0; k < s->n; k++) {
    planned *u = &s->p[k];
    cum += expo(&spacing, 1);
    double f = cum / total, y = (-1 + sqrt(1 + 2 * g * f * (1 + g / 2))) / g;
    u->acq = (uint32_t)(y * span);
    u->preinv = NEVER;
    u->referrer = PD_NONE;
    u->depth = 0;
    double kind = unif(r); /* most users rarely share; a few are super-sharers */
    u->share = kind < 0.70 ? 0.02f : kind < 0.95 ? 0.15f : 0.60f;
    if (k >= 50 && chance(r, 0.16)) {
      for (int tries = 0; tries < 16; tries++) {
        uint64_t lo = k > window ? k - window : 0;
        uint64_t j = lo + next_u64(r) % (k - lo);
        planned *ref = &s->p[j];
        if (ref->depth >= 3 || ref->acq + 2 * HOUR >= u->acq || !chance(r, ref->share)) continue;
        u->referrer = (uint32_t)j;
        u->depth = (uint8_t)(ref->depth + 1);
        double room = (double)(u->acq - ref->acq) - HOUR;
        double d = 60 + unif(r) * (room < 3 * DAY ? room : 3 * DAY);
        u->preinv = u->acq - (uint32_t)d;
        if (u->share < 0.15f && chance(r, 0.3)) u->share = 0.15f; /* the referred share more */
        s->stats->referred++;
        break;
      }
    }
    u->tp_acq = (uint8_t)(u->referrer != PD_NONE ? TP_REFERRAL : pick(r, acq_weight, TP_COUNT));
  }
}

static void dropout(sim *s, user *u, uint32_t t) {
  u->flags &= (uint8_t)~F_ALIVE;
  u->next[S_PURCH] = u->next[S_SV] = u->next[S_INVITE] = NEVER;
  if (u->next[S_CHURN] == NEVER && chance(&s->r, 0.3)) u->next[S_CHURN] = after(s, t, expo(&s->r, 40 * DAY));
}

static double visit_rate(const user *u, uint32_t t) { /* visits per second */
  double age = ((double)t - u->acq) / DAY;
  double per_day = (u->flags & F_ALIVE) ? u->v_rate * (0.25 + 0.75 * exp(-age / 45)) : u->v_rate * 0.05;
  return per_day / DAY + 1e-12;
}

/* Emits the event of slot `slot` of user u at time t and reschedules. */
static void step(sim *s, user *u, int slot, uint32_t t) {
  rng *r = &s->r;
  uint32_t k = u->k;
  u->next[slot] = NEVER;
  switch (slot) {
  case S_PREINV:
    emit(s, t, u->referrer, PD_EV_INVITE, TP_REFERRAL, 0, 0);
    return;
  case S_ACQ:
    u->tp_home = (uint8_t)home_tp[pick(r, home_weight, 5)];
    if (u->tp_acq == TP_STORE_SH || u->tp_acq == TP_STORE_BJ) u->tp_home = u->tp_acq;
    u->tp_msg = (uint8_t)msg_tp[pick(r, msg_weight, 4)];
    u->v_rate = (float)gamma_rand(r, 1.5, 1.0 / 1.5);
    u->p_rate = (float)gamma_rand(r, 0.9, 0.07 / 0.9);
    u->p_drop = (float)beta_rand(r, 1.2, 6.0);
    u->spend = (float)gamma_rand(r, 3.0, 120.0 / 3.0);
    u->flags = F_ALIVE;
    if (u->referrer != PD_NONE) u->next[S_SIGNUP] = after(s, t, 5 + unif(r) * 600);
    if (chance(r, act_prob[u->tp_acq])) {
      u->next[S_ACT] = after(s, t, 60 + expo(r, 0.8 * DAY));
    } else {
      u->early_visits = (uint8_t)(next_u64(r) % 3);
      if (u->early_visits) u->next[S_VISIT] = after(s, t, expo(r, DAY));
      if (chance(r, 0.15)) u->next[S_CHURN] = after(s, t, expo(r, 20 * DAY));
    }
    if (pd_gen_touchpoints[u->tp_acq].domain == PD_DOMAIN_PRIVATE) {
      u->flags |= F_REACHABLE;
      u->next[S_MSG] = after(s, t, expo(r, 2 * DAY));
    }
    emit(s, t, k, PD_EV_ACQUIRE, u->tp_acq, 0, 0);
    return;
  case S_SIGNUP:
    emit(s, t, k, PD_EV_REFERRAL_SIGNUP, TP_REFERRAL, 0, 0);
    return;
  case S_ACT:
    u->flags |= F_ACTIVATED;
    u->next[S_VISIT] = after(s, t, expo(r, 1 / visit_rate(u, t)));
    u->next[S_PURCH] = after(s, t, expo(r, DAY / u->p_rate));
    if (chance(r, 0.35)) u->next[S_MEMBER] = after(s, t, expo(r, 7 * DAY));
    if (u->share >= 0.1f) u->next[S_INVITE] = after(s, t, expo(r, DAY / (u->share * 0.08)));
    if (!(u->flags & F_REACHABLE)) {
      u->flags |= F_REACHABLE;
      u->next[S_MSG] = after(s, t, expo(r, 2 * DAY));
    }
    emit(s, t, k, PD_EV_ACTIVATE, u->tp_home, 0, 0);
    return;
  case S_VISIT:
    if (u->flags & F_ACTIVATED) u->next[S_VISIT] = after(s, t, expo(r, 1 / visit_rate(u, t)));
    else if (--u->early_visits) u->next[S_VISIT] = after(s, t, expo(r, 2 * DAY));
    emit(s, t, k, PD_EV_VISIT, chance(r, 0.1) ? TP_CHANNELS_LIVE : u->tp_home, 0, 0);
    return;
  case S_PURCH: {
    double yuan = gamma_rand(r, 5.0, u->spend / 5.0);
    int64_t cents = (int64_t)(yuan * 100 + 0.5);
    if (cents < 100) cents = 100 + (int64_t)(next_u64(r) % 900);
    if (cents > 10000000) cents = 10000000;
    unsigned tp = chance(r, 0.2) ? TP_CHANNELS_LIVE : u->tp_home;
    if (u->next[S_REFUND] == NEVER && chance(r, 0.04)) {
      u->refund = (int32_t)(chance(r, 0.7) ? cents : cents / 2);
      u->next[S_REFUND] = after(s, t, HOUR + expo(r, 4 * DAY));
    }
    if (chance(r, u->p_drop)) dropout(s, u, t);
    else u->next[S_PURCH] = after(s, t, expo(r, DAY / u->p_rate));
    emit(s, t, k, PD_EV_PURCHASE, tp, cents, 1);
    return;
  }
  case S_REFUND:
    emit(s, t, k, PD_EV_REFUND, u->tp_home, u->refund, 1);
    return;
  case S_MSG: {
    double age = ((double)t - u->acq) / DAY;
    double p_open = (u->flags & F_ALIVE) && (u->flags & F_ACTIVATED) ? 0.5 * (0.4 + 0.6 * exp(-age / 90)) : 0.08;
    if (u->next[S_OPEN] == NEVER && chance(r, p_open)) u->next[S_OPEN] = after(s, t, expo(r, 4 * HOUR));
    u->next[S_MSG] = after(s, t, 2 * DAY + expo(r, 5 * DAY));
    emit(s, t, k, PD_EV_MESSAGE_SEND, u->tp_msg, 0, 0);
    return;
  }
  case S_OPEN:
    emit(s, t, k, PD_EV_MESSAGE_OPEN, u->tp_msg, 0, 0);
    return;
  case S_MEMBER:
    u->flags |= F_MEMBER;
    if ((u->flags & F_ALIVE) && chance(r, 0.35)) {
      u->flags |= F_SV;
      u->next[S_SV] = after(s, t, expo(r, 10 * DAY));
    }
    emit(s, t, k, PD_EV_MEMBER_JOIN, u->tp_home, 0, 0);
    return;
  case S_SV: {
    static const int64_t topup[] = {10000, 20000, 30000, 50000, 100000};
    u->next[S_SV] = after(s, t, expo(r, 50 * DAY));
    emit(s, t, k, PD_EV_STORED_VALUE, u->tp_home, topup[next_u64(r) % 5], 1);
    return;
  }
  case S_INVITE:
    u->next[S_INVITE] = after(s, t, expo(r, DAY / (u->share * 0.08)));
    emit(s, t, k, PD_EV_INVITE, TP_REFERRAL, 0, 0);
    return;
  case S_CHURN: {
    uint32_t refund = u->next[S_REFUND];
    for (int i = 0; i < NSLOT; i++) u->next[i] = NEVER;
    u->next[S_REFUND] = refund; /* a refund already under way still happens */
    u->flags &= (uint8_t)~(F_ALIVE | F_REACHABLE);
    emit(s, t, k, PD_EV_CHURN, u->tp_msg, 0, 0);
    return;
  }
  }
}

/* Runs user k's processes to the end of the history. */
static void simulate(sim *s, uint32_t k) {
  const planned *p = &s->p[k];
  user u;
  memset(&u, 0, sizeof u);
  for (int i = 0; i < NSLOT; i++) u.next[i] = NEVER;
  u.k = k;
  u.acq = p->acq;
  u.referrer = p->referrer;
  u.share = p->share;
  u.tp_acq = p->tp_acq;
  u.next[S_PREINV] = p->preinv;
  u.next[S_ACQ] = p->acq;
  for (;;) {
    int slot = 0;
    for (int i = 1; i < NSLOT; i++)
      if (u.next[i] < u.next[slot]) slot = i;
    if (u.next[slot] == NEVER) return;
    step(s, &u, slot, u.next[slot]);
  }
}

int pd_gen_run(const pd_gen_options *opts, pd_gen_sink sink, void *ctx, pd_gen_stats *stats) {
  pd_gen_stats local;
  sim s;
  memset(&s, 0, sizeof s);
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  s.n = opts->users;
  s.stats = stats;
  /* The end is `months` months of 30.44 days after the start. */
  s.end = (uint32_t)(opts->months * 30.436875 * DAY);
  rng_seed(&s.r, opts->seed);
  if (s.n == 0) return 0;
  if (s.n >= UINT32_MAX) return -1;
  s.n_days = s.end / 86400 + 1;
  s.p = malloc(s.n * sizeof *s.p);
  s.days = calloc(s.n_days, sizeof *s.days);
  uint32_t *count = calloc(86401, sizeof *count);
  rec *sorted = NULL;
  int rc = -1;
  if (!s.p || !s.days || !count) goto done;
  plan(&s);
  stats->users = s.n;
  /* Users one by one (their state stays in cache), events into day buckets. */
  for (uint64_t k = 0; k < s.n && !s.oom; k++) simulate(&s, (uint32_t)k);
  if (s.oom) goto done;
  size_t most = 0;
  for (uint32_t d = 0; d < s.n_days; d++)
    if (s.days[d].n > most) most = s.days[d].n;
  if (!(sorted = malloc((most ? most : 1) * sizeof *sorted))) goto done;
  /* Each day in time order: a stable counting sort on the second of the day
   * (ties keep the order of simulation, so the output is deterministic). */
  rc = 0;
  for (uint32_t d = 0; d < s.n_days && rc == 0; d++) {
    bucket *b = &s.days[d];
    memset(count, 0, 86401 * sizeof *count);
    for (size_t i = 0; i < b->n; i++) count[b->v[i].t - d * 86400 + 1]++;
    for (int i = 1; i <= 86400; i++) count[i] += count[i - 1];
    for (size_t i = 0; i < b->n; i++) sorted[count[b->v[i].t - d * 86400]++] = b->v[i];
    for (size_t i = 0; i < b->n && rc == 0; i++) {
      const rec *e = &sorted[i];
      uint32_t ref = e->type == PD_EV_ACQUIRE || e->type == PD_EV_REFERRAL_SIGNUP ? s.p[e->user].referrer : PD_NONE;
      pd_gen_event ev = {opts->start_ms + (int64_t)e->t * 1000, e->user, e->type, e->tp, ref, e->amount, e->has_amount};
      rc = sink(ctx, &ev);
    }
    free(b->v);
    b->v = NULL;
  }
done:
  for (uint32_t d = 0; s.days && d < s.n_days; d++) free(s.days[d].v);
  free(s.days);
  free(s.p);
  free(count);
  free(sorted);
  return rc;
}

int pd_gen_user_name(uint32_t index, char *buf) {
  char tmp[12];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + index % 10);
    index /= 10;
  } while (index);
  buf[0] = 'u';
  for (int i = 0; i < n; i++) buf[1 + i] = tmp[n - 1 - i];
  buf[n + 1] = '\0';
  return n + 1;
}
