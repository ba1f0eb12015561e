/* Shared bits of the pd command-line tool (public API only). */
#ifndef PD_CLI_H
#define PD_CLI_H

#include <privdomain.h>

/* Exit codes. */
#define PD_EXIT_OK 0
#define PD_EXIT_RUNTIME 1
#define PD_EXIT_USAGE 2

/* A subcommand: argv[0] is the command name. Returns an exit code. */
typedef int (*pd_command_fn)(int argc, char **argv);

typedef struct pd_command {
  const char *name;
  pd_command_fn run;
  const char *summary; /* one line for `pd --help` */
} pd_command;

/* Declarations of every command, one region per area. */
/* foundation (issue 2) */
/* funnel, stages (issue 3) */
/* retention, lifecycle, stickiness (issue 4) */
/* referral (issue 5) */
/* rfm, clv (issue 6) */
/* touchpoints, attribution, segments (issue 7) */
/* report (issue 8) */

#endif
