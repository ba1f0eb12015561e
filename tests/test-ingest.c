/* Ingest: timestamp parsing, CSV/TSV tokenizer, JSON Lines reader, gzip
 * source; and (with a store) the catalogue of malformed inputs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "csv.h"
#include "jsonl.h"
#include "source.h"
#include "timeparse.h"

#define H INT64_C(3600000)
#define MAR1_2024 INT64_C(1709251200000) /* 2024-03-01T00:00:00Z: 1704067200 (2024-01-01) + 60 days */

static char tmpdir[256];

static void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pd-test-ingest-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* ---- timestamps ------------------------------------------------------ */

static int64_t ts_ok(const char *text, const char *tz) {
  int64_t v = -1;
  pd_status st = pd_time_parse(text, strlen(text), tz, &v);
  ck_assert_msg(st == PD_OK, "%s: %s", text, pd_last_error());
  return v;
}

static void ts_bad(const char *text, const char *message) {
  int64_t v = 42;
  ck_assert_int_eq(pd_time_parse(text, strlen(text), NULL, &v), PD_ERR_PARSE);
  ck_assert_str_eq(pd_last_error(), message);
  ck_assert_int_eq(v, 42);
}

START_TEST(time_formats) {
  ck_assert_int_eq(ts_ok("2024-03-01T00:00:00Z", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01t00:00:00z", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01T08:00:00+08:00", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01T08:00:00+0800", "Europe/Berlin"), MAR1_2024); /* offset beats zone */
  ck_assert_int_eq(ts_ok("2024-03-01T08:00+08", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-02-29T18:30:00-05:30", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01 00:00:00", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01 00:00", "UTC"), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-02-29 23:59:59.999", NULL), MAR1_2024 - 1);
  ck_assert_int_eq(ts_ok("2024-03-01T08:00:00.5+08:00", NULL), MAR1_2024 + 500);
  ck_assert_int_eq(ts_ok("2024-03-01T00:00:00,25Z", NULL), MAR1_2024 + 250);
  ck_assert_int_eq(ts_ok("2024-03-01T00:00:00.123456789Z", NULL), MAR1_2024 + 123); /* truncated to ms */
  ck_assert_int_eq(ts_ok("1709251200", NULL), MAR1_2024);
  ck_assert_int_eq(ts_ok("1709251200123", NULL), MAR1_2024 + 123);
  ck_assert_int_eq(ts_ok("0", NULL), 0);
  ck_assert_int_eq(ts_ok("-86400", NULL), -PD_MS_PER_DAY);
  ck_assert_int_eq(ts_ok("1970-01-01", NULL), 0);
  ck_assert_int_eq(ts_ok("1969-12-31 23:59:59", NULL), -1000);
  /* Asia/Shanghai is UTC+8 all year (no DST since 1991). */
  ck_assert_int_eq(ts_ok("2024-03-01 08:00:00", "Asia/Shanghai"), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01", "Asia/Shanghai"), MAR1_2024 - 8 * H);
  ck_assert_int_eq(ts_ok("2024-07-15 12:34:56", "Asia/Shanghai"), ts_ok("2024-07-15T04:34:56Z", NULL));
  ck_assert_int_eq(ts_ok("2024-03-01T08:00:00", "Asia/Shanghai"), MAR1_2024);
  ck_assert_int_eq(ts_ok("2024-03-01T08:00:00Z", "Asia/Shanghai"), MAR1_2024 + 8 * H);
}
END_TEST

START_TEST(time_dst) {
  /* 2024-03-31 01:00Z Berlin springs +1 -> +2; 02:30 local does not exist
   * and reads with the offset before the gap. */
  const int64_t spring = INT64_C(1711846800000), fall = INT64_C(1729990800000);
  ck_assert_int_eq(ts_ok("2024-03-31 02:30:00", "Europe/Berlin"), spring + H / 2);
  ck_assert_int_eq(ts_ok("2024-10-27 02:30:00", "Europe/Berlin"), fall - H / 2); /* overlap: earlier */
  /* The date cache must not carry one offset across a transition day. */
  pd__tz *tz = NULL;
  ck_assert_int_eq(pd__tz_open("Europe/Berlin", &tz), PD_OK);
  pd__timeparse tp;
  pd__timeparse_init(&tp, tz);
  int64_t v;
  const char *a = "2024-03-31 01:30:00", *b = "2024-03-31 03:30:00", *c = "2024-04-01 03:30:00";
  ck_assert_int_eq(pd__timeparse_run(&tp, a, strlen(a), &v), PD_OK);
  ck_assert_int_eq(v, spring + H / 2 - H);
  ck_assert_int_eq(pd__timeparse_run(&tp, b, strlen(b), &v), PD_OK);
  ck_assert_int_eq(v, spring + H / 2);
  ck_assert_int_eq(pd__timeparse_run(&tp, c, strlen(c), &v), PD_OK);
  ck_assert_int_eq(v, spring + H / 2 + PD_MS_PER_DAY);
  pd__tz_free(tz);
}
END_TEST

/* Against the C library: format random instants with gmtime_r/localtime_r,
 * parse them back. */
START_TEST(time_vs_libc) {
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  pd__tz *tz = NULL;
  ck_assert_int_eq(pd__tz_open("Europe/Berlin", &tz), PD_OK);
  pd__timeparse utc, local;
  pd__timeparse_init(&utc, NULL);
  pd__timeparse_init(&local, tz);
  uint64_t x = 88172645463325252u;
  time_t t = 946684800; /* 2000-01-01 */
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t += (time_t)(x % 20000); /* walks forward through ~60 years in small steps, so the date cache gets hits */
    struct tm g, l;
    char s[64];
    int64_t v;
    gmtime_r(&t, &g);
    size_t n = strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &g);
    ck_assert_int_eq(pd__timeparse_run(&utc, s, n, &v), PD_OK);
    ck_assert_int_eq(v, (int64_t)t * 1000);
    localtime_r(&t, &l);
    n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &l);
    ck_assert_int_eq(pd__timeparse_run(&local, s, n, &v), PD_OK);
    if (v != (int64_t)t * 1000) {
      /* Only the repeated hour when clocks fall back may differ: then the
       * earlier instant, one hour before, has the same wall time. */
      ck_assert_int_eq(v, (int64_t)t * 1000 - H);
      ck_assert_int_eq(l.tm_isdst, 0);
    }
    n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S%z", &l);
    ck_assert_int_eq(pd__timeparse_run(&utc, s, n, &v), PD_OK);
    ck_assert_int_eq(v, (int64_t)t * 1000);
  }
  pd__tz_free(tz);
  unsetenv("TZ");
  tzset();
}
END_TEST

#define EXP_TS "expected a timestamp (ISO 8601 like 2024-03-01T08:00:00+08:00, YYYY-MM-DD HH:MM:SS[.fff], YYYY-MM-DD, or epoch seconds/milliseconds), got "

START_TEST(time_errors) {
  ts_bad("", EXP_TS "\"\"");
  ts_bad("abc", EXP_TS "\"abc\"");
  ts_bad("2024-3-1", EXP_TS "\"2024-3-1\"");
  ts_bad("2024/03/01", EXP_TS "\"2024/03/01\"");
  ts_bad("2024-03-01T", EXP_TS "\"2024-03-01T\"");
  ts_bad("2024-03-01X10:00", EXP_TS "\"2024-03-01X10:00\"");
  ts_bad("2024-03-01 10", EXP_TS "\"2024-03-01 10\"");
  ts_bad("2024-03-01 10:00:00.", EXP_TS "\"2024-03-01 10:00:00.\"");
  ts_bad("2024-03-01 10:00:00 ", EXP_TS "\"2024-03-01 10:00:00 \"");
  ts_bad("2024-13-01", "expected a month 01-12, got \"2024-13-01\"");
  ts_bad("2024-00-01", "expected a month 01-12, got \"2024-00-01\"");
  ts_bad("2024-02-30 10:00:00", "expected a day 01-29 for 2024-02, got \"2024-02-30 10:00:00\"");
  ts_bad("2023-02-29", "expected a day 01-28 for 2023-02, got \"2023-02-29\"");
  ts_bad("1900-02-29", "expected a day 01-28 for 1900-02, got \"1900-02-29\"");
  ts_bad("2024-04-31", "expected a day 01-30 for 2024-04, got \"2024-04-31\"");
  ts_bad("2024-03-00", "expected a day 01-31 for 2024-03, got \"2024-03-00\"");
  ts_bad("2024-03-01 24:00:00", "expected an hour 00-23, got \"2024-03-01 24:00:00\"");
  ts_bad("2024-03-01 12:60", "expected minutes 00-59, got \"2024-03-01 12:60\"");
  ts_bad("2024-03-01 12:00:60", "expected seconds 00-59, got \"2024-03-01 12:00:60\"");
  ts_bad("2024-03-01T12:00:00+24:00", "expected a UTC offset such as Z, +08:00 or -0530, got \"2024-03-01T12:00:00+24:00\"");
  ts_bad("2024-03-01T12:00:00+08:", "expected a UTC offset such as Z, +08:00 or -0530, got \"2024-03-01T12:00:00+08:\"");
  ts_bad("2024-03-01T12:00:00+8", "expected a UTC offset such as Z, +08:00 or -0530, got \"2024-03-01T12:00:00+8\"");
  ts_bad("2024-03-01T12:00:00ZZ", EXP_TS "\"2024-03-01T12:00:00ZZ\"");
  ts_bad("1234567890123456789", "expected epoch seconds (up to 10 digits) or milliseconds (up to 18 digits), got \"1234567890123456789\"");
  ts_bad("-", "expected epoch seconds (up to 10 digits) or milliseconds (up to 18 digits), got \"-\"");
  ts_bad("2024-03-01\n", EXP_TS "\"2024-03-01\\n\"");
  int64_t v;
  ck_assert_int_eq(pd_time_parse("2024-03-01", 10, "Mars/Olympus_Mons", &v), PD_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "Mars/Olympus_Mons"));
  ck_assert_int_eq(pd_time_parse(NULL, 0, NULL, &v), PD_ERR_INVALID);
  /* A long bad value is cut in the message. */
  char big[300];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(pd_time_parse(big, strlen(big), NULL, &v), PD_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "xxxx\"..."));
  ck_assert_uint_lt(strlen(pd_last_error()), 300);
}
END_TEST

/* ---- CSV / TSV tokenizer --------------------------------------------- */

/* Tokenizes all of `in` and renders records as "[f1][f2]\n"; blanks as
 * "-\n"; errors as "E<off>:<message>\n". chunk > 0 feeds the tokenizer a
 * growing prefix (as a block reader would) to cross every boundary. */
static char *tokenize(const char *in, bool tsv, size_t chunk, size_t *total_lines) {
  pd__dsv t;
  pd__dsv_init(&t, tsv);
  size_t len = strlen(in), pos = 0, avail = chunk ? 0 : len;
  static char out[8192];
  size_t o = 0;
  *total_lines = 0;
  while (pos < len) {
    if (chunk && avail < len - pos) avail = avail + chunk < len - pos ? avail + chunk : len - pos;
    if (!chunk) avail = len - pos;
    bool eof = pos + avail == len;
    pd__rec r = pd__dsv_next(&t, in + pos, avail, eof);
    ck_assert_int_ne(r, PD__REC_NOMEM);
    if (r == PD__REC_MORE) {
      ck_assert(!eof);
      continue;
    }
    if (r == PD__REC_BLANK) o += (size_t)snprintf(out + o, sizeof out - o, "-\n");
    if (r == PD__REC_ERROR) o += (size_t)snprintf(out + o, sizeof out - o, "E%zu:%s\n", t.err_off, t.err);
    if (r == PD__REC_OK) {
      for (size_t i = 0; i < t.n; i++) o += (size_t)snprintf(out + o, sizeof out - o, "[%.*s]", (int)t.f[i].len, t.f[i].p);
      o += (size_t)snprintf(out + o, sizeof out - o, "\n");
    }
    ck_assert_uint_gt(t.used, 0);
    ck_assert_uint_le(t.used, avail);
    *total_lines += t.lines;
    pos += t.used;
    avail -= t.used;
  }
  pd__dsv_free(&t);
  return out;
}

static void csv_case(const char *in, bool tsv, const char *expect, size_t lines) {
  size_t chunks[] = {0, 1, 2, 3, 7};
  for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
    size_t n;
    const char *got = tokenize(in, tsv, chunks[k], &n);
    ck_assert_msg(strcmp(got, expect) == 0, "input %s chunk %zu:\n%s\nexpected:\n%s", in, chunks[k], got, expect);
    ck_assert_uint_eq(n, lines);
  }
}

START_TEST(csv_tokens) {
  csv_case("a,b,c\n1,2,3\n", false, "[a][b][c]\n[1][2][3]\n", 2);
  csv_case("a,b\r\n1,2\r\n", false, "[a][b]\n[1][2]\n", 2);
  csv_case("a,b\n1,2", false, "[a][b]\n[1][2]\n", 1);
  csv_case("a,b\r\n1,2\r", false, "[a][b]\n[1][2]\n", 1);
  csv_case(",,\n", false, "[][][]\n", 1);
  csv_case("a,", false, "[a][]\n", 0);
  csv_case("\"\",\"\"\n", false, "[][]\n", 1);
  csv_case("\n\r\na\n\n", false, "-\n-\n[a]\n-\n", 4);
  csv_case("\"x,y\",\"line1\nline2\",\"say \"\"hi\"\"\"\nz,w,v\n", false,
           "[x,y][line1\nline2][say \"hi\"]\n[z][w][v]\n", 3);
  csv_case("\"a\"\r\n\"b\"", false, "[a]\n[b]\n", 1);
  csv_case("\"a\",", false, "[a][]\n", 0);
  csv_case("\"\"\"\"\n", false, "[\"]\n", 1);
  csv_case("a\rb,c\n", false, "[a\rb][c]\n", 1); /* a lone CR is data */
  csv_case("\xe4\xb8\xad,\xe6\x96\x87\n", false, "[\xe4\xb8\xad][\xe6\x96\x87]\n", 1);
  csv_case("a\tb\\tc\\\\d\\x\n\"q\"\tr\n", true, "[a][b\tc\\d\\x]\n[\"q\"][r]\n", 2);
  csv_case("a\\nb\tc\r\n", true, "[a\nb][c]\n", 1);
  csv_case("a,b\n", true, "[a,b]\n", 1);
}
END_TEST

START_TEST(csv_errors) {
  const char *quote_mid = "expected a quote only at the start of a field (or doubled inside a quoted one), got '\"'";
  char expect[512];
  snprintf(expect, sizeof expect, "[a][b]\nE2:%s\n[c][d]\n", quote_mid);
  csv_case("a,b\nab\"c,d\nc,d\n", false, expect, 3);
  csv_case("\"ab\"c,d\nx\n", false, "E4:expected ',' or a line end after the closing quote, got 'c'\n[x]\n", 2);
  csv_case("\"ab\" ,d\n", false, "E4:expected ',' or a line end after the closing quote, got ' '\n", 1);
  csv_case("x,\"ab\n\ncd", false, "E2:expected a closing quote for the field opened here, got end of file\n", 2);
  csv_case("\"a\"\"", false, "E0:expected a closing quote for the field opened here, got end of file\n", 0);
  /* Positions: line and character column of an offset. */
  size_t line, col;
  const char *rec = "\"a\n\xe4\xb8\xad\xe6\x96\x87\",x";
  pd__text_position(rec, strlen(rec) - 1, &line, &col);
  ck_assert_uint_eq(line, 1);
  ck_assert_uint_eq(col, 5);
  pd__text_position(rec, 0, &line, &col);
  ck_assert_uint_eq(line, 0);
  ck_assert_uint_eq(col, 1);
}
END_TEST

/* ---- JSON Lines ------------------------------------------------------ */

START_TEST(jsonl_values) {
  pd__jsonl *j = NULL;
  ck_assert_int_eq(pd__jsonl_new(&j), PD_OK);
  char err[256];
  size_t off;
  const char *line = "{\"ts\":\"2024-03-01\",\"user\":\"u1\",\"amount\":12.34,\"n\":7,\"big\":1e300,\"z\":null,\"b\":true,\"o\":{\"ts\":1}}";
  ck_assert(pd__jsonl_parse(j, line, strlen(line), err, sizeof err, &off));
  const char *p;
  size_t len;
  ck_assert_int_eq(pd__jsonl_get(j, "ts", 0, &p, &len, err, sizeof err), 1);
  ck_assert_int_eq(len, 10);
  ck_assert(memcmp(p, "2024-03-01", 10) == 0);
  ck_assert_int_eq(pd__jsonl_get(j, "amount", 1, &p, &len, err, sizeof err), 1);
  ck_assert_str_eq(p, "12.34");
  ck_assert_int_eq(pd__jsonl_get(j, "n", 2, &p, &len, err, sizeof err), 1);
  ck_assert_str_eq(p, "7");
  ck_assert_int_eq(pd__jsonl_get(j, "big", 3, &p, &len, err, sizeof err), 1);
  ck_assert_str_eq(p, "1e+300");
  ck_assert_int_eq(pd__jsonl_get(j, "z", 0, &p, &len, err, sizeof err), 0);
  ck_assert_int_eq(pd__jsonl_get(j, "missing", 0, &p, &len, err, sizeof err), 0);
  ck_assert_int_eq(pd__jsonl_get(j, "b", 0, &p, &len, err, sizeof err), -1);
  ck_assert_str_eq(err, "expected a string or a number, got true");
  ck_assert_int_eq(pd__jsonl_get(j, "o", 0, &p, &len, err, sizeof err), -1);
  ck_assert_str_eq(err, "expected a string or a number, got an object");
  /* Value positions: top-level keys only. */
  ck_assert_uint_eq(pd__jsonl_locate(line, strlen(line), "ts"), 6);
  ck_assert_uint_eq(pd__jsonl_locate(line, strlen(line), "amount"), 40);
  const char *tricky = "{\"x\":\"\\\"ts\\\": 1\", \"o\":{\"ts\":2},  \"ts\" :  \"bad\"}";
  ck_assert_uint_eq(pd__jsonl_locate(tricky, strlen(tricky), "ts"), 41);
  ck_assert_uint_eq(pd__jsonl_locate(tricky, strlen(tricky), "nope"), 0);

  const char *bad = "{\"a\":\"\xc3\xa9\", \"x\":,}";
  ck_assert(!pd__jsonl_parse(j, bad, strlen(bad), err, sizeof err, &off));
  ck_assert_uint_eq(off, 15);
  ck_assert_str_eq(err, "expected a JSON object, got invalid JSON (unexpected character `,', expected character `}')");
  ck_assert(!pd__jsonl_parse(j, "  [1,2]", 7, err, sizeof err, &off));
  ck_assert_str_eq(err, "expected a JSON object, got an array");
  ck_assert_uint_eq(off, 2);
  ck_assert(!pd__jsonl_parse(j, "\"s\"", 3, err, sizeof err, &off));
  ck_assert_str_eq(err, "expected a JSON object, got a string");
  ck_assert(!pd__jsonl_parse(j, "{\"a\":\"b", 7, err, sizeof err, &off));
  ck_assert_uint_eq(off, 7);
  pd__jsonl_free(j);
}
END_TEST

/* ---- plain and gzip sources -------------------------------------------- */

static char *read_all(const char *path, pd_status *st_out, size_t *n_out) {
  pd__source s;
  pd_status st = pd__source_open(&s, path);
  char *all = NULL;
  size_t n = 0;
  while (st == PD_OK) {
    size_t avail = s.end - s.start;
    all = realloc(all, n + avail + 1);
    memcpy(all + n, s.buf + s.start, avail);
    n += avail;
    s.start = s.end;
    if (s.eof) break;
    st = pd__source_fill(&s);
  }
  if (st == PD_OK) ck_assert_uint_eq(pd__source_offset(&s), n);
  pd__source_close(&s);
  *st_out = st;
  *n_out = n;
  return all;
}

START_TEST(sources) {
  make_tmpdir();
  /* 5 MB of text: several blocks. */
  size_t len = 5u << 20;
  char *data = malloc(len);
  for (size_t i = 0; i < len; i++) data[i] = (char)('a' + (i * 7919) % 26);
  char plain[300], gz[300], cut[300];
  snprintf(plain, sizeof plain, "%s/x.csv", tmpdir);
  snprintf(gz, sizeof gz, "%s/x.csv.gz", tmpdir);
  snprintf(cut, sizeof cut, "%s/cut.gz", tmpdir);
  FILE *f = fopen(plain, "wb");
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
  gzFile g = gzopen(gz, "wb");
  ck_assert_int_eq(gzwrite(g, data, (unsigned)len), (int)len);
  gzclose(g);
  pd_status st;
  size_t n;
  char *back = read_all(plain, &st, &n);
  ck_assert_int_eq(st, PD_OK);
  ck_assert_uint_eq(n, len);
  ck_assert(memcmp(back, data, len) == 0);
  free(back);
  back = read_all(gz, &st, &n);
  ck_assert_int_eq(st, PD_OK);
  ck_assert_uint_eq(n, len);
  ck_assert(memcmp(back, data, len) == 0);
  free(back);
  /* A truncated .gz is an error, not a short file. */
  f = fopen(gz, "rb");
  char buf[4096];
  size_t got = fread(buf, 1, sizeof buf, f);
  fclose(f);
  f = fopen(cut, "wb");
  fwrite(buf, 1, got / 2, f);
  fclose(f);
  back = read_all(cut, &st, &n);
  ck_assert_int_eq(st, PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "expected more gzip data, got a truncated file"));
  free(back);
  pd__source s;
  ck_assert_int_eq(pd__source_open(&s, "/nonexistent/file.csv"), PD_ERR_IO);
  pd__source_close(&s);
  free(data);
  remove_tmpdir();
}
END_TEST

Suite *ingest_suite(void);
Suite *ingest_suite(void) {
  Suite *s = suite_create("ingest");
  TCase *tc = tcase_create("parsers");
  tcase_add_test(tc, time_formats);
  tcase_add_test(tc, time_dst);
  tcase_add_test(tc, time_vs_libc);
  tcase_add_test(tc, time_errors);
  tcase_add_test(tc, csv_tokens);
  tcase_add_test(tc, csv_errors);
  tcase_add_test(tc, jsonl_values);
  tcase_add_test(tc, sources);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(ingest_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
