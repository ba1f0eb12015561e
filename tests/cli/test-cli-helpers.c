/* Unit tests of the pd tool's shared helpers (examples/pd/cli.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

START_TEST(durations) {
  int64_t ms = -1;
  ck_assert_int_eq(pd_cli_parse_duration("7d", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(7) * 86400000);
  ck_assert_int_eq(pd_cli_parse_duration("12h", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(12) * 3600000);
  ck_assert_int_eq(pd_cli_parse_duration("30m", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(1800000));
  ck_assert_int_eq(pd_cli_parse_duration("2w", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(14) * 86400000);
  ck_assert_int_eq(pd_cli_parse_duration("1d12h", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(36) * 3600000);
  ck_assert_int_eq(pd_cli_parse_duration("45s", &ms), 0);
  ck_assert_int_eq(ms, 45000);
  ck_assert_int_eq(pd_cli_parse_duration("250ms", &ms), 0);
  ck_assert_int_eq(ms, 250);
  ck_assert_int_eq(pd_cli_parse_duration("0d", &ms), 0);
  ck_assert_int_eq(ms, 0);
  const char *bad[] = {"", "7", "d", "7x", "-1d", "7d ", " 7d", "1.5d", "99999999999999999999d", "7dd"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ms = 42;
    ck_assert_msg(pd_cli_parse_duration(bad[i], &ms) == -1, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(ms, 42);
  }
}
END_TEST

START_TEST(formats_periods) {
  pd_format f;
  pd_period p;
  ck_assert_int_eq(pd_cli_parse_format("table", &f), 0);
  ck_assert_int_eq(f, PD_FORMAT_TEXT);
  ck_assert_int_eq(pd_cli_parse_format("csv", &f), 0);
  ck_assert_int_eq(f, PD_FORMAT_CSV);
  ck_assert_int_eq(pd_cli_parse_format("json", &f), 0);
  ck_assert_int_eq(f, PD_FORMAT_JSON);
  ck_assert_int_eq(pd_cli_parse_format("JSON", &f), -1);
  ck_assert_int_eq(pd_cli_parse_period("week", &p), 0);
  ck_assert_int_eq(p, PD_PERIOD_WEEK);
  ck_assert_int_eq(pd_cli_parse_period("week_sunday", &p), 0);
  ck_assert_int_eq(p, PD_PERIOD_WEEK_SUNDAY);
  ck_assert_int_eq(pd_cli_parse_period("month", &p), 0);
  ck_assert_int_eq(p, PD_PERIOD_MONTH);
  ck_assert_int_eq(pd_cli_parse_period("year", &p), -1);
}
END_TEST

START_TEST(times_amounts) {
  char buf[32];
  int64_t ms;
  ck_assert_str_eq(pd_cli_format_time(0, buf), "1970-01-01T00:00:00Z");
  ck_assert_str_eq(pd_cli_format_time(INT64_C(1709280000000), buf), "2024-03-01T08:00:00Z");
  ck_assert_str_eq(pd_cli_format_time(INT64_C(1709280000123), buf), "2024-03-01T08:00:00.123Z");
  ck_assert_str_eq(pd_cli_format_time(-1, buf), "1969-12-31T23:59:59.999Z");
  ck_assert_str_eq(pd_cli_format_time(INT64_C(951782400000), buf), "2000-02-29T00:00:00Z");
  ck_assert_int_eq(pd_cli_parse_time("2024-03-01T08:00:00Z", NULL, &ms), 0);
  ck_assert_int_eq(ms, INT64_C(1709280000000));
  /* 2024-03-01 00:00 in Shanghai (UTC+8) is 2024-02-29T16:00Z */
  ck_assert_int_eq(pd_cli_parse_time("2024-03-01", "Asia/Shanghai", &ms), 0);
  ck_assert_int_eq(ms, INT64_C(1709251200000) - INT64_C(8) * 3600000);
  ck_assert_int_eq(pd_cli_parse_time("2024-02-30", NULL, &ms), -1);
  ck_assert_int_eq(pd_cli_parse_time("2024-03-01", "No/Such_Zone", &ms), -1);
  ck_assert_str_eq(pd_cli_format_amount(12345, buf), "123.45");
  ck_assert_str_eq(pd_cli_format_amount(5, buf), "0.05");
  ck_assert_str_eq(pd_cli_format_amount(-5, buf), "-0.05");
  ck_assert_str_eq(pd_cli_format_amount(-100, buf), "-1.00");
  ck_assert_str_eq(pd_cli_format_amount(0, buf), "0.00");
  ck_assert_str_eq(pd_cli_format_amount(INT64_MIN, buf), "-92233720368547758.08");
}
END_TEST

/* Runs pd_cli_parse on a NULL-terminated argument list (copied: the parser
 * reorders argv). */
static int parse(const pd_cli_spec *spec, const char **list, pd_cli_args *args, char **argv) {
  int argc = 0;
  while (list[argc]) {
    argv[argc] = (char *)list[argc];
    argc++;
  }
  argv[argc] = NULL;
  return pd_cli_parse(spec, argc, argv, args);
}

START_TEST(option_parsing) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *name = NULL;
  int64_t since = 0, window = 0, n = 5;
  unsigned threads = 0;
  double x = 0;
  int flag = 0, choice = 0;
  pd_period period = PD_PERIOD_DAY;
  pd_cli_list steps = {0};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt), PD_CLI_OPT_TZ(&tz), PD_CLI_OPT_THREADS(&threads),
      {"since", 0, PD_CLI_TIME, &since, NULL, "start", NULL},
      {"window", 'w', PD_CLI_DURATION, &window, NULL, "window", NULL},
      {"n", 'n', PD_CLI_INT, &n, NULL, "count", NULL},
      {"x", 0, PD_CLI_DOUBLE, &x, NULL, "a number", NULL},
      {"name", 0, PD_CLI_STRING, &name, NULL, "a name", NULL},
      {"flag", 'F', PD_CLI_FLAG, &flag, NULL, "a flag", NULL},
      {"mode", 0, PD_CLI_CHOICE, &choice, NULL, "a mode", "first|second|third"},
      {"period", 0, PD_CLI_PERIOD, &period, NULL, "a period", NULL},
      {"steps", 0, PD_CLI_LIST, &steps, NULL, "steps", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"test", "STORE [MORE...]", "A test command.", opts, 1, 3};
  char *argv[32];
  pd_cli_args args;
  const char *ok[] = {"test", "store", "--since", "2024-03-01", "--tz=Asia/Shanghai", "-w", "7d", "-j2", "--format",
                      "json", "more", "--x=2.5", "--name", "视频号直播", "-F", "--mode", "third", "--period", "month",
                      "--steps", "acquire,activate", "--steps=purchase", "-n", "-3", "--", "--not-an-option", NULL};
  ck_assert_int_eq(parse(&spec, ok, &args, argv), PD_CLI_CONTINUE);
  ck_assert_int_eq(args.n, 3);
  ck_assert_str_eq(args.v[0], "store");
  ck_assert_str_eq(args.v[1], "more");
  ck_assert_str_eq(args.v[2], "--not-an-option");
  ck_assert_int_eq(fmt, PD_FORMAT_JSON);
  ck_assert_str_eq(tz, "Asia/Shanghai");
  ck_assert_int_eq(since, INT64_C(1709251200000) - INT64_C(8) * 3600000); /* --tz given after --since */
  ck_assert_int_eq(window, INT64_C(7) * 86400000);
  ck_assert_uint_eq(threads, 2);
  ck_assert_int_eq(n, -3);
  ck_assert(x == 2.5);
  ck_assert_str_eq(name, "视频号直播");
  ck_assert_int_eq(flag, 1);
  ck_assert_int_eq(choice, 2);
  ck_assert_int_eq(period, PD_PERIOD_MONTH);
  ck_assert_uint_eq(steps.n, 3);
  ck_assert_str_eq(steps.items[0], "acquire");
  ck_assert_str_eq(steps.items[1], "activate");
  ck_assert_str_eq(steps.items[2], "purchase");
  pd_cli_list_free(&steps);
  ck_assert_uint_eq(steps.n, 0);

  /* usage errors: exit code 2 */
  const char *bad[][5] = {
      {"test", NULL},                             /* missing STORE */
      {"test", "a", "b", "c", "d"},               /* too many */
      {"test", "s", "--nope", NULL},              /* unknown option */
      {"test", "s", "-z", NULL},                  /* unknown short option */
      {"test", "s", "--window", NULL},            /* missing value */
      {"test", "s", "--window", "7", NULL},       /* duration without unit */
      {"test", "s", "--format", "xml", NULL},
      {"test", "s", "--tz", "Mars/Olympus", NULL},
      {"test", "s", "--since", "yesterday", NULL},
      {"test", "s", "-n", "3x", NULL},
      {"test", "s", "--x", "abc", NULL},
      {"test", "s", "--flag=1", NULL},
      {"test", "s", "--mode", "fourth", NULL},
      {"test", "s", "--period", "year", NULL},
      {"test", "s", "--steps", "a,,b", NULL},
      {"test", "s", "--threads", "-1", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *list[6] = {0};
    for (int k = 0; k < 5 && bad[i][k]; k++) list[k] = bad[i][k];
    int rc = parse(&spec, list, &args, argv);
    ck_assert_msg(rc == PD_EXIT_USAGE, "case %zu (%s %s) gave %d", i, list[2] ? list[2] : "", list[3] ? list[3] : "", rc);
    pd_cli_list_free(&steps);
  }
  /* --help and --version end the command successfully, whatever else is there */
  const char *h1[] = {"test", "--help", NULL}, *h2[] = {"test", "-h", "--bogus", NULL}, *v[] = {"test", "--version", NULL};
  ck_assert_int_eq(parse(&spec, h1, &args, argv), PD_EXIT_OK);
  ck_assert_int_eq(parse(&spec, h2, &args, argv), PD_EXIT_OK);
  ck_assert_int_eq(parse(&spec, v, &args, argv), PD_EXIT_OK);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli-helpers");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, durations);
  tcase_add_test(tc, formats_periods);
  tcase_add_test(tc, times_amounts);
  tcase_add_test(tc, option_parsing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
