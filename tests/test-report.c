/* The HTML report on a small hand-built store: every section present,
 * well-formed (the page is also valid XML), self-contained, hand-worked
 * activity figures in two time zones and the touchpoint scorecard, options, errors. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)
/* 2024-03-04 00:00 in Asia/Shanghai (a Monday, ISO week 10) */
#define T0 INT64_C(1709481600000)

static char *dir;
static pd_store *store;

static void append(pd_writer *w, uint32_t user, uint32_t type, int64_t t, uint32_t tp, int64_t amount) {
  pd_event e = {t, user, type, tp, PD_NONE, amount};
  ck_assert_int_eq(pd_writer_append(w, &e), PD_OK);
}

/* u1: acquire via 企业微信客服 (W10), purchase 100.00 (W10), purchase 50.00
 *     and refund 20.00 (W11);
 * u2: acquire via the ad (W10), visit in W12;
 * u3: no touchpoint, visit and purchase 3.00 in W11;
 * u4: acquire via 企业微信客服 at Monday 00:30 Shanghai = Sunday 16:30 UTC
 *     (W10 in Shanghai, W09 in UTC). */
static void setup(void) {
  dir = g_dir_make_tmp("pd-report-XXXXXX", NULL);
  ck_assert_ptr_nonnull(dir);
  char *path = g_build_filename(dir, "shop", NULL);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.create = 1;
  ck_assert_int_eq(pd_store_open(&store, path, &o), PD_OK);
  g_free(path);
}

static void fill(void) {
  pd_writer *w;
  ck_assert_int_eq(pd_writer_open(&w, store), PD_OK);
  pd_touchpoint_def wecom = PD_TOUCHPOINT_DEF_INIT, ad = PD_TOUCHPOINT_DEF_INIT;
  wecom.name = "企业微信客服";
  wecom.domain = PD_DOMAIN_PRIVATE;
  wecom.carrier = PD_CARRIER_WECOM;
  wecom.daily_spend = 5000;
  ad.name = "抖音<广告>&";
  ad.domain = PD_DOMAIN_PUBLIC;
  ad.carrier = PD_CARRIER_FEED_AD;
  ad.daily_spend = 200000;
  uint32_t tp0, tp1, u[5];
  ck_assert_int_eq(pd_writer_touchpoint(w, &wecom, &tp0), PD_OK);
  ck_assert_int_eq(pd_writer_touchpoint(w, &ad, &tp1), PD_OK);
  for (int i = 1; i <= 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "u%d", i);
    ck_assert_int_eq(pd_writer_user(w, name, &u[i]), PD_OK);
  }
  append(w, u[1], PD_EV_ACQUIRE, T0 + HOUR, tp0, 0);
  append(w, u[1], PD_EV_PURCHASE, T0 + 2 * DAY, tp0, 10000);
  append(w, u[1], PD_EV_PURCHASE, T0 + 8 * DAY, PD_NONE, 5000);
  append(w, u[1], PD_EV_REFUND, T0 + 9 * DAY, PD_NONE, 2000);
  append(w, u[2], PD_EV_ACQUIRE, T0 + 3 * DAY, tp1, 0);
  append(w, u[2], PD_EV_VISIT, T0 + 15 * DAY, PD_NONE, 0);
  append(w, u[3], PD_EV_VISIT, T0 + 7 * DAY + HOUR, PD_NONE, 0);
  append(w, u[3], PD_EV_PURCHASE, T0 + 7 * DAY + 2 * HOUR, PD_NONE, 300);
  append(w, u[4], PD_EV_ACQUIRE, T0 + HOUR / 2, tp0, 0);
  ck_assert_int_eq(pd_writer_commit(w), PD_OK);
  pd_writer_close(w);
}

static void teardown(void) {
  pd_store_close(store);
  store = NULL;
  char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  g_free(cmd);
  g_free(dir);
}

static char *report(const char *tz, const char *sections) {
  pd_report_options o = PD_REPORT_OPTIONS_INIT;
  o.tz = tz;
  o.sections = sections;
  o.threads = 2;
  o.title = "周报 <test> & \"co\"";
  char *html = NULL;
  pd_status st = pd_report_html(store, &o, &html);
  ck_assert_msg(st == PD_OK, "pd_report_html: %s", pd_last_error());
  return html;
}

/* The page parses as XML (it is written as polyglot markup); returns the
 * ids of its <section> elements joined by ','. */
static void on_start(GMarkupParseContext *ctx, const char *name, const char **an, const char **av, gpointer ud,
                     GError **err) {
  (void)ctx;
  (void)err;
  GString *ids = ud;
  if (strcmp(name, "section") != 0) return;
  for (int i = 0; an[i]; i++)
    if (strcmp(an[i], "id") == 0) g_string_append_printf(ids, "%s,", av[i]);
}

static GString *parse_page(const char *html) {
  ck_assert(g_str_has_prefix(html, "<!DOCTYPE html>\n"));
  GMarkupParser parser = {on_start, NULL, NULL, NULL, NULL};
  GString *ids = g_string_new("");
  GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, ids, NULL);
  GError *err = NULL;
  const char *body = html + strlen("<!DOCTYPE html>\n");
  gboolean ok = g_markup_parse_context_parse(ctx, body, -1, &err) && g_markup_parse_context_end_parse(ctx, &err);
  ck_assert_msg(ok, "report is not well formed: %s", err ? err->message : "?");
  g_markup_parse_context_free(ctx);
  return ids;
}

static void assert_self_contained(const char *html) {
  ck_assert(strstr(html, "<script") == NULL);
  ck_assert(strstr(html, "@import") == NULL);
  ck_assert(strstr(html, "url(") == NULL);
  ck_assert(strstr(html, "src=") == NULL);
  /* the only URL is the SVG namespace */
  for (const char *p = html; (p = strstr(p, "http")); p++)
    ck_assert_msg(g_str_has_prefix(p, "http://www.w3.org/2000/svg"), "external reference: %.60s", p);
}

START_TEST(every_section_present) {
  fill();
  char *html = report("Asia/Shanghai", NULL);
  GString *ids = parse_page(html);
  GString *want = g_string_new("");
  for (size_t i = 0; pd_report_section_id(i); i++) g_string_append_printf(want, "%s,", pd_report_section_id(i));
  ck_assert_str_eq(ids->str, want->str);
  ck_assert(strstr(want->str, "overview,") != NULL);
  ck_assert_ptr_null(pd_report_section_id(1000));
  assert_self_contained(html);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  ck_assert(strstr(html, "<title>周报 &lt;test&gt; &amp; &quot;co&quot;</title>") != NULL);
  ck_assert(strstr(html, "抖音&lt;广告&gt;&amp;") != NULL); /* Chinese names end to end, escaped */
  ck_assert(strstr(html, "Asia/Shanghai") != NULL);
  g_string_free(ids, TRUE);
  g_string_free(want, TRUE);
  pd_free(html);
}
END_TEST

#define NUM "<td class=\"pd-num\">"
#define ROW(p, a, n, e, r) "<tr><td>" p "</td>" NUM a "</td>" NUM n "</td>" NUM e "</td>" NUM r "</td></tr>"

START_TEST(activity_figures) {
  fill();
  char *html = report("Asia/Shanghai", "activity");
  /* week, active, new, events, net revenue (worked by hand above) */
  ck_assert(strstr(html, ROW("2024-W10", "3", "3", "4", "\xC2\xA5" "100.00")) != NULL);
  ck_assert(strstr(html, ROW("2024-W11", "2", "1", "4", "\xC2\xA5" "33.00")) != NULL);
  ck_assert(strstr(html, ROW("2024-W12", "1", "0", "1", "\xC2\xA5" "0.00")) != NULL);
  ck_assert(strstr(html, "2024-W09") == NULL);
  ck_assert(strstr(html, "id=\"overview\"") == NULL); /* only the requested section */
  pd_free(html);
  /* in UTC every boundary moves 8 hours later: u1's and u4's first events
   * fall on Sunday (W09) and u3's Sunday-evening visit and purchase into W10 */
  html = report(NULL, "activity");
  ck_assert(strstr(html, ROW("2024-W09", "2", "2", "2", "\xC2\xA5" "0.00")) != NULL);
  ck_assert(strstr(html, ROW("2024-W10", "3", "2", "4", "\xC2\xA5" "103.00")) != NULL);
  ck_assert(strstr(html, ROW("2024-W11", "1", "0", "2", "\xC2\xA5" "30.00")) != NULL);
  pd_free(html);
}
END_TEST

START_TEST(touchpoint_figures) {
  fill();
  char *html = report("Asia/Shanghai", "touchpoints");
  /* The scorecard over the whole store, read in Shanghai: the first event (u4, 03-04 00:30)
   * to the last (u2's visit, 03-19) is 16 local days.
   * 企业微信客服: u1 and u4 acquired; spend 50.00 x 16 = 800.00, CAC 400.00; at 7 days both
   * eligible, u1 back (refund 9 days on): 50%; nobody 30 days old; net 100+50-20 = 130.00,
   * LTV 65.00, LTV:CAC 65/400 = 0.16; no invites: K 0; purchases 1 of 2 at a private
   * touchpoint; activity with a touchpoint all at WeCom: connection 100%, score 100% */
  ck_assert(strstr(html, "<tr><td>企业微信客服</td><td>private</td><td>wecom</td>" NUM "2</td>" NUM
                         "\xC2\xA5" "800.00</td>" NUM "\xC2\xA5" "400.00</td>" NUM "50.0%</td>" NUM
                         "\xE2\x80\x93</td>" NUM "\xE2\x80\x93</td>" NUM "\xC2\xA5" "65.00</td>" NUM
                         "0.16</td>" NUM "0.00</td>" NUM "50.0%</td>" NUM "\xE2\x80\x93</td>" NUM
                         "100.0%</td>" NUM "\xE2\x80\x93</td>" NUM "100.0%</td><td>strong</td></tr>") != NULL);
  /* the ad: u2, 2,000.00 x 16 days; back 12 days on: 100%; no revenue; its only activity
   * with a touchpoint is the acquire at the ad: connection 0, weak */
  ck_assert(strstr(html, "<tr><td>抖音&lt;广告&gt;&amp;</td><td>public</td><td>feed_ad</td>" NUM "1</td>" NUM
                         "\xC2\xA5" "32,000.00</td>" NUM "\xC2\xA5" "32,000.00</td>" NUM "100.0%</td>") != NULL);
  ck_assert(strstr(html, "0.0%</td><td>weak</td></tr>") != NULL);
  /* u3 has no acquire event: in no row */
  ck_assert(strstr(html, "(none)") == NULL);
  ck_assert(strstr(html, "spend counted over 16 days") != NULL);
  ck_assert(strstr(html, "Accessibility, connection, endurance") != NULL);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

START_TEST(funnel_section) {
  fill();
  char *html = report("Asia/Shanghai", "funnel");
  /* u1, u2 and u4 acquire; nobody activates, so the funnel stops at step 1 */
  ck_assert(strstr(html, "<tr><td>Acquired 获客</td>" NUM "3</td>") != NULL);
  ck_assert(strstr(html, "<tr><td>Activated 激活</td>" NUM "0</td>" NUM "0.0%</td>" NUM "0.0%</td>" NUM "3</td>") != NULL);
  ck_assert(strstr(html, "3 (100.0%)") != NULL); /* the funnel chart */
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

#define KPI(label, value, note)                                                                        \
  "<div class=\"pd-kpi\"><div class=\"pd-label\">" label "</div><div class=\"pd-value\">" value                \
  "</div><div class=\"pd-sub\">" note "</div></div>"

START_TEST(stages_section) {
  fill();
  char *html = report("Asia/Shanghai", "stages");
  /* the data ends Tuesday of W12 (Shanghai), so W11 is the latest complete
   * week: new u3; active u1, u3 (u1 also in W10); purchases 50.00 + 3.00,
   * refund 20.00. The week before (W10): new u1, u2, u4, revenue 100.00. */
  ck_assert(strstr(html, "Week 2024-W11 (Asia/Shanghai), compared with the week before.") != NULL);
  ck_assert(strstr(html, KPI("New users", "1", "\xE2\x96\xBC -66.7% vs 3")) != NULL);
  ck_assert(strstr(html, KPI("Revenue (gross)", "\xC2\xA5" "53.00", "\xE2\x96\xBC -47.0% vs \xC2\xA5" "100.00")) != NULL);
  ck_assert(strstr(html, KPI("Returning active users", "50.0%", "\xE2\x96\xB2 +50.0 pts vs 0.0%")) != NULL);
  ck_assert(strstr(html, KPI("ARPU", "\xC2\xA5" "26.50", "\xE2\x96\xBC -20.5% vs \xC2\xA5" "33.33")) != NULL);
  ck_assert(strstr(html, KPI("Refunds", "\xC2\xA5" "20.00", "period before: \xC2\xA5" "0.00")) != NULL);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

START_TEST(referral_section) {
  fill();
  /* a chain r1 -> r2 -> r3 -> r4: r4 is at depth 3, beyond the cap of 2 */
  pd_writer *w;
  ck_assert_int_eq(pd_writer_open(&w, store), PD_OK);
  uint32_t r[5];
  for (int i = 1; i <= 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "r%d", i);
    ck_assert_int_eq(pd_writer_user(w, name, &r[i]), PD_OK);
  }
  append(w, r[1], PD_EV_ACQUIRE, T0 + DAY, PD_NONE, 0);
  for (int i = 2; i <= 4; i++) {
    pd_event e = {T0 + i * DAY, r[i], PD_EV_REFERRAL_SIGNUP, PD_NONE, r[i - 1], 0};
    ck_assert_int_eq(pd_writer_append(w, &e), PD_OK);
  }
  ck_assert_int_eq(pd_writer_commit(w), PD_OK);
  pd_writer_close(w);
  char *html = report(NULL, "referral");
  ck_assert(strstr(html, "<div class=\"pd-label\">Referred users</div><div class=\"pd-value\">3</div>") != NULL);
  ck_assert(strstr(html, "<div class=\"pd-label\">Deepest referral level</div><div class=\"pd-value\">3</div>") != NULL);
  ck_assert(strstr(html, KPI("Users beyond the cap", "1", "review: platform rules forbid these chains")) != NULL);
  /* depth 3 drawn in the alert colour, depth 2 not */
  ck_assert(strstr(html, "fill=\"#d62728\"><title>3: 1</title>") != NULL);
  ck_assert(strstr(html, "fill=\"#4e79a7\"><title>2: 1</title>") != NULL);
  ck_assert(strstr(html, "compliance cap: depth 2") != NULL); /* the tree chart */
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

#define TD(x) "<td class=\"pd-num\">" x "</td>"

START_TEST(rfm_section) {
  fill();
  char *html = report(NULL, "rfm");
  /* UTC days. u1: purchase days Mar 5 and Mar 11 (the Mar 12 refund of
   * 20.00 reduces Mar 11), F = 2, M = 130.00; u3: one purchase day Mar 10,
   * F = 1, M = 3.00. u1's last purchase is one day more recent than u3's
   * whatever day the RFM summary ends on (rfm.h decides), so u1 is recent
   * and u3 is not; means F 1.5, M 66.50: u1 is important value, u3 general
   * win back. */
  ck_assert(strstr(html, "<tr><td>\xE9\x87\x8D\xE8\xA6\x81\xE4\xBB\xB7\xE5\x80\xBC Important value</td>" TD("1")
                         TD("50.0%") TD("\xC2\xA5" "130.00") TD("97.7%")) != NULL);
  ck_assert(strstr(html, "<tr><td>\xE4\xB8\x80\xE8\x88\xAC\xE6\x8C\xBD\xE7\x95\x99 General win back</td>" TD("1")
                         TD("50.0%") TD("\xC2\xA5" "3.00") TD("2.3%")) != NULL);
  ck_assert(strstr(html, TD("2.00") "<td>keep close") != NULL);   /* u1's purchase days */
  ck_assert(strstr(html, TD("1.00") "<td>low priority") != NULL); /* u3's */
  ck_assert(strstr(html, "means over 2 paying customers: last purchase within ") != NULL);
  ck_assert(strstr(html, " days, 1.50 purchase days, net revenue \xC2\xA5" "66.50") != NULL);
  pd_free(html);
  /* too few customers for a CLV model: said, not failed */
  html = report(NULL, "clv");
  ck_assert(strstr(html, "2 paying customers: too few to fit a CLV model") != NULL);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

START_TEST(retention_section) {
  fill();
  char *html = report("Asia/Shanghai", "retention,lifecycle");
  /* Shanghai weeks. Cohort W10: u1, u2, u4 acquire (u3 never does).
   * k 0: u1's purchase after its acquire, 1 of 3; k 1 (W11): u1 again;
   * k 2 (W12): u2's visit, but the data ends on Tuesday of W12, so that
   * week is not over and the cell stays blank. */
  ck_assert(strstr(html, "<title>2024-W10 \xC2\xB7 0: 33%</title>") != NULL);
  ck_assert(strstr(html, "<title>2024-W10 \xC2\xB7 1: 33%</title>") != NULL);
  ck_assert(strstr(html, "<title>2024-W10 \xC2\xB7 2:") == NULL);
  ck_assert(strstr(html, KPI("Back in week 1", "33.3%", "average over 1 cohorts, weighted by size")) != NULL);
  /* cumulative net revenue per cohort user: k 0 100.00 / 3, k 1 + 30.00 */
  ck_assert(strstr(html, "<title>0 \xC2\xB7 2024-W10: \xC2\xA5" "33</title>") != NULL);
  ck_assert(strstr(html, "<title>1 \xC2\xB7 2024-W10: \xC2\xA5" "43</title>") != NULL);
  /* lifecycle: W10 u1, u2, u4 new; W11 u1 returning, u3 new, u2 and u4
   * dormant; W12 (partial, left out of the headline) u2 resurrecting */
  ck_assert(strstr(html, "Week 2024-W11 (Asia/Shanghai), the latest complete one.") != NULL);
  ck_assert(strstr(html, "<div class=\"pd-label\">Active users</div><div class=\"pd-value\">2</div>") != NULL);
  ck_assert(strstr(html, KPI("New", "1", "first active this period")) != NULL);
  ck_assert(strstr(html, KPI("Returning", "1", "also active the period before")) != NULL);
  ck_assert(strstr(html, KPI("Resurrecting", "0", "back after a gap")) != NULL);
  ck_assert(strstr(html, KPI("Gone dormant", "2", "active the period before, not now")) != NULL);
  ck_assert(strstr(html, KPI("Quick ratio", "0.50", "(new + resurrecting) / dormant; above 1 the pool grows")) != NULL);
  ck_assert(strstr(html, "<title>2024-W12 \xC2\xB7 resurrecting") == NULL); /* the partial week: not drawn */
  ck_assert(strstr(html, "<title>2024-W11 \xC2\xB7 gone dormant: -2</title>") != NULL);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  pd_free(html);
}
END_TEST

START_TEST(empty_store) {
  char *html = report(NULL, NULL);
  GString *ids = parse_page(html);
  ck_assert(strstr(ids->str, "activity,") != NULL);
  ck_assert(strstr(html, "no data") != NULL);
  ck_assert(strstr(html, "class=\"pd-error\"") == NULL);
  g_string_free(ids, TRUE);
  pd_free(html);
}
END_TEST

START_TEST(options_and_errors) {
  fill();
  pd_report_options o = PD_REPORT_OPTIONS_INIT;
  char *html = (char *)1;
  o.sections = "overview,nope";
  ck_assert_int_eq(pd_report_html(store, &o, &html), PD_ERR_INVALID);
  ck_assert_ptr_null(html);
  ck_assert(strstr(pd_last_error(), "nope") != NULL);
  o.sections = NULL;
  o.tz = "Mars/Olympus";
  ck_assert_int_eq(pd_report_html(store, &o, &html), PD_ERR_INVALID);
  o.tz = NULL;
  o.period = (pd_period)42;
  ck_assert_int_eq(pd_report_html(store, &o, &html), PD_ERR_INVALID);
  ck_assert_int_eq(pd_report_html(NULL, NULL, &html), PD_ERR_INVALID);
  /* NULL options: defaults */
  ck_assert_int_eq(pd_report_html(store, NULL, &html), PD_OK);
  ck_assert(strstr(html, "Private-domain report") != NULL);
  pd_free(html);
  /* write: to a file, atomically; an impossible path is an I/O error */
  char *path = g_build_filename(dir, "report.html", NULL);
  ck_assert_int_eq(pd_report_write(store, NULL, path), PD_OK);
  char *text;
  gsize len;
  ck_assert(g_file_get_contents(path, &text, &len, NULL));
  ck_assert(g_str_has_prefix(text, "<!DOCTYPE html>"));
  ck_assert(g_str_has_suffix(text, "</html>\n"));
  g_free(text);
  g_free(path);
  ck_assert_int_eq(pd_report_write(store, NULL, "/nonexistent-dir/r.html"), PD_ERR_IO);
  /* a monthly report in RARRA order says so */
  o.period = PD_PERIOD_MONTH;
  o.rarra = 1;
  ck_assert_int_eq(pd_report_html(store, &o, &html), PD_OK);
  ck_assert(strstr(html, "RARRA") != NULL);
  ck_assert(strstr(html, "<td>2024-03</td>") != NULL);
  pd_free(html);
}
END_TEST

int main(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("report");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, every_section_present);
  tcase_add_test(tc, activity_figures);
  tcase_add_test(tc, touchpoint_figures);
  tcase_add_test(tc, funnel_section);
  tcase_add_test(tc, stages_section);
  tcase_add_test(tc, referral_section);
  tcase_add_test(tc, rfm_section);
  tcase_add_test(tc, retention_section);
  tcase_add_test(tc, empty_store);
  tcase_add_test(tc, options_and_errors);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
