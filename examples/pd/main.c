/* pd: the libprivdomain command-line tool. Dispatches to one function per
 * subcommand; every command takes --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const pd_command commands[] = {
    /* foundation (issue 2) */
    {"gen", pd_cmd_gen, "generate a synthetic private-domain business (CSV or store)"},
    {"ingest", pd_cmd_ingest, "append CSV, TSV or JSON Lines files (plain or .gz) to a store"},
    {"info", pd_cmd_info, "what is in a store: users, events by type, touchpoints, time range, bytes"},
    {"compact", pd_cmd_compact, "seal the log into a sorted, memory-mapped segment"},
    {"export", pd_cmd_export, "write every event of a store as CSV"},
    /* funnel, stages (issue 3) */
    {"funnel", pd_cmd_funnel, "users through an ordered funnel: conversion, drop-off, time to convert"},
    {"stages", pd_cmd_stages, "AARRR / RARRA stage report for a period"},
    /* retention, lifecycle, stickiness (issue 4) */
    {"retention", pd_cmd_retention, "cohort retention and cohort revenue (classic or on-or-after, calendar or rolling)"},
    {"lifecycle", pd_cmd_lifecycle, "new, returning, resurrecting and dormant users per period"},
    {"stickiness", pd_cmd_stickiness, "users by active days per week or active weeks per month"},
    /* referral (issue 5) */
    {"referral", pd_cmd_referral, "referral forest: K-factor, generations, cycle time, depth vs the cap, top referrers, CAC saved"},
    /* rfm, clv (issue 6) */
    {"rfm", pd_cmd_rfm, "per-customer RFM summary (frequency, recency, T, monetary value)"},
    {"clv", pd_cmd_clv, "fit BG/NBD, Pareto/NBD or MBG/NBD + Gamma-Gamma; P(alive), CLV per customer"},
    {"ltv", pd_cmd_ltv, "historical value by acquisition touchpoint and cohort; LTV:CAC"},
    /* touchpoints, attribution, segments (issue 7) */
    {"touchpoints", pd_cmd_touchpoints, "touchpoint scorecard: CAC, retention, reach, LTV:CAC, K; public -> private migration"},
    {"attribution", pd_cmd_attribution, "credit for conversions per touchpoint: first, last, linear, decay, position, Markov"},
    {"tag", pd_cmd_tag, "tag users (one, or a user,tag file) and list the tags"},
    {"segment", pd_cmd_segment, "define, drop, list and show stored segments (tags and metric predicates)"},
    /* rfm layers, membership (issue 7) */
    {"membership", pd_cmd_membership, "members vs non-members, stored-value users vs others, before vs after joining"},
    /* report (issue 8) */
    {"report", pd_cmd_report, "write the operator's HTML report of a store"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
  fprintf(out, "usage: pd COMMAND [OPTIONS] ...\n\ncommands:\n");
  for (const pd_command *c = commands; c->name; c++) fprintf(out, "  %-12s %s\n", c->name, c->summary);
  fprintf(out, "\n`pd COMMAND --help` describes a command. Exit codes: 0 ok, 1 runtime error, 2 usage.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return PD_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return PD_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("pd (libprivdomain) %s\n", pd_version_string());
    return PD_EXIT_OK;
  }
  for (const pd_command *c = commands; c->name; c++)
    if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
  fprintf(stderr, "pd: unknown command \"%s\" (see pd --help)\n", argv[1]);
  return PD_EXIT_USAGE;
}
