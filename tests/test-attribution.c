/* Attribution credit split: hand-worked numbers and conservation. */
#include <check.h>
#include <stdlib.h>

#include "privdomain/attribution.h"

#define D INT64_C(86400000)

static void split(pd_attribution_model m, size_t n, const int64_t *t, int64_t conv, int64_t v,
                  const pd_attribution_params *p, int64_t *c) {
  ck_assert_int_eq(pd_attribution_split(m, n, t, conv, v, p, c), PD_OK);
}

START_TEST(rule_models) {
  int64_t t[4] = {0, D, 2 * D, 3 * D}, c[4];
  split(PD_ATTRIBUTION_FIRST, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 1000 && c[1] == 0 && c[2] == 0 && c[3] == 0);
  split(PD_ATTRIBUTION_LAST, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 0 && c[3] == 1000);
  /* 1003 / 4 = 250.75 each: floors 250, three remainder units to the earliest (ties). */
  split(PD_ATTRIBUTION_LINEAR, 4, NULL, 0, 1003, NULL, c);
  ck_assert(c[0] == 251 && c[1] == 251 && c[2] == 251 && c[3] == 250);
  /* 40/20/40 over 4 touches: 400, 100, 100, 400 of 1000. */
  split(PD_ATTRIBUTION_POSITION, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 400 && c[1] == 100 && c[2] == 100 && c[3] == 400);
  /* Two touches: the middle 20% goes half and half: 500/500. */
  split(PD_ATTRIBUTION_POSITION, 2, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 500 && c[1] == 500);
  /* Decay, half-life one day, conversion at day 3: weights 1/8, 1/4, 1/2, 1 (sum 15/8):
   * 1500 -> 100, 200, 400, 800. */
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.half_life_ms = D;
  split(PD_ATTRIBUTION_DECAY, 4, t, 3 * D, 1500, &p, c);
  ck_assert(c[0] == 100 && c[1] == 200 && c[2] == 400 && c[3] == 800);
}
END_TEST

START_TEST(conservation) {
  int64_t t[7], c[7];
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.half_life_ms = D / 3;
  p.first_permille = 333;
  p.last_permille = 111;
  for (size_t n = 1; n <= 7; n++) {
    for (size_t i = 0; i < n; i++) t[i] = (int64_t)(i * i) * D / 5;
    for (int m = PD_ATTRIBUTION_FIRST; m <= PD_ATTRIBUTION_POSITION; m++) {
      for (int64_t v = 0; v < 50; v += 7) {
        split((pd_attribution_model)m, n, t, 9 * D, v, &p, c);
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
          ck_assert_int_ge(c[i], 0);
          s += c[i];
        }
        ck_assert_int_eq(s, v);
      }
    }
  }
}
END_TEST

START_TEST(invalid) {
  int64_t c[2];
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_LINEAR, 0, NULL, 0, 1, NULL, c), PD_ERR_INVALID);
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_LINEAR, 2, NULL, 0, -1, NULL, c), PD_ERR_INVALID);
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_DECAY, 2, NULL, 0, 1, NULL, c), PD_ERR_INVALID);
  p.first_permille = 700;
  p.last_permille = 400;
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_POSITION, 2, NULL, 0, 1, &p, c), PD_ERR_INVALID);
}
END_TEST

int main(void) {
  Suite *s = suite_create("attribution");
  TCase *tc = tcase_create("split");
  tcase_add_test(tc, rule_models);
  tcase_add_test(tc, conservation);
  tcase_add_test(tc, invalid);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
