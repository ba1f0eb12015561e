/* Time zones and calendar periods. */
#include <check.h>
#include <stdlib.h>

#include "tz.h"

#define H (INT64_C(3600000))
/* 2024-03-31 01:00:00 UTC: Europe/Berlin springs from +1 to +2. */
#define BERLIN_SPRING INT64_C(1711846800000)
/* 2024-10-27 01:00:00 UTC: Europe/Berlin falls back from +2 to +1. */
#define BERLIN_FALL INT64_C(1729990800000)

static pd__tz *open_tz(const char *name) {
  pd__tz *tz = NULL;
  ck_assert_int_eq(pd__tz_open(name, &tz), PD_OK);
  return tz;
}

START_TEST(shanghai) {
  pd__tz *tz = open_tz("Asia/Shanghai");
  ck_assert_int_eq(pd__tz_offset_ms(tz, BERLIN_SPRING), 8 * H);
  /* 2024-03-01 15:59:59.999 UTC is 23:59:59.999 local on March 1; one ms later is March 2. */
  int64_t t = pd__days_from_civil(2024, 3, 1) * PD_MS_PER_DAY + 16 * H - 1;
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_DAY, t), pd__days_from_civil(2024, 3, 1));
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_DAY, t + 1), pd__days_from_civil(2024, 3, 2));
  /* The first of the month in Shanghai starts at 16:00 UTC the day before. */
  int64_t m = pd__period_index(tz, PD_PERIOD_MONTH, t + 1);
  ck_assert_int_eq(pd__period_start_utc(tz, PD_PERIOD_MONTH, m), pd__days_from_civil(2024, 2, 29) * PD_MS_PER_DAY + 16 * H);
  char buf[32];
  pd__period_label(PD_PERIOD_MONTH, m, buf, sizeof buf);
  ck_assert_str_eq(buf, "2024-03");
  pd__tz_free(tz);
}
END_TEST

START_TEST(berlin_dst) {
  pd__tz *tz = open_tz("Europe/Berlin");
  ck_assert_int_eq(pd__tz_offset_ms(tz, BERLIN_SPRING - 1), 1 * H);
  ck_assert_int_eq(pd__tz_offset_ms(tz, BERLIN_SPRING), 2 * H);
  ck_assert_int_eq(pd__tz_offset_ms(tz, BERLIN_FALL - 1), 2 * H);
  ck_assert_int_eq(pd__tz_offset_ms(tz, BERLIN_FALL), 1 * H);
  /* March 31 has 23 hours, October 27 has 25: day starts are exact. */
  int64_t d31 = pd__days_from_civil(2024, 3, 31);
  ck_assert_int_eq(pd__period_start_utc(tz, PD_PERIOD_DAY, d31 + 1) - pd__period_start_utc(tz, PD_PERIOD_DAY, d31), 23 * H);
  int64_t d27 = pd__days_from_civil(2024, 10, 27);
  ck_assert_int_eq(pd__period_start_utc(tz, PD_PERIOD_DAY, d27 + 1) - pd__period_start_utc(tz, PD_PERIOD_DAY, d27), 25 * H);
  /* Wall time 02:30 on March 31 does not exist: read with the offset before the gap (+1). */
  ck_assert_int_eq(pd__tz_to_utc(tz, d31 * PD_MS_PER_DAY + 2 * H + H / 2), BERLIN_SPRING + H / 2);
  /* Wall time 02:30 on October 27 happens twice: the earlier instant wins (+2). */
  ck_assert_int_eq(pd__tz_to_utc(tz, d27 * PD_MS_PER_DAY + 2 * H + H / 2), BERLIN_FALL - H / 2);
  /* Every hour of the 25-hour day maps into that day exactly once. */
  for (int64_t t = pd__period_start_utc(tz, PD_PERIOD_DAY, d27); t < pd__period_start_utc(tz, PD_PERIOD_DAY, d27 + 1); t += H)
    ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_DAY, t), d27);
  pd__tz_free(tz);
}
END_TEST

START_TEST(weeks) {
  pd__tz *tz = open_tz(NULL);
  char buf[32];
  /* 2024-01-01 is a Monday, ISO week 2024-W01; 2023-01-01 (Sunday) is in 2022-W52. */
  int64_t w = pd__period_index(tz, PD_PERIOD_WEEK, pd__days_from_civil(2024, 1, 1) * PD_MS_PER_DAY);
  pd__period_label(PD_PERIOD_WEEK, w, buf, sizeof buf);
  ck_assert_str_eq(buf, "2024-W01");
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_WEEK, pd__days_from_civil(2023, 12, 31) * PD_MS_PER_DAY), w - 1);
  pd__period_label(PD_PERIOD_WEEK, pd__period_index(tz, PD_PERIOD_WEEK, pd__days_from_civil(2023, 1, 1) * PD_MS_PER_DAY), buf, sizeof buf);
  ck_assert_str_eq(buf, "2022-W52");
  pd__period_label(PD_PERIOD_WEEK, pd__period_index(tz, PD_PERIOD_WEEK, pd__days_from_civil(2020, 12, 31) * PD_MS_PER_DAY), buf, sizeof buf);
  ck_assert_str_eq(buf, "2020-W53");
  /* Sunday weeks: 2023-12-31 (Sunday) starts a week that holds 2024-01-06 (Saturday). */
  int64_t s = pd__period_index(tz, PD_PERIOD_WEEK_SUNDAY, pd__days_from_civil(2023, 12, 31) * PD_MS_PER_DAY);
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_WEEK_SUNDAY, pd__days_from_civil(2024, 1, 6) * PD_MS_PER_DAY), s);
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_WEEK_SUNDAY, pd__days_from_civil(2024, 1, 7) * PD_MS_PER_DAY), s + 1);
  pd__period_label(PD_PERIOD_WEEK_SUNDAY, s, buf, sizeof buf);
  ck_assert_str_eq(buf, "2023-12-31");
  /* Before 1970 indexes go negative and still floor correctly. */
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_DAY, -1), -1);
  ck_assert_int_eq(pd__period_index(tz, PD_PERIOD_MONTH, -1), -1);
  pd__period_label(PD_PERIOD_MONTH, -1, buf, sizeof buf);
  ck_assert_str_eq(buf, "1969-12");
  pd__tz_free(tz);
}
END_TEST

START_TEST(civil_roundtrip) {
  for (int64_t d = -800000; d < 800000; d += 17) {
    int64_t y;
    unsigned m, dd;
    pd__civil_from_days(d, &y, &m, &dd);
    ck_assert_int_eq(pd__days_from_civil(y, m, dd), d);
  }
}
END_TEST

START_TEST(unknown_zone) {
  pd__tz *tz = NULL;
  ck_assert_int_eq(pd__tz_open("Mars/Olympus_Mons", &tz), PD_ERR_INVALID);
  ck_assert_ptr_null(tz);
}
END_TEST

int main(void) {
  Suite *s = suite_create("tz");
  TCase *tc = tcase_create("tz");
  tcase_add_test(tc, shanghai);
  tcase_add_test(tc, berlin_dst);
  tcase_add_test(tc, weeks);
  tcase_add_test(tc, civil_roundtrip);
  tcase_add_test(tc, unknown_zone);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
