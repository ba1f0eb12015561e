/* pd_table: builder, accessors, null cells, text/CSV/JSON writers. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

static pd_table *sample(void) {
  pd_table *t = pd__table_new("sample");
  size_t name = pd__table_add_col(t, "name", PD_TYPE_STRING);
  size_t n = pd__table_add_col(t, "n", PD_TYPE_INT64);
  size_t rate = pd__table_add_col(t, "rate", PD_TYPE_DOUBLE);
  size_t r = pd__table_add_row(t);
  pd__table_set_string(t, r, name, "微信群");
  pd__table_set_int64(t, r, n, 1234);
  pd__table_set_double(t, r, rate, 0.25);
  r = pd__table_add_row(t);
  pd__table_set_string(t, r, name, "a,\"b\"");
  pd__table_set_int64(t, r, n, -5);
  /* rate stays null */
  pd_table *out = NULL;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  return out;
}

START_TEST(accessors) {
  pd_table *t = sample();
  ck_assert_str_eq(pd_table_name(t), "sample");
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_uint_eq(pd_table_n_cols(t), 3);
  ck_assert_int_eq(pd_table_col_index(t, "rate"), 2);
  ck_assert_int_eq(pd_table_col_index(t, "missing"), -1);
  ck_assert_int_eq(pd_table_col_type(t, 1), PD_TYPE_INT64);
  ck_assert_int_eq(pd_table_col_type(t, 9), 0);
  ck_assert_int_eq(pd_table_get_int64(t, 0, 1), 1234);
  ck_assert_double_eq(pd_table_get_double(t, 0, 2), 0.25);
  ck_assert(pd_table_is_null(t, 1, 2));
  ck_assert(!pd_table_is_null(t, 1, 1));
  ck_assert_int_eq(pd_table_get_int64(t, 0, 2), 0); /* type mismatch */
  ck_assert_ptr_null(pd_table_get_string(t, 5, 0));  /* out of range */
  pd_table_free(t);
  pd_table_free(NULL);
}
END_TEST

START_TEST(csv_quoting) {
  pd_table *t = sample();
  char *s;
  ck_assert_int_eq(pd_table_format(t, PD_FORMAT_CSV, &s, NULL), PD_OK);
  ck_assert_str_eq(s, "name,n,rate\n微信群,1234,0.25\n\"a,\"\"b\"\"\",-5,\n");
  pd_free(s);
  pd_table_free(t);
}
END_TEST

START_TEST(json_nulls) {
  pd_table *t = sample();
  char *s;
  ck_assert_int_eq(pd_table_format(t, PD_FORMAT_JSON, &s, NULL), PD_OK);
  ck_assert_str_eq(s, "[\n {\"name\": \"微信群\", \"n\": 1234, \"rate\": 0.25},\n"
                      " {\"name\": \"a,\\\"b\\\"\", \"n\": -5, \"rate\": null}\n]\n");
  pd_free(s);
  pd_table_free(t);
}
END_TEST

START_TEST(text_alignment) {
  pd_table *t = sample();
  char *s;
  ck_assert_int_eq(pd_table_format(t, PD_FORMAT_TEXT, &s, NULL), PD_OK);
  /* CJK characters are two columns wide: "微信群" takes 6, like "a,\"b\"" plus one blank. */
  ck_assert_str_eq(s, "name       n  rate\n"
                      "------  ----  ----\n"
                      "微信群  1234  0.25\n"
                      "a,\"b\"     -5\n");
  pd_free(s);
  pd_table_free(t);
}
END_TEST

/* Doubles: CSV and JSON read back exactly (whole numbers as integers, not
 * 4.9416e+07); the text format rounds for people to six decimals. */
START_TEST(double_text) {
  static const double v[] = {0.5636363636363636, 49416000.0, -0.0, 1.5e-5, 2e16, 79762127.27272727, 0.1, -2.5};
  static const char *exact[] = {"0.5636363636363636", "49416000", "0", "1.5e-05", "2e+16", "79762127.27272727", "0.1", "-2.5"};
  static const char *human[] = {"0.563636", "49416000", "0", "1.5e-05", "2e+16", "79762127.272727", "0.1", "-2.5"};
  size_t n = sizeof v / sizeof v[0];
  pd_table *t = pd__table_new("d");
  size_t c = pd__table_add_col(t, "v", PD_TYPE_DOUBLE);
  for (size_t i = 0; i < n; i++) pd__table_set_double(t, pd__table_add_row(t), c, v[i]);
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  GString *want_csv = g_string_new("v\n"), *want_text = g_string_new("");
  g_string_append_printf(want_text, "%15s\n%s\n", "v", "---------------");
  for (size_t i = 0; i < n; i++) {
    g_string_append_printf(want_csv, "%s\n", exact[i]);
    g_string_append_printf(want_text, "%15s\n", human[i]);
    ck_assert_double_eq(strtod(exact[i], NULL), v[i]);
  }
  char *s;
  ck_assert_int_eq(pd_table_format(out, PD_FORMAT_CSV, &s, NULL), PD_OK);
  ck_assert_str_eq(s, want_csv->str);
  pd_free(s);
  ck_assert_int_eq(pd_table_format(out, PD_FORMAT_TEXT, &s, NULL), PD_OK);
  ck_assert_str_eq(s, want_text->str);
  pd_free(s);
  g_string_free(want_csv, TRUE);
  g_string_free(want_text, TRUE);
  pd_table_free(out);
}
END_TEST

START_TEST(nan_is_null) {
  pd_table *t = pd__table_new("x");
  size_t c = pd__table_add_col(t, "v", PD_TYPE_DOUBLE);
  size_t r = pd__table_add_row(t);
  pd__table_set_double(t, r, c, 0.0 / 0.0);
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  ck_assert(pd_table_is_null(out, 0, 0));
  pd_table_free(out);
}
END_TEST

START_TEST(errors_thread_local) {
  pd_clear_error();
  ck_assert_str_eq(pd_last_error(), "");
  ck_assert_int_eq(pd__error(PD_ERR_IO, "x %d", 7), PD_ERR_IO);
  ck_assert_str_eq(pd_last_error(), "x 7");
  pd__error_prefix("ctx");
  ck_assert_str_eq(pd_last_error(), "ctx: x 7");
  ck_assert_str_eq(pd_status_str(PD_ERR_LOCKED), "PD_ERR_LOCKED: store is locked by another writer");
  ck_assert_int_eq(pd_version_number(), PD_VERSION_NUMBER);
  ck_assert_str_eq(pd_version_string(), PD_VERSION_STRING);
}
END_TEST

int main(void) {
  Suite *s = suite_create("table");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, accessors);
  tcase_add_test(tc, csv_quoting);
  tcase_add_test(tc, json_nulls);
  tcase_add_test(tc, text_alignment);
  tcase_add_test(tc, double_text);
  tcase_add_test(tc, nan_is_null);
  tcase_add_test(tc, errors_thread_local);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
