/* pd tag, pd segment, and the --segment / --by segment:... options every
 * analysis command shares. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- shared: --segment and --by segment:A,B ----------------------------- */

int pd_cli_segment_users(const char *cmd, pd_store *store, const char *text, pd_userset **users) {
  *users = NULL;
  if (!text) return 0;
  /* A stored segment or a tag of that name first, else an expression. */
  pd_status st = pd_segment_eval(store, text, NULL, users);
  if (st == PD_ERR_NOT_FOUND) {
    st = pd_segment_eval_expr(store, text, NULL, users);
    if (st == PD_ERR_PARSE) {
      /* neither a name nor a valid expression: the parser says where */
      return pd_cli_error(cmd, "--segment \"%s\": %s", text, pd_last_error());
    }
  }
  if (st != PD_OK) return pd_cli_error(cmd, "--segment \"%s\": %s", text, pd_last_error());
  return 0;
}

int pd_cli_is_segment_by(const char *by) {
  return by && (strncmp(by, "segment:", 8) == 0 || strcmp(by, "tags") == 0 || strcmp(by, "tag") == 0);
}

int pd_cli_segment_names(const char *cmd, pd_store *store, const char *by, pd_cli_list *names) {
  memset(names, 0, sizeof *names);
  if (strcmp(by, "tags") == 0 || strcmp(by, "tag") == 0) {
    pd_table *t = NULL;
    pd_status st = pd_store_tags(store, &t);
    if (st) return pd_cli_fail(cmd, st);
    for (size_t r = 0; r < pd_table_n_rows(t) && names->n < PD_CLI_LIST_MAX; r++)
      if (!(names->items[names->n++] = strdup(pd_table_get_string(t, r, 0)))) {
        pd_table_free(t);
        pd_cli_list_free(names);
        return pd_cli_error(cmd, "out of memory");
      }
    pd_table_free(t);
    if (names->n == 0) return pd_cli_error(cmd, "--by tags: the store has no tags (see pd tag)");
    return 0;
  }
  const char *p = by + 8;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0) {
      pd_cli_list_free(names);
      return pd_cli_error(cmd, "--by \"%s\": empty segment name at character %zu", by, (size_t)(p - by) + 1);
    }
    if (names->n == PD_CLI_LIST_MAX) {
      pd_cli_list_free(names);
      return pd_cli_error(cmd, "--by: more than %d segments", PD_CLI_LIST_MAX);
    }
    if (!(names->items[names->n++] = strndup(p, len))) {
      pd_cli_list_free(names);
      return pd_cli_error(cmd, "out of memory");
    }
    p += len + (comma ? 1 : 0);
    if (comma && !*p) {
      pd_cli_list_free(names);
      return pd_cli_error(cmd, "--by \"%s\": empty segment name at the end", by);
    }
  }
  if (names->n == 0) return pd_cli_error(cmd, "--by segment: needs names, e.g. --by segment:vip,new");
  return 0;
}

/* Each segment's users intersected with the --segment filter, then the
 * command's own run. */
typedef struct filtered_run {
  const pd_userset *filter;
  pd_segment_run_fn run;
  void *ctx;
} filtered_run;

static pd_status run_filtered(void *ctx, const pd_userset *users, pd_table **out) {
  filtered_run *f = ctx;
  if (!f->filter) return f->run(f->ctx, users, out);
  pd_userset *both = NULL;
  pd_status st = pd_userset_copy(&both, users);
  if (st) return st;
  pd_userset_and(both, f->filter);
  st = f->run(f->ctx, both, out);
  pd_userset_free(both);
  return st;
}

int pd_cli_segment_breakdown(const char *cmd, pd_store *store, const char *by, const pd_userset *filter,
                             pd_segment_run_fn run, void *ctx, pd_table **out) {
  *out = NULL;
  pd_cli_list names;
  int rc = pd_cli_segment_names(cmd, store, by, &names);
  if (rc) return rc;
  filtered_run f = {filter, run, ctx};
  pd_status st = pd_segment_breakdown(store, (const char *const *)names.items, names.n, NULL, run_filtered, &f, out);
  pd_cli_list_free(&names);
  return st == PD_OK ? 0 : pd_cli_fail(cmd, st);
}

/* ---- pd tag ------------------------------------------------------------- */

int pd_cmd_tag(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *file = NULL, *rejects = NULL, *format = NULL;
  int remove = 0, list = 0, create = 0, lenient = 0;
  const pd_cli_opt opts[] = {
      {"file", 0, PD_CLI_STRING, &file, "FILE", "tag users from a user,tag file (CSV, TSV or JSON Lines, .gz too)", NULL},
      {"create-users", 0, PD_CLI_FLAG, &create, NULL, "with --file: create unknown users instead of failing", NULL},
      {"lenient", 0, PD_CLI_FLAG, &lenient, NULL, "with --file: skip bad rows (to --rejects) instead of failing", NULL},
      {"rejects", 0, PD_CLI_STRING, &rejects, "FILE", "with --lenient: where bad rows and their errors go", NULL},
      {"input-format", 0, PD_CLI_STRING, &format, "FMT", "with --file: csv, tsv or jsonl (default: from the name)", NULL},
      {"remove", 0, PD_CLI_FLAG, &remove, NULL, "with USER TAG: remove the tag instead of adding it", NULL},
      {"list", 'l', PD_CLI_FLAG, &list, NULL, "list the tags and their sizes", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"tag", "STORE [USER TAG]",
                            "Tags users: `pd tag STORE USER TAG [--remove]` tags one user (an external id or\n"
                            "alias), `pd tag STORE --file users_tags.csv` a file with columns user,tag, and\n"
                            "`pd tag STORE --list` lists the tags. A tag is usable wherever a segment is.",
                            opts, 1, 3};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  int actions = (file != NULL) + list + (args.n == 3);
  if (actions != 1 || args.n == 2)
    return pd_cli_usage_error(&spec, "give exactly one of USER TAG, --file FILE or --list");
  if (remove && args.n != 3) return pd_cli_usage_error(&spec, "--remove goes with USER TAG");
  if ((create || lenient || format) && !file)
    return pd_cli_usage_error(&spec, "--create-users, --lenient and --input-format go with --file");
  if (rejects && !lenient) return pd_cli_usage_error(&spec, "--rejects needs --lenient");
  pd_ingest_options io = PD_INGEST_OPTIONS_INIT;
  if (format) {
    if (strcmp(format, "csv") == 0) io.format = PD_INPUT_CSV;
    else if (strcmp(format, "tsv") == 0) io.format = PD_INPUT_TSV;
    else if (strcmp(format, "jsonl") == 0) io.format = PD_INPUT_JSONL;
    else return pd_cli_usage_error(&spec, "--input-format must be csv, tsv or jsonl");
  }
  pd_store *store = NULL;
  if ((rc = pd_cli_open_store("tag", args.v[0], list ? PD_CLI_READ : PD_CLI_WRITE, &store))) return rc;
  pd_status st = PD_OK;
  if (list) {
    pd_table *t = NULL;
    if ((st = pd_store_tags(store, &t))) rc = pd_cli_fail("tag", st);
    else rc = pd_cli_print_table("tag", t, fmt);
    pd_table_free(t);
    pd_store_close(store);
    return rc;
  }
  pd_writer *w = NULL;
  if ((st = pd_writer_open(&w, store))) {
    rc = pd_cli_fail("tag", st);
    goto done;
  }
  if (file) {
    io.lenient = lenient;
    io.rejects_path = rejects;
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    if ((st = pd_ingest_tags(w, file, &io, create, &res))) {
      rc = pd_cli_fail("tag", st);
    } else {
      fprintf(stderr, "pd tag: %llu rows tagged", (unsigned long long)res.rows_committed);
      if (res.rows_rejected)
        fprintf(stderr, ", %llu rejected%s%s", (unsigned long long)res.rows_rejected, rejects ? ", see " : "",
                rejects ? rejects : "");
      fprintf(stderr, "\n");
    }
  } else {
    uint32_t user;
    if ((st = pd_store_find_user(store, args.v[1], &user))) {
      rc = st == PD_ERR_NOT_FOUND ? pd_cli_error("tag", "unknown user \"%s\"", args.v[1]) : pd_cli_fail("tag", st);
    } else if ((st = remove ? pd_writer_untag(w, user, args.v[2]) : pd_writer_tag(w, user, args.v[2])) ||
               (st = pd_writer_commit(w))) {
      rc = pd_cli_fail("tag", st);
    }
  }
  pd_writer_close(w);
done:
  pd_store_close(store);
  return rc;
}

/* ---- pd segment ----------------------------------------------------------- */

/* The members of a set as a table: user (id), external_id. */
static int print_members(pd_store *store, const pd_userset *set, pd_format fmt) {
  /* (the public API has no table builder: written here in each format) */
  uint32_t n = pd_store_n_users(store);
  if (fmt == PD_FORMAT_JSON) {
    printf("[");
    int first = 1;
    for (uint32_t u = 0; u < n; u++) {
      if (!pd_userset_contains(set, u)) continue;
      const char *name = pd_store_user_name(store, u);
      printf("%s{\"user\": %u, \"external_id\": ", first ? "" : ",\n ", u);
      first = 0;
      if (!name) {
        printf("null}");
        continue;
      }
      putchar('"');
      for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c == '"' || *c == '\\') printf("\\%c", *c);
        else if (*c < 0x20) printf("\\u%04x", *c);
        else putchar(*c);
      }
      printf("\"}");
    }
    printf("]\n");
  } else if (fmt == PD_FORMAT_CSV) {
    printf("user,external_id\n");
    for (uint32_t u = 0; u < n; u++) {
      if (!pd_userset_contains(set, u)) continue;
      const char *name = pd_store_user_name(store, u);
      printf("%u,", u);
      if (name && strpbrk(name, ",\"\r\n")) {
        putchar('"');
        for (const char *c = name; *c; c++) {
          if (*c == '"') putchar('"');
          putchar(*c);
        }
        putchar('"');
      } else if (name) {
        fputs(name, stdout);
      }
      putchar('\n');
    }
  } else {
    printf("%10s  %s\n", "user", "external_id");
    printf("%10s  %s\n", "----------", "-----------");
    for (uint32_t u = 0; u < n; u++) {
      if (!pd_userset_contains(set, u)) continue;
      const char *name = pd_store_user_name(store, u);
      printf("%10u  %s\n", u, name ? name : "");
    }
  }
  return fflush(stdout) == 0 && !ferror(stdout) ? 0 : pd_cli_error("segment", "cannot write the output");
}

int pd_cmd_segment(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  int count = 0;
  int64_t as_of = INT64_MIN;
  unsigned threads = 0;
  const pd_cli_opt opts[] = {
      {"count", 'c', PD_CLI_FLAG, &count, NULL, "with show: print the number of members only", NULL},
      {"as-of", 0, PD_CLI_TIME, &as_of, "TIME", "with show: reference time of the *_days metrics (default: the latest event)", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "segment", "STORE ACTION [ARGS]",
      "Stored segments: named expressions over tags and per-user metrics.\n"
      "  pd segment STORE define NAME EXPR   store (or replace) a definition\n"
      "  pd segment STORE drop NAME          remove one\n"
      "  pd segment STORE list               the definitions\n"
      "  pd segment STORE show NAME|EXPR     the members (user, external_id), or --count\n"
      "EXPR: tags and comparisons joined by and, or, not and parentheses, e.g.\n"
      "  'vip and revenue >= 10000 and not churned', 'last_event_days > 30 or acquired_via = ad'.\n"
      "Metrics: revenue (minor units), purchases, events, invites, last_event_days,\n"
      "first_event_days, acquired_via, domain; see docs/SEGMENTS.md. Any analysis takes\n"
      "--segment NAME|EXPR (filter) and --by segment:NAME1,NAME2 (breakdown).",
      opts, 2, 4};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  const char *action = args.v[1];
  int want = strcmp(action, "define") == 0 ? 4 : strcmp(action, "drop") == 0 || strcmp(action, "show") == 0 ? 3
             : strcmp(action, "list") == 0                                                                ? 2
                                                                                                           : -1;
  if (want < 0) return pd_cli_usage_error(&spec, "unknown action \"%s\" (define, drop, list or show)", action);
  if (args.n != want)
    return pd_cli_usage_error(&spec, "%s takes %s", action,
                              want == 4 ? "NAME EXPR" : want == 3 ? (action[0] == 'd' ? "NAME" : "NAME or EXPR") : "nothing");
  if (count && strcmp(action, "show") != 0) return pd_cli_usage_error(&spec, "--count goes with show");
  int writes = action[0] == 'd';
  pd_store *store = NULL;
  if ((rc = pd_cli_open_store("segment", args.v[0], writes ? PD_CLI_WRITE : PD_CLI_READ, &store))) return rc;
  pd_status st = PD_OK;
  if (strcmp(action, "define") == 0) {
    if ((st = pd_segment_define(store, args.v[2], args.v[3]))) rc = pd_cli_fail("segment", st);
  } else if (strcmp(action, "drop") == 0) {
    if ((st = pd_segment_drop(store, args.v[2]))) rc = pd_cli_fail("segment", st);
  } else if (strcmp(action, "list") == 0) {
    pd_table *t = NULL;
    if ((st = pd_store_segments(store, &t))) rc = pd_cli_fail("segment", st);
    else rc = pd_cli_print_table("segment", t, fmt);
    pd_table_free(t);
  } else {
    pd_segment_options so = PD_SEGMENT_OPTIONS_INIT;
    so.as_of_ms = as_of;
    so.threads = threads;
    pd_userset *set = NULL;
    st = pd_segment_eval(store, args.v[2], &so, &set);
    if (st == PD_ERR_NOT_FOUND) st = pd_segment_eval_expr(store, args.v[2], &so, &set);
    if (st) {
      rc = pd_cli_error("segment", "\"%s\": %s", args.v[2], pd_last_error());
    } else if (count) {
      printf("%llu\n", (unsigned long long)pd_userset_count(set));
    } else {
      rc = print_members(store, set, fmt);
    }
    pd_userset_free(set);
  }
  pd_store_close(store);
  return rc;
}
