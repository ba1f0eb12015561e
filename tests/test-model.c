/* Data model helpers: names and exact amount parsing. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

static pd_status amount(const char *s, int64_t *v) { return pd_amount_parse(s, strlen(s), 2, v); }

START_TEST(amount_exact) {
  int64_t v;
  ck_assert_int_eq(amount("12.34", &v), PD_OK); ck_assert_int_eq(v, 1234);
  ck_assert_int_eq(amount("0.1", &v), PD_OK); ck_assert_int_eq(v, 10);
  ck_assert_int_eq(amount("-0.07", &v), PD_OK); ck_assert_int_eq(v, -7);
  ck_assert_int_eq(amount("7", &v), PD_OK); ck_assert_int_eq(v, 700);
  ck_assert_int_eq(amount("+3.", &v), PD_OK); ck_assert_int_eq(v, 300);
  ck_assert_int_eq(amount(".5", &v), PD_OK); ck_assert_int_eq(v, 50);
  ck_assert_int_eq(amount("1.2300", &v), PD_OK); ck_assert_int_eq(v, 123);
  /* 0.29 * 100 is 28.999999999999996 in binary floating point; exact parsing must give 29. */
  ck_assert_int_eq(amount("0.29", &v), PD_OK); ck_assert_int_eq(v, 29);
  ck_assert_int_eq(amount("92233720368547758.07", &v), PD_OK); ck_assert_int_eq(v, INT64_MAX);
  ck_assert_int_eq(amount("-92233720368547758.08", &v), PD_OK); ck_assert_int_eq(v, INT64_MIN);
}
END_TEST

START_TEST(amount_bad) {
  int64_t v = 42;
  ck_assert_int_eq(amount("1.234", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount("", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount("-", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount(".", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount("1e3", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount("12,5", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount(" 1", &v), PD_ERR_PARSE);
  ck_assert_int_eq(amount("92233720368547758.08", &v), PD_ERR_RANGE);
  ck_assert_int_eq(amount("99999999999999999999", &v), PD_ERR_RANGE);
  ck_assert_int_eq(v, 42); /* untouched on error */
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "99999999999999999999"));
}
END_TEST

START_TEST(names) {
  ck_assert_str_eq(pd_event_type_builtin_name(PD_EV_REFERRAL_SIGNUP), "referral_signup");
  ck_assert_ptr_null(pd_event_type_builtin_name(PD_EVENT_BUILTIN_COUNT));
  ck_assert_int_eq(pd_domain_from_name("private"), PD_DOMAIN_PRIVATE);
  ck_assert_int_eq(pd_domain_from_name("nope"), PD_DOMAIN_UNKNOWN);
  ck_assert_str_eq(pd_domain_name(PD_DOMAIN_SEMI), "semi");
  ck_assert_int_eq(pd_carrier_from_name("mini_program"), PD_CARRIER_MINI_PROGRAM);
  ck_assert_int_eq(pd_carrier_from_name("fax"), -1);
  ck_assert_str_eq(pd_carrier_name(PD_CARRIER_KOL), "kol");
}
END_TEST

int main(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("model");
  tcase_add_test(tc, amount_exact);
  tcase_add_test(tc, amount_bad);
  tcase_add_test(tc, names);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
