/* Ingest: timestamp parsing, CSV/TSV tokenizer, JSON Lines reader, gzip
 * source; and (with a store) the catalogue of malformed inputs. */
#include <check.h>
#include <glib.h>
#include <sys/stat.h>
#include <stddef.h>
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
  for (int i = 0; i < 100000; i++) {
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

/* ---- through a store ------------------------------------------------------ */

static char store_dir[400];

static const char *path_of(const char *name) {
  static char buf[8][400];
  static int k;
  char *b = buf[k++ & 7];
  snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
  return b;
}

/* Writes data as tmpdir/name, gzip-compressed when the name ends in .gz. */
static const char *put_file(const char *name, const char *data, size_t len) {
  const char *path = path_of(name);
  size_t n = strlen(name);
  if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
    gzFile g = gzopen(path, "wb");
    ck_assert_ptr_nonnull(g);
    if (len) ck_assert_int_eq(gzwrite(g, data, (unsigned)len), (int)len);
    gzclose(g);
  } else {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (len) ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
  }
  return path;
}

static pd_store *store_open(bool read_only) {
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.create = !read_only;
  so.read_only = read_only;
  so.durability = PD_DURABILITY_BATCH;
  pd_store *s = NULL;
  pd_status st = pd_store_open(&s, store_dir, &so);
  ck_assert_msg(st == PD_OK, "%s", pd_last_error());
  return s;
}

/* How event files are committed by ingest_path(): the loop tests run once
 * through the log (-1) and once in bulk, straight to a segment (1). */
static int test_bulk = -1;

static gint by_name(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The store directory's file names and sizes (not LOCK), to check that a
 * failed ingest wrote nothing. */
static char *dir_listing(void) {
  GDir *d = g_dir_open(store_dir, 0, NULL);
  if (!d) return g_strdup("");
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d))) {
    if (strcmp(n, "LOCK") == 0) continue;
    char *full = g_build_filename(store_dir, n, NULL);
    struct stat sb;
    ck_assert_int_eq(stat(full, &sb), 0);
    g_ptr_array_add(names, g_strdup_printf("%s:%lld", n, (long long)sb.st_size));
    g_free(full);
  }
  g_dir_close(d);
  g_ptr_array_sort(names, by_name);
  g_ptr_array_add(names, NULL);
  char *all = g_strjoinv(" ", (char **)names->pdata);
  g_ptr_array_free(names, TRUE);
  return all;
}

/* Opens the store and a writer, ingests, closes both. */
static pd_status ingest_path(const char *path, const pd_ingest_options *opts, pd_ingest_result *res, bool touchpoints) {
  pd_ingest_options oo = PD_INGEST_OPTIONS_INIT;
  if (opts) oo = *opts;
  oo.bulk = test_bulk;
  const pd_ingest_options *o = &oo;
  pd_store *s = store_open(false);
  pd_writer *w = NULL;
  ck_assert_int_eq(pd_writer_open(&w, s), PD_OK);
  pd_status st = touchpoints ? pd_ingest_touchpoints(w, path, o) : pd_ingest_file(w, path, o, res);
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", pd_last_error());
  pd_writer_close(w);
  pd_store_close(s);
  pd__error(st, "%s", msg);
  return st;
}

typedef struct counts {
  uint64_t events;
  uint32_t users, touchpoints, types;
} counts;

static bool same_counts(counts a, counts b) {
  return a.events == b.events && a.users == b.users && a.touchpoints == b.touchpoints && a.types == b.types;
}

static counts store_counts(void) {
  pd_store *s = store_open(true);
  counts c = {pd_store_n_events(s), pd_store_n_users(s), pd_store_n_touchpoints(s), pd_store_n_event_types(s)};
  pd_store_close(s);
  return c;
}

static void fresh_store(const char *name) {
  snprintf(store_dir, sizeof store_dir, "%s/%s", tmpdir, name);
}

#define HDR "ts,user,event,touchpoint,amount,referrer\n"
/* A good row that would add a user, a custom event type and a touchpoint. */
#define GOOD "2024-03-01 10:00:00,newuser,custom_evt,tp_new,1.00,a\n"
#define JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"newuser\",\"event\":\"custom_evt\",\"touchpoint\":\"tp_new\"}\n"

typedef struct bad_case {
  const char *name;
  const char *data;
  size_t len;          /* 0: strlen(data) */
  const char *message; /* after "PATH:" */
} bad_case;

static const bad_case catalogue[] = {
    /* CSV: values */
    {"month.csv", HDR GOOD "2024-13-01 10:00:00,u1,visit,,,\n", 0, "3:1: expected a month 01-12, got \"2024-13-01 10:00:00\""},
    {"feb30.csv", HDR GOOD "2024-02-30,u1,visit,,,\n", 0, "3:1: expected a day 01-29 for 2024-02, got \"2024-02-30\""},
    {"hour.csv", HDR GOOD "2024-03-01 25:00:00,u1,visit,,,\n", 0, "3:1: expected an hour 00-23, got \"2024-03-01 25:00:00\""},
    {"word.csv", HDR GOOD "yesterday,u1,visit,,,\n", 0, "3:1: " EXP_TS "\"yesterday\""},
    {"offset.csv", HDR GOOD "2024-03-01T10:00:00+8:00,u1,visit,,,\n", 0,
     "3:1: expected a UTC offset such as Z, +08:00 or -0530, got \"2024-03-01T10:00:00+8:00\""},
    {"emptyts.csv", HDR GOOD ",u1,visit,,,\n", 0, "3:1: expected a timestamp, got \"\""},
    {"emptyuser.csv", HDR GOOD "2024-03-01,,visit,,,\n", 0, "3:12: expected a user id, got \"\""},
    {"emptyevent.csv", HDR GOOD "2024-03-01,u1,,,,\n", 0, "3:15: expected an event type, got \"\""},
    {"amountcomma.csv", HDR GOOD "2024-03-01,u1,purchase,,\"12,5\",\n", 0, "3:25: expected a decimal amount, got \"12,5\""},
    {"decimals.csv", HDR GOOD "2024-03-01,u1,purchase,,12.345,\n", 0,
     "3:25: expected an amount with at most 2 decimals, got \"12.345\""},
    {"overflow.csv", HDR GOOD "2024-03-01,u1,purchase,,99999999999999999999,\n", 0,
     "3:25: expected an amount within the 64-bit range of minor units, got \"99999999999999999999\""},
    {"amountword.csv", HDR GOOD "2024-03-01,u1,purchase,,free,\n", 0, "3:25: expected a decimal amount, got \"free\""},
    {"utf8.csv", HDR GOOD "2024-03-01,u\xff,visit,,,\n", 0, "3:12: expected UTF-8 text, got byte 0xff"},
    {"nul.csv", HDR GOOD "2024-03-01,u\0x,visit,,,\n", sizeof(HDR GOOD "2024-03-01,u\0x,visit,,,\n") - 1,
     "3:12: expected UTF-8 text, got byte 0x00"},
    {"badtp.csv", HDR GOOD "2024-03-01,u1,visit,\"tp\xc3\",,\n", 0, "3:21: expected UTF-8 text, got byte 0xc3"},
    {"badref.csv", HDR GOOD "2024-03-01,u1,visit,,,\xe4\xb8\n", 0, "3:23: expected UTF-8 text, got byte 0xe4"},
    /* CSV: structure */
    {"fewer.csv", HDR GOOD "2024-03-01,u1,visit,,\n", 0, "3:22: expected 6 fields, got 5"},
    {"more.csv", HDR GOOD "2024-03-01,u1,visit,,,,x\n", 0, "3:24: expected 6 fields, got 7"},
    {"barequote.csv", HDR GOOD "2024-03-01,u\"1,visit,,,\n", 0,
     "3:13: expected a quote only at the start of a field (or doubled inside a quoted one), got '\"'"},
    {"afterquote.csv", HDR GOOD "2024-03-01,\"u1\"x,visit,,,\n", 0, "3:16: expected ',' or a line end after the closing quote, got 'x'"},
    {"unclosed.csv", HDR GOOD "2024-03-01,u1,visit,\"tp,,\n2024-03-02,u2,visit,,,\n", 0,
     "3:21: expected a closing quote for the field opened here, got end of file"},
    {"crlf.csv", "ts,user,event,touchpoint,amount,referrer\r\n" "2024-03-01,a,visit,,,\r\n" "2024-03-01,b,visit,,1.x,\r\n", 0,
     "3:21: expected a decimal amount, got \"1.x\""},
    {"multiline.csv", HDR "2024-03-01,u1,visit,\"two\nlines\",,\n" "2024-03-0x,u1,visit,,,\n", 0, "4:1: " EXP_TS "\"2024-03-0x\""},
    {"insidemulti.csv", HDR "2024-03-01,u1,purchase,\"two\nlines\",abc,\n", 0, "3:8: expected a decimal amount, got \"abc\""},
    {"chinese.csv", HDR "2024-03-01,\xe7\x94\xa8\xe6\x88\xb7\xe4\xb8\x80,\xe8\xb4\xad\xe4\xb9\xb0,,1.2.3,\n", 0,
     "2:20: expected a decimal amount, got \"1.2.3\""},
    {"bomrow.csv", "\xEF\xBB\xBF" HDR "2024-03-01,u1,visit,,,\xff\n", 0, "2:23: expected UTF-8 text, got byte 0xff"},
    {"bomdup.csv", "\xEF\xBB\xBFts,user,event,TS\n", 0, "1:15: expected one column named \"ts\", got a second one"},
    /* CSV: header */
    {"noevent.csv", "ts,user,touchpoint\n2024-03-01,u1,x\n", 0,
     "1:1: expected a column named \"event\" in the header, got \"ts,user,touchpoint\""},
    {"dupuser.csv", "ts,user,event,User\n2024-03-01,a,visit,b\n", 0, "1:15: expected one column named \"user\", got a second one"},
    {"empty.csv", "", 0, "1:1: expected a header line naming the columns, got end of file"},
    {"bomblank.csv", "\xEF\xBB\xBF\n\r\n", 0, "3:1: expected a header line naming the columns, got end of file"},
    {"badheader.csv", "ts,\"user,event\n", 0, "1:4: expected a closing quote for the field opened here, got end of file"},
    /* TSV */
    {"more.tsv", "ts\tuser\tevent\n2024-03-01\tu1\tvisit\n2024-03-01\tu2\tvisit\textra\n", 0, "3:21: expected 3 fields, got 4"},
    {"amount.tsv", "ts\tuser\tevent\tamount\n2024-03-01\tu1\tvisit\t\n2024-03-01\tu2\tvisit\t-\n", 0,
     "3:21: expected a decimal amount, got \"-\""},
    {"emptyuser.tsv", "ts\tuser\tevent\n2024-03-01\t\tvisit\n", 0, "2:12: expected a user id, got \"\""},
    {"ts.tsv", "ts\tuser\tevent\n\"2024-03-01\"\tu1\tvisit\n", 0, "2:1: " EXP_TS "\"\\\"2024-03-01\\\"\""},
    /* JSON Lines */
    {"syntax.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"u1\",,}\n", 0,
     /* json-glib places this error at the first of the two commas */
     "2:31: expected a JSON object, got invalid JSON (unexpected character `,', expected string constant)"},
    {"array.jsonl", JGOOD "[1,2]\n", 0, "2:1: expected a JSON object, got an array"},
    {"nouser.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"event\":\"visit\"}\n", 0, "2:1: expected a member \"user\" (a user id), got none"},
    {"feb30.jsonl", JGOOD "{\"ts\":\"2024-02-30\",\"user\":\"u\",\"event\":\"visit\"}\n", 0,
     "2:7: expected a day 01-29 for 2024-02, got \"2024-02-30\""},
    {"bool.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"user\":true,\"event\":\"visit\"}\n", 0, "2:27: expected a string or a number, got true"},
    {"decimals.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"u\",\"event\":\"purchase\",\"amount\":1.234}\n", 0,
     "2:59: expected an amount with at most 2 decimals, got \"1.234\""},
    {"object.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"u\",\"event\":{\"x\":1}}\n", 0,
     "2:39: expected a string or a number, got an object"},
    {"unterminated.jsonl", JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"u", 0,
     "2:29: expected a JSON object, got invalid JSON (scanner: unterminated string constant)"},
    {"fraction.jsonl", JGOOD "{\"ts\":-1.5,\"user\":\"u\",\"event\":\"visit\"}\n", 0, "2:7: " EXP_TS "\"-1.5\""},
    {"emptyevent.jsonl", "\r\n" JGOOD "{\"ts\":\"2024-03-01\",\"user\":\"u\",\"event\":\"\"}\r\n", 0, "3:39: expected an event type, got \"\""},
    /* gzip */
    {"month.csv.gz", HDR GOOD "2024-13-01 10:00:00,u1,visit,,,\n", 0, "3:1: expected a month 01-12, got \"2024-13-01 10:00:00\""},
    {"fewer.tsv.gz", "ts\tuser\tevent\n2024-03-01\tu1\tvisit\n2024-03-01\tu2\n", 0, "3:14: expected 3 fields, got 2"},
    {"nouser.jsonl.gz", JGOOD "{\"ts\":\"2024-03-01\",\"event\":\"visit\"}", 0, "2:1: expected a member \"user\" (a user id), got none"},
};

/* Seeds the store with 2 events, 2 users (a, b), 1 touchpoint. */
static counts seed(void) {
  const char *seed = HDR "2024-03-01,a,visit,tp_seed,,\n2024-03-02,b,purchase,,9.99,a\n";
  const char *p = put_file("seed.csv", seed, strlen(seed));
  ck_assert_int_eq(ingest_path(p, NULL, NULL, false), PD_OK);
  counts c = store_counts();
  ck_assert_uint_eq(c.events, 2);
  ck_assert_uint_eq(c.users, 2);
  ck_assert_uint_eq(c.touchpoints, 1);
  ck_assert_uint_eq(c.types, PD_EVENT_BUILTIN_COUNT);
  return c;
}

START_TEST(malformed_catalogue) {
  test_bulk = _i ? 1 : -1;
  make_tmpdir();
  fresh_store("catalogue");
  counts before = seed();
  char *files_before = dir_listing();
  size_t n = sizeof catalogue / sizeof *catalogue;
  ck_assert_uint_ge(n, 30);
  for (size_t i = 0; i < n; i++) {
    const bad_case *c = &catalogue[i];
    const char *path = put_file(c->name, c->data, c->len ? c->len : strlen(c->data));
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    pd_status st = ingest_path(path, NULL, &res, false);
    char expect[1024];
    snprintf(expect, sizeof expect, "%s:%s", path, c->message);
    ck_assert_msg(st == PD_ERR_PARSE, "%s: status %d: %s", c->name, st, pd_last_error());
    ck_assert_str_eq(pd_last_error(), expect);
    ck_assert_uint_eq(res.rows_committed, 0);
    counts after = store_counts();
    ck_assert_msg(after.events == before.events && after.users == before.users && after.touchpoints == before.touchpoints &&
                      after.types == before.types,
                  "%s left something behind: %llu events, %u users, %u touchpoints, %u types", c->name,
                  (unsigned long long)after.events, after.users, after.touchpoints, after.types);
    char *files = dir_listing();
    ck_assert_str_eq(files, files_before); /* not a byte written */
    g_free(files);
  }
  g_free(files_before);
  test_bulk = -1;
  remove_tmpdir();
}
END_TEST

/* Header errors, unreadable gzip and over-long records fail the file even
 * in lenient mode. */
START_TEST(fatal_errors) {
  test_bulk = _i ? 1 : -1;
  make_tmpdir();
  fresh_store("fatal");
  counts before = seed();
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.lenient = 1;
  o.rejects_path = path_of("rejects.csv");
  /* A column named in the options must exist. */
  o.col_amount = "price";
  const char *p = put_file("noprice.csv", HDR GOOD, strlen(HDR GOOD));
  ck_assert_int_eq(ingest_path(p, &o, NULL, false), PD_ERR_PARSE);
  char expect[1024];
  snprintf(expect, sizeof expect, "%s:1:1: expected a column named \"price\" in the header, got \"ts,user,event,touchpoint,amount,referrer\"", p);
  ck_assert_str_eq(pd_last_error(), expect);
  o.col_amount = NULL;
  /* Truncated gzip: the good rows before the cut are not kept either. */
  size_t big = 0;
  char *data = malloc(1 << 20);
  big += (size_t)sprintf(data, HDR);
  for (int i = 0; big < (1 << 20) - 100; i++) big += (size_t)sprintf(data + big, "2024-03-01,user%d,visit,,,\n", i);
  const char *gz = put_file("cut.csv.gz", data, big);
  FILE *f = fopen(gz, "rb");
  char *z = malloc(1 << 20);
  size_t zn = fread(z, 1, 1 << 20, f);
  fclose(f);
  put_file("cut.csv", z, zn / 2); /* written plain: it is the gzip bytes */
  const char *cut = path_of("cut.csv");
  pd_ingest_result res = PD_INGEST_RESULT_INIT;
  ck_assert_int_eq(ingest_path(cut, &o, &res, false), PD_ERR_CORRUPT);
  snprintf(expect, sizeof expect, "%s:", cut);
  ck_assert_msg(strncmp(pd_last_error(), expect, strlen(expect)) == 0, "%s", pd_last_error());
  ck_assert_ptr_nonnull(strstr(pd_last_error(), ":1: expected more gzip data, got a truncated file (zlib: "));
  ck_assert_uint_gt(res.rows_read, 1000);
  ck_assert_uint_eq(res.rows_committed, 0);
  /* Flipped bytes inside the deflate stream: a CRC or data error. */
  z[zn / 2] ^= 0x55;
  z[zn / 2 + 1] ^= 0x55;
  const char *flip = put_file("flip.csv", z, zn);
  pd_status st = ingest_path(flip, &o, NULL, false);
  ck_assert_int_eq(st, PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "gzip data, got"));
  free(z);
  /* A quote never closed swallows the file: past 64 MiB that is an error. */
  size_t huge = 65u << 20;
  data = realloc(data, huge);
  size_t h = (size_t)sprintf(data, HDR "2024-03-01,a,visit,\"");
  memset(data + h, 'x', huge - h);
  p = put_file("huge.csv", data, huge);
  ck_assert_int_eq(ingest_path(p, &o, NULL, false), PD_ERR_RANGE);
  snprintf(expect, sizeof expect, "%s:2:1: expected records shorter than 64 MiB, got a longer one (an unclosed quote?)", p);
  ck_assert_str_eq(pd_last_error(), expect);
  free(data);
  /* Options and files that cannot be used. */
  o.tz = "Nowhere/Atlantis";
  p = put_file("ok.csv", HDR GOOD, strlen(HDR GOOD));
  ck_assert_int_eq(ingest_path(p, &o, NULL, false), PD_ERR_INVALID);
  o.tz = NULL;
  o.amount_decimals = 12;
  ck_assert_int_eq(ingest_path(p, &o, NULL, false), PD_ERR_INVALID);
  ck_assert_int_eq(ingest_path(path_of("missing.csv"), NULL, NULL, false), PD_ERR_IO);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "missing.csv: cannot open: "));
  ck_assert_int_eq(ingest_path(tmpdir, NULL, NULL, false), PD_ERR_IO);
  counts after = store_counts();
  ck_assert(same_counts(after, before));
  ck_assert_int_eq(access(path_of("rejects.csv"), F_OK), 0);
  remove_tmpdir();
}
END_TEST

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  static char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

START_TEST(lenient_mode) {
  test_bulk = _i ? 1 : -1;
  make_tmpdir();
  fresh_store("lenient");
  counts before = seed();
  const char *data = HDR "2024-03-01,c,visit,,,\n"
                         "2024-13-01,d,visit,,,\n"
                         "\n"
                         "2024-03-02,e,purchase,\"multi\nline\",5,c\n"
                         "2024-03-01,u\"x,visit,,,\n"
                         "2024-03-03,f,visit,,,\n"
                         "2024-03-03,g,visit\n";
  const char *p = put_file("mixed.csv", data, strlen(data));
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.lenient = 1;
  o.rejects_path = path_of("rejects.csv");
  pd_ingest_result res = PD_INGEST_RESULT_INIT;
  ck_assert_int_eq(ingest_path(p, &o, &res, false), PD_OK);
  ck_assert_uint_eq(res.rows_read, 6);
  ck_assert_uint_eq(res.rows_committed, 3);
  ck_assert_uint_eq(res.rows_rejected, 3);
  ck_assert_uint_eq(res.bytes_read, strlen(data));
  counts after = store_counts();
  ck_assert_uint_eq(after.events, before.events + 3);
  ck_assert_uint_eq(after.users, before.users + 3); /* c, e, f: the rejected rows' users d, g are not created */
  char expect[2048];
  snprintf(expect, sizeof expect,
           "error,record\n"
           "\"%s:3:1: expected a month 01-12, got \"\"2024-13-01\"\"\",\"2024-13-01,d,visit,,,\"\n"
           "\"%s:7:13: expected a quote only at the start of a field (or doubled inside a quoted one), got '\"\"'\",\"2024-03-01,u\"\"x,visit,,,\"\n"
           "\"%s:9:19: expected 6 fields, got 3\",\"2024-03-03,g,visit\"\n",
           p, p, p);
  ck_assert_str_eq(slurp(o.rejects_path), expect);

  /* JSON Lines, and a second file appends to the same rejects. */
  const char *j = "{\"ts\":\"2024-03-04\",\"user\":\"h\",\"event\":\"visit\"}\n"
                  "{\"ts\":\"2024-03-04\",\"user\":\"h\",\"event\":\"visit\",}\n"
                  "{\"ts\":\"2024-03-04\",\"user\":\"i\",\"event\":\"visit\",\"amount\":\"1e3\"}\n"
                  "{\"ts\":\"2024-03-05\",\"user\":\"h\",\"event\":\"visit\",\"amount\":null}";
  const char *pj = put_file("mixed.jsonl", j, strlen(j));
  ck_assert_int_eq(ingest_path(pj, &o, &res, false), PD_OK);
  ck_assert_uint_eq(res.rows_read, 4);
  ck_assert_uint_eq(res.rows_committed, 2);
  ck_assert_uint_eq(res.rows_rejected, 2);
  char *rej = slurp(o.rejects_path);
  ck_assert_ptr_nonnull(strstr(rej, "\"2024-03-03,g,visit\"\n\""));
  char line[512];
  snprintf(line, sizeof line, "\"%s:3:56: expected a decimal amount, got \"\"1e3\"\"\",", pj);
  ck_assert_ptr_nonnull(strstr(rej, line));
  snprintf(line, sizeof line, "\"%s:2:46: expected a JSON object, got invalid JSON (unexpected character `,', expected character `]')\",", pj);
  ck_assert_ptr_nonnull(strstr(rej, line));
  ck_assert_uint_eq(store_counts().events, before.events + 5);

  /* An unclosed quote takes the rest of the file into one reject. */
  const char *u = HDR "2024-03-06,k,visit,,,\n2024-03-06,l,visit,\"x,,\n2024-03-06,m,visit,,,\n";
  p = put_file("unclosed.csv", u, strlen(u));
  o.rejects_path = NULL; /* dropped */
  ck_assert_int_eq(ingest_path(p, &o, &res, false), PD_OK);
  ck_assert_uint_eq(res.rows_read, 2);
  ck_assert_uint_eq(res.rows_committed, 1);
  ck_assert_uint_eq(res.rows_rejected, 1);
  ck_assert_uint_eq(store_counts().events, before.events + 6);
  remove_tmpdir();
}
END_TEST

/* Dumps every event as "user time type touchpoint amount referrer" lines, sorted. */
typedef struct dump {
  pd_store *s;
  char buf[8192];
  size_t n;
} dump;

static int dump_user(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  dump *d = ctx;
  for (size_t i = 0; i < ev->n; i++) {
    pd_touchpoint_def tp = PD_TOUCHPOINT_DEF_INIT;
    const char *tpn = "-";
    if (ev->touchpoint[i] != PD_NONE && pd_store_touchpoint(d->s, ev->touchpoint[i], &tp) == PD_OK) tpn = tp.name;
    d->n += (size_t)snprintf(d->buf + d->n, sizeof d->buf - d->n, "%s %lld %s %s %lld %s\n",
                             pd_store_user_name(d->s, ev->user), (long long)ev->time[i],
                             pd_store_event_type_name(d->s, ev->type[i]), tpn, (long long)ev->amount[i],
                             ev->referrer[i] == PD_NONE ? "-" : pd_store_user_name(d->s, ev->referrer[i]));
  }
  return 0;
}

static char *dump_store(void) {
  static dump d;
  d.s = store_open(true);
  d.n = 0;
  d.buf[0] = '\0';
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = 1;
  ck_assert_int_eq(pd_scan(d.s, &so, dump_user, &d), PD_OK);
  pd_store_close(d.s);
  return d.buf;
}

START_TEST(formats_agree) {
  test_bulk = _i ? 1 : -1;
  make_tmpdir();
  /* Hand-worked: Shanghai is UTC+8. 2024-03-01 08:00+08:00 = MAR1;
   * 09:30 local = MAR1 + 1.5 h; epoch 1709262000 = MAR1 + 3 h; the local
   * midnight of March 2 = MAR1 + 16 h. */
  char expect[1024];
  snprintf(expect, sizeof expect,
           "alice %lld acquire wechat_group 0 -\n"
           "alice %lld purchase mini_program 1234 -\n"
           "bob %lld referral_signup wechat_group 0 alice\n"
           "bob %lld custom_thing - 50 -\n",
           (long long)MAR1_2024, (long long)(MAR1_2024 + 3 * H), (long long)(MAR1_2024 + 3 * H / 2),
           (long long)(MAR1_2024 + 16 * H));
  static const struct {
    const char *name, *data;
  } inputs[] = {
      {"a.csv", HDR "2024-03-01T08:00:00+08:00,alice,acquire,wechat_group,,\n"
                    "2024-03-01 09:30:00,bob,referral_signup,wechat_group,,alice\n"
                    "1709262000,alice,purchase,mini_program,12.34,\n"
                    "2024-03-02,bob,custom_thing,,0.5,\n"},
      {"b.csv", "\xEF\xBB\xBF\r\n\"ts\",USER,Event,touchpoint,amount,\"referrer\",extra\r\n"
                "\r\n"
                "2024-03-01T08:00:00+08:00,alice,acquire,\"wechat_group\",,,\"x\r\ny\"\r\n"
                "\"2024-03-01 09:30:00\",bob,referral_signup,wechat_group,\"\",alice,\r\n"
                "1709262000,\"alice\",purchase,mini_program,12.34,,\"\"\"\"\r\n"
                "\n"
                "2024-03-02,bob,custom_thing,,.5,,"},
      {"c.tsv", "ts\tuser\tevent\ttouchpoint\tamount\treferrer\n"
                "2024-03-01T08:00:00+08:00\talice\tacquire\twechat_group\t\t\n"
                "2024-03-01 09:30:00\tbob\treferral_signup\twechat_group\t\talice\n"
                "1709262000\talice\tpurchase\tmini_program\t12.34\t\n"
                "2024-03-02\tbob\tcustom_thing\t\t0.5\t"},
      {"d.jsonl", "{\"ts\":\"2024-03-01T08:00:00+08:00\",\"user\":\"alice\",\"event\":\"acquire\",\"touchpoint\":\"wechat_group\"}\n"
                  "{\"ts\":\"2024-03-01 09:30:00\",\"user\":\"bob\",\"event\":\"referral_signup\",\"touchpoint\":\"wechat_group\",\"referrer\":\"alice\",\"amount\":null}\n"
                  "\n"
                  "{\"ts\":1709262000,\"user\":\"alice\",\"event\":\"purchase\",\"touchpoint\":\"mini_program\",\"amount\":12.34,\"other\":[1]}\r\n"
                  "  {\"ts\":\"2024-03-02\",\"user\":\"bob\",\"event\":\"custom_thing\",\"amount\":\"0.50\",\"touchpoint\":\"\"}\n"},
      {"e.csv.gz", HDR "2024-03-01T08:00:00+08:00,alice,acquire,wechat_group,,\n"
                       "2024-03-01 09:30:00,bob,referral_signup,wechat_group,,alice\n"
                       "1709262000,alice,purchase,mini_program,12.34,\n"
                       "2024-03-02,bob,custom_thing,,0.5,\n"},
      {"f.data", "{\"ts\":\"2024-03-01T08:00:00+08:00\",\"user\":\"alice\",\"event\":\"acquire\",\"touchpoint\":\"wechat_group\"}\n"
                 "{\"ts\":\"2024-03-01 09:30:00\",\"user\":\"bob\",\"event\":\"referral_signup\",\"touchpoint\":\"wechat_group\",\"referrer\":\"alice\"}\n"
                 "{\"ts\":1709262000,\"user\":\"alice\",\"event\":\"purchase\",\"touchpoint\":\"mini_program\",\"amount\":12.34}\n"
                 "{\"ts\":\"2024-03-02\",\"user\":\"bob\",\"event\":\"custom_thing\",\"amount\":0.5}\n"},
  };
  for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
    char dir[64];
    snprintf(dir, sizeof dir, "store-%zu", i);
    fresh_store(dir);
    const char *p = put_file(inputs[i].name, inputs[i].data, strlen(inputs[i].data));
    pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
    o.tz = "Asia/Shanghai";
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    pd_status st = ingest_path(p, &o, &res, false);
    ck_assert_msg(st == PD_OK, "%s: %s", inputs[i].name, pd_last_error());
    ck_assert_uint_eq(res.rows_read, 4);
    ck_assert_uint_eq(res.rows_committed, 4);
    ck_assert_uint_eq(res.rows_rejected, 0);
    ck_assert_msg(strcmp(dump_store(), expect) == 0, "%s:\n%s", inputs[i].name, dump_store());
    counts c = store_counts();
    ck_assert_uint_eq(c.users, 2);
    ck_assert_uint_eq(c.touchpoints, 2);
    ck_assert_uint_eq(c.types, PD_EVENT_BUILTIN_COUNT + 1);
  }
  remove_tmpdir();
}
END_TEST

START_TEST(mapping_and_decimals) {
  make_tmpdir();
  fresh_store("mapping");
  const char *data = "Customer,Action,When,Price,Inviter,Channel\n"
                     "u1,purchase,2024-03-01T00:00:00Z,12,,shop\n"
                     "u2,purchase,2024-03-01T00:00:01Z,-3,u1,\n";
  const char *p = put_file("m.csv", data, strlen(data));
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.col_time = "when";
  o.col_user = "customer";
  o.col_event = "action";
  o.col_amount = "price";
  o.col_referrer = "inviter";
  o.col_touchpoint = "channel";
  o.amount_decimals = 0;
  ck_assert_int_eq(ingest_path(p, &o, NULL, false), PD_OK);
  char expect[512];
  snprintf(expect, sizeof expect, "u1 %lld purchase shop 12 -\nu2 %lld purchase - -3 u1\n", (long long)MAR1_2024,
           (long long)MAR1_2024 + 1000);
  ck_assert_str_eq(dump_store(), expect);
  /* Older callers pass a smaller options struct: the rest defaults. */
  const char *d2 = HDR "2024-03-02T00:00:00Z,u3,visit,,1.5,\n";
  p = put_file("n.csv", d2, strlen(d2));
  pd_ingest_options small = PD_INGEST_OPTIONS_INIT;
  small.size = offsetof(pd_ingest_options, tz);
  small.tz = "Bad/Zone"; /* beyond size: ignored */
  ck_assert_int_eq(ingest_path(p, &small, NULL, false), PD_OK);
  ck_assert_uint_eq(store_counts().events, 3);
  remove_tmpdir();
}
END_TEST

typedef struct prog {
  uint64_t calls, last_done, total;
  bool monotone;
  uint64_t cancel_after;
} prog;

static int on_progress(void *ctx, uint64_t done, uint64_t total) {
  prog *p = ctx;
  if (done < p->last_done) p->monotone = false;
  p->last_done = done;
  p->total = total;
  return ++p->calls > p->cancel_after;
}

START_TEST(progress_and_cancel) {
  make_tmpdir();
  fresh_store("progress");
  size_t cap = 6u << 20, n = 0;
  char *data = malloc(cap);
  n += (size_t)sprintf(data, HDR);
  for (int i = 0; n < cap - 100; i++) n += (size_t)sprintf(data + n, "2024-03-01 %02d:%02d:%02d,user%d,visit,tp%d,1.%02d,\n", i / 3600 % 24, i / 60 % 60, i % 60, i % 5000, i % 7, i % 100);
  const char *p = put_file("p.csv", data, n);
  prog pr = {0, 0, 0, true, UINT64_MAX};
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.progress = on_progress;
  o.progress_ctx = &pr;
  pd_ingest_result res = PD_INGEST_RESULT_INIT;
  ck_assert_int_eq(ingest_path(p, &o, &res, false), PD_OK);
  ck_assert_uint_ge(pr.calls, 6);
  ck_assert(pr.monotone);
  ck_assert_uint_eq(pr.last_done, n);
  ck_assert_uint_eq(pr.total, n);
  ck_assert_uint_eq(res.bytes_read, n);
  counts c = store_counts();
  ck_assert_uint_eq(c.events, res.rows_committed);
  ck_assert_uint_eq(c.users, 5000);
  ck_assert_uint_eq(c.touchpoints, 7);
  /* Cancelled on the third block: nothing of the second file stays. */
  const char *gz = put_file("p.csv.gz", data, n);
  pr = (prog){0, 0, 0, true, 2};
  ck_assert_int_eq(ingest_path(gz, &o, &res, false), PD_ERR_CANCELLED);
  ck_assert_uint_eq(pr.calls, 3);
  ck_assert_uint_gt(pr.total, 0);
  ck_assert_uint_lt(pr.total, n); /* compressed size */
  counts c2 = store_counts();
  ck_assert(same_counts(c, c2));
  free(data);
  remove_tmpdir();
}
END_TEST

START_TEST(touchpoint_files) {
  make_tmpdir();
  fresh_store("touchpoints");
  const char *data = "name,domain,carrier,daily_spend\n"
                     "wechat_group,private,group,\n"
                     "\"Baidu SEM\",public,search_ad,1500.5\n"
                     "kol_x,semi,kol,0\n";
  const char *p = put_file("tp.csv", data, strlen(data));
  ck_assert_int_eq(ingest_path(p, NULL, NULL, true), PD_OK);
  pd_store *s = store_open(true);
  ck_assert_uint_eq(pd_store_n_touchpoints(s), 3);
  uint32_t id;
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  ck_assert_int_eq(pd_store_find_touchpoint(s, "Baidu SEM", &id), PD_OK);
  ck_assert_int_eq(pd_store_touchpoint(s, id, &d), PD_OK);
  ck_assert_int_eq(d.domain, PD_DOMAIN_PUBLIC);
  ck_assert_int_eq(d.carrier, PD_CARRIER_SEARCH_AD);
  ck_assert_int_eq(d.daily_spend, 150050);
  ck_assert_int_eq(pd_store_find_touchpoint(s, "wechat_group", &id), PD_OK);
  ck_assert_int_eq(pd_store_touchpoint(s, id, &d), PD_OK);
  ck_assert_int_eq(d.domain, PD_DOMAIN_PRIVATE);
  ck_assert_int_eq(d.carrier, PD_CARRIER_GROUP);
  ck_assert_int_eq(d.daily_spend, -1);
  pd_store_close(s);
  static const bad_case bad[] = {
      {"d.csv", "name,domain,carrier,daily_spend\nnew_tp,,,\nx,privat,group,\n", 0,
       "3:3: expected a domain (public, private, semi or unknown), got \"privat\""},
      {"c.csv", "name,domain,carrier,daily_spend\nnew_tp,,,\nx,private,wechat,\n", 0,
       "3:11: expected a carrier (personal_account, group, official_account, mini_program, wecom, app, store, livestream, "
       "search_ad, feed_ad, kol or other), got \"wechat\""},
      {"s.tsv", "name\tdaily_spend\nnew_tp\t\nx\t-5\n", 0, "3:3: expected a daily spend of zero or more, got \"-5\""},
      {"n.jsonl", "{\"name\":\"new_tp\"}\n{\"domain\":\"public\"}\n", 0, "2:1: expected a member \"name\" (a touchpoint name), got none"},
      {"h.csv", "domain,carrier\npublic,kol\n", 0, "1:1: expected a column named \"name\" in the header, got \"domain,carrier\""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    p = put_file(bad[i].name, bad[i].data, strlen(bad[i].data));
    ck_assert_int_eq(ingest_path(p, NULL, NULL, true), PD_ERR_PARSE);
    char expect[1024];
    snprintf(expect, sizeof expect, "%s:%s", p, bad[i].message);
    ck_assert_str_eq(pd_last_error(), expect);
    ck_assert_uint_eq(store_counts().touchpoints, 3);
  }
  remove_tmpdir();
}
END_TEST

/* ---- bulk ingest equals the log path ------------------------------------ */

#define PD_CHECK(call) ck_assert_msg((call) == PD_OK, "%s: %s", #call, pd_last_error())

/* Equal texts; else fails naming the first difference (dumps are long). */
#define assert_same_text(a, b) assert_same_text_at((a), (b), __LINE__)
static void assert_same_text_at(const char *a, const char *b, int line) {
  size_t i = 0;
  while (a[i] && a[i] == b[i]) i++;
  size_t from = i > 60 ? i - 60 : 0;
  ck_assert_msg(a[i] == b[i], "line %d: texts differ at byte %zu: ...%.120s... vs ...%.120s...", line, i, a + from, b + from);
}

/* A CSV of n rows over `users` users: short, long and Chinese ids, many
 * equal times within a user (ties keep file order), times out of order,
 * custom types, quoted touchpoints, amounts, referrers. bad_at: 1-based
 * data row replaced by a bad one (0: none). */
static GString *gen_csv(int n, int users, uint32_t seed, int bad_at) {
  GRand *r = g_rand_new_with_seed(seed);
  GString *g = g_string_new(HDR);
  static const char *const types[] = {"visit", "purchase", "acquire", "custom_a", "\xe8\x87\xaa\xe5\xae\x9a\xe4\xb9\x89"};
  static const char *const tps[] = {"", "tp1", "\xe5\x85\xac\xe4\xbc\x97\xe5\x8f\xb7", "\"quoted, tp\"", "a_long_touchpoint_name"};
  for (int i = 1; i <= n; i++) {
    if (i == bad_at) {
      g_string_append(g, "2024-03-01,u1,purchase,,12.345,\n");
      continue;
    }
    char name[64], ref[64] = "";
    int u = g_rand_int_range(r, 0, users);
    if (u % 3 == 0) snprintf(name, sizeof name, "u%d", u);
    else if (u % 3 == 1) snprintf(name, sizeof name, "member-card-%08d", u);
    else snprintf(name, sizeof name, "\xe7\x94\xa8\xe6\x88\xb7%d", u);
    if (g_rand_int_range(r, 0, 10) == 0) snprintf(ref, sizeof ref, "u%d", 3 * g_rand_int_range(r, 0, users / 3 + 1));
    long long t = 1709251200LL + 3600LL * g_rand_int_range(r, 0, 400);
    char amount[32] = "";
    if (g_rand_boolean(r)) snprintf(amount, sizeof amount, "%d.%02d", g_rand_int_range(r, -5, 900), g_rand_int_range(r, 0, 100));
    g_string_append_printf(g, "%lld,%s,%s,%s,%s,%s\n", t, name, types[g_rand_int_range(r, 0, 5)],
                           tps[g_rand_int_range(r, 0, 5)], amount, ref);
  }
  g_rand_free(r);
  return g;
}

typedef struct full_dump {
  pd_store *s;
  GString *out;
} full_dump;

static int full_dump_user(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  full_dump *d = ctx;
  g_string_append_printf(d->out, "%u %s:", ev->user, pd_store_user_name(d->s, ev->user));
  for (size_t i = 0; i < ev->n; i++)
    g_string_append_printf(d->out, " %lld/%u/%d/%lld/%d", (long long)ev->time[i], ev->type[i], (int)ev->touchpoint[i],
                           (long long)ev->amount[i], (int)ev->referrer[i]);
  g_string_append_c(d->out, '\n');
  return 0;
}

/* Everything a reader can see: dictionaries, merges, aliases, every run. */
static char *full_store_dump(bool alias) {
  full_dump d = {store_open(true), g_string_new(NULL)};
  pd_store *s = d.s;
  g_string_append_printf(d.out, "users %u events %llu\n", pd_store_n_users(s), (unsigned long long)pd_store_n_events(s));
  for (uint32_t u = 0; u < pd_store_n_users(s); u++)
    g_string_append_printf(d.out, "user %u %s -> %u\n", u, pd_store_user_name(s, u), pd_store_canonical_user(s, u));
  for (uint32_t t = 0; t < pd_store_n_event_types(s); t++) g_string_append_printf(d.out, "type %u %s\n", t, pd_store_event_type_name(s, t));
  for (uint32_t t = 0; t < pd_store_n_touchpoints(s); t++) {
    pd_touchpoint_def tp = PD_TOUCHPOINT_DEF_INIT;
    ck_assert_int_eq(pd_store_touchpoint(s, t, &tp), PD_OK);
    g_string_append_printf(d.out, "tp %u %s %d %d %lld\n", t, tp.name, (int)tp.domain, (int)tp.carrier, (long long)tp.daily_spend);
  }
  uint32_t a;
  if (alias) {
    ck_assert_int_eq(pd_store_find_user(s, "alias-of-u3", &a), PD_OK);
    g_string_append_printf(d.out, "alias %u\n", a);
  }
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = 1;
  ck_assert_int_eq(pd_scan(s, &so, full_dump_user, &d), PD_OK);
  pd_store_close(s);
  return g_string_free(d.out, FALSE);
}

/* full_store_dump() without aliases; valid until the next call. */
static const char *dump_store_all(void) {
  static char *last;
  g_free(last);
  last = full_store_dump(false);
  return last;
}

static void merge_by_name(const char *keep, const char *merged) {
  pd_store *s = store_open(false);
  pd_writer *w = NULL;
  ck_assert_int_eq(pd_writer_open(&w, s), PD_OK);
  uint32_t k, m;
  PD_CHECK(pd_store_find_user(s, keep, &k));
  PD_CHECK(pd_store_find_user(s, merged, &m));
  PD_CHECK(pd_writer_merge_users(w, k, m));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
}

/* A store with a segment (with a merge and an alias), then a log tail
 * (with a merge after the segment), then a large file committed either way;
 * the log way is compacted after. Returns the dump. */
static char *build_mixed_store(const char *name, int bulk, const char *big) {
  fresh_store(name);
  test_bulk = -1;
  GString *a = gen_csv(3000, 400, 11, 0), *b = gen_csv(1500, 600, 12, 0);
  ck_assert_int_eq(ingest_path(put_file("first.csv", a->str, a->len), NULL, NULL, false), PD_OK);
  pd_store *s = store_open(false);
  pd_writer *w = NULL;
  ck_assert_int_eq(pd_writer_open(&w, s), PD_OK);
  uint32_t u3;
  PD_CHECK(pd_store_find_user(s, "u3", &u3));
  PD_CHECK(pd_writer_alias(w, u3, "alias-of-u3"));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
  merge_by_name("u6", "member-card-00000004");
  s = store_open(false);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  ck_assert_int_eq(ingest_path(put_file("second.csv", b->str, b->len), NULL, NULL, false), PD_OK);
  merge_by_name("member-card-00000007", "u9"); /* after the segment: its runs are remapped */
  test_bulk = bulk;
  pd_ingest_result res = PD_INGEST_RESULT_INIT;
  ck_assert_int_eq(ingest_path(big, NULL, &res, false), PD_OK);
  ck_assert_uint_eq(res.rows_committed, 40000);
  char *files = dir_listing();
  if (bulk > 0) { /* straight into a segment: the fresh log holds nothing */
    ck_assert_msg(strstr(files, ".log:32") != NULL, "%s", files);
  } else {
    ck_assert_msg(strstr(files, ".log:32") == NULL, "%s", files);
    char *uncompacted = full_store_dump(true); /* runs gathered from segment and log by the scan */
    s = store_open(false);
    PD_CHECK(pd_store_compact(s));
    pd_store_close(s);
    char *compacted = full_store_dump(true);
    assert_same_text(compacted, uncompacted);
    g_free(compacted);
    g_free(uncompacted);
  }
  g_free(files);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  test_bulk = -1;
  return full_store_dump(true);
}

START_TEST(bulk_equals_log) {
  make_tmpdir();
  GString *big = gen_csv(40000, 5000, 13, 0);
  const char *p = put_file("big.csv", big->str, big->len);
  char *via_log = build_mixed_store("via-log", -1, p), *via_bulk = build_mixed_store("via-bulk", 1, p);
  ck_assert_uint_gt(strlen(via_log), 40000 * 10);
  assert_same_text(via_bulk, via_log);
  /* Into an empty store too (the benchmark's case). */
  fresh_store("empty-log");
  test_bulk = -1;
  ck_assert_int_eq(ingest_path(p, NULL, NULL, false), PD_OK);
  pd_store *s = store_open(false);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  GString *d1 = g_string_new(dump_store_all());
  fresh_store("empty-bulk");
  test_bulk = 1;
  ck_assert_int_eq(ingest_path(p, NULL, NULL, false), PD_OK);
  assert_same_text(dump_store_all(), d1->str);
  /* A second bulk file into the bulk-made store equals the log path. */
  GString *more = gen_csv(10000, 8000, 14, 0);
  const char *pm = put_file("more.csv", more->str, more->len);
  ck_assert_int_eq(ingest_path(pm, NULL, NULL, false), PD_OK);
  char *twice_bulk = g_strdup(dump_store_all());
  fresh_store("empty-log");
  test_bulk = -1;
  ck_assert_int_eq(ingest_path(pm, NULL, NULL, false), PD_OK);
  s = store_open(false);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  assert_same_text(dump_store_all(), twice_bulk);
  g_free(twice_bulk);
  g_string_free(d1, TRUE);
  g_string_free(more, TRUE);
  g_free(via_log);
  g_free(via_bulk);
  g_string_free(big, TRUE);
  remove_tmpdir();
}
END_TEST

/* A bulk batch of several groups of users (2^16 each), placed a group at a
 * time on two threads with each group's memory released as it goes,
 * equals the log path event for event. */
START_TEST(bulk_by_group) {
  make_tmpdir();
  GString *big = gen_csv(300000, 150000, 31, 0);
  const char *p = put_file("groups.csv", big->str, big->len);
  fresh_store("groups-log");
  test_bulk = -1;
  ck_assert_int_eq(ingest_path(p, NULL, NULL, false), PD_OK);
  pd_store *s = store_open(false);
  PD_CHECK(pd_store_compact(s));
  ck_assert_uint_gt(pd_store_n_users(s), 2u << 16);
  pd_store_close(s);
  char *via_log = g_strdup(dump_store_all());
  fresh_store("groups-bulk");
  test_bulk = 1;
  ck_assert_int_eq(ingest_path(p, NULL, NULL, false), PD_OK);
  assert_same_text(dump_store_all(), via_log);
  g_free(via_log);
  g_string_free(big, TRUE);
  test_bulk = -1;
  remove_tmpdir();
}
END_TEST

/* Strict: a bad row near the end of a large file commits nothing, bulk or
 * not, with the same message; lenient: the same rows and rejects. */
START_TEST(bulk_errors_like_log) {
  make_tmpdir();
  GString *bad = gen_csv(30000, 3000, 21, 29000);
  const char *p = put_file("bad.csv", bad->str, bad->len);
  char msg[2][1024];
  char *before[2];
  for (int k = 0; k < 2; k++) {
    fresh_store(k ? "bulk" : "log");
    test_bulk = -1;
    GString *a = gen_csv(2000, 300, 22, 0);
    ck_assert_int_eq(ingest_path(put_file("seed.csv", a->str, a->len), NULL, NULL, false), PD_OK);
    g_string_free(a, TRUE);
    before[k] = g_strdup(dump_store_all());
    char *files = dir_listing();
    test_bulk = k ? 1 : -1;
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    ck_assert_int_eq(ingest_path(p, NULL, &res, false), PD_ERR_PARSE);
    snprintf(msg[k], sizeof msg[k], "%s", pd_last_error());
    ck_assert_uint_eq(res.rows_committed, 0);
    assert_same_text(dump_store_all(), before[k]);
    char *after = dir_listing();
    ck_assert_str_eq(after, files);
    g_free(after);
    g_free(files);
  }
  ck_assert_str_eq(msg[1], msg[0]);
  char expect[600];
  snprintf(expect, sizeof expect, "%s:29001:25: expected an amount with at most 2 decimals, got \"12.345\"", p);
  ck_assert_str_eq(msg[0], expect);
  assert_same_text(before[1], before[0]);
  /* Lenient: the bad row goes to the rejects, the rest commits. */
  char *rejects[2], *dumps[2];
  for (int k = 0; k < 2; k++) {
    fresh_store(k ? "lenient-bulk" : "lenient-log");
    test_bulk = k ? 1 : -1;
    pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
    o.lenient = 1;
    o.rejects_path = path_of(k ? "rej-bulk.csv" : "rej-log.csv");
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    ck_assert_int_eq(ingest_path(p, &o, &res, false), PD_OK);
    ck_assert_uint_eq(res.rows_committed, 29999);
    ck_assert_uint_eq(res.rows_rejected, 1);
    if (!k) {
      pd_store *s = store_open(false);
      PD_CHECK(pd_store_compact(s));
      pd_store_close(s);
    }
    dumps[k] = g_strdup(dump_store_all());
    rejects[k] = g_strdup(slurp(o.rejects_path));
  }
  assert_same_text(dumps[1], dumps[0]);
  ck_assert_str_eq(rejects[1], rejects[0]);
  for (int k = 0; k < 2; k++) {
    g_free(before[k]);
    g_free(dumps[k]);
    g_free(rejects[k]);
  }
  g_string_free(bad, TRUE);
  test_bulk = -1;
  remove_tmpdir();
}
END_TEST

/* One generated row, written plain (the fast row path reads it) and with
 * every field quoted (only the general path reads quotes). Kinds: plain,
 * CRLF, a blank line before it, bad time, bad amount, a field missing, a
 * long user id, a non-ASCII user, a new event type, invalid UTF-8, a
 * field too many, a new touchpoint, a user id the writer refuses,
 * invalid UTF-8 in an event type, in a touchpoint. */
static void twin_row(GRand *r, int i, GString *plain, GString *quoted) {
  char ts[40], user[160], ev[40], tp[40], amount[32], ref[40];
  static char huge[70000]; /* longer than a name may be: the writer refuses it */
  int kind = g_rand_int_range(r, 0, 48);
  if (i < 200) kind = 0; /* the first bad row comes after a run of fast rows */
  snprintf(ts, sizeof ts, "%s", kind == 3 ? "2024-13-01 10:00:00" : "2024-03-01 10:00:00");
  if (kind != 3) snprintf(ts, sizeof ts, "2024-03-%02d %02d:%02d:00", 1 + i % 28, i % 24, i % 60);
  snprintf(user, sizeof user, "u%d", g_rand_int_range(r, 0, 500));
  if (kind == 6) snprintf(user, sizeof user, "member-card-%0100d", g_rand_int_range(r, 0, 50));
  if (kind == 7) snprintf(user, sizeof user, "\xe7\x94\xa8\xe6\x88\xb7%d", g_rand_int_range(r, 0, 50));
  if (kind == 9) snprintf(user, sizeof user, "u\xff%d", i);
  static const char *const types[] = {"visit", "purchase", "acquire", "invite"};
  snprintf(ev, sizeof ev, "%s", types[g_rand_int_range(r, 0, 4)]);
  if (kind == 8) snprintf(ev, sizeof ev, "custom_%d", i % 7);
  if (kind == 13) snprintf(ev, sizeof ev, "visit\xfe%d", i % 3);
  static const char *const tps[] = {"", "tp1", "\xe5\x85\xac\xe4\xbc\x97\xe5\x8f\xb7", "wecom"};
  snprintf(tp, sizeof tp, "%s", tps[g_rand_int_range(r, 0, 4)]);
  if (kind == 11) snprintf(tp, sizeof tp, "tp_%d", i % 5);
  if (kind == 14) snprintf(tp, sizeof tp, "tp\xc3(");
  amount[0] = ref[0] = '\0';
  if (g_rand_boolean(r)) snprintf(amount, sizeof amount, "%d.%02d", g_rand_int_range(r, -5, 900), g_rand_int_range(r, 0, 100));
  if (kind == 4) snprintf(amount, sizeof amount, "12.3.4");
  if (g_rand_int_range(r, 0, 8) == 0) snprintf(ref, sizeof ref, "u%d", g_rand_int_range(r, 0, 500));
  if (kind == 12 && !huge[0]) memset(huge, 'h', sizeof huge - 1);
  const char *f[7] = {ts, kind == 12 ? huge : user, ev, tp, amount, ref, "extra"};
  int nf = kind == 5 ? 5 : kind == 10 ? 7 : 6;
  const char *eol = kind == 1 ? "\r\n" : "\n";
  if (kind == 2) {
    g_string_append(plain, "\n");
    g_string_append(quoted, "\n");
  }
  for (int k = 0; k < nf; k++) {
    g_string_append_printf(plain, "%s%s", k ? "," : "", f[k]);
    g_string_append_printf(quoted, "%s\"%s\"", k ? "," : "", f[k]);
  }
  g_string_append(plain, eol);
  g_string_append(quoted, eol);
}

/* "path:LINE:" of each reject, in order. */
static GString *reject_lines(const char *rejects, const char *path) {
  GString *out = g_string_new(NULL);
  for (const char *p = rejects; (p = strstr(p, path)) != NULL; p += strlen(path)) {
    const char *q = p + strlen(path);
    if (*q == ':') g_string_append_printf(out, "%ld ", strtol(q + 1, NULL, 10));
  }
  return out;
}

/* The fast row path and the general one make the same store and reject
 * the same lines, strict and lenient, bulk and log. */
START_TEST(fast_rows_agree) {
  test_bulk = _i ? 1 : -1;
  make_tmpdir();
  GRand *r = g_rand_new_with_seed(11);
  GString *plain = g_string_new(HDR), *quoted = g_string_new("\"ts\",\"user\",\"event\",\"touchpoint\",\"amount\",\"referrer\"\n");
  for (int i = 0; i < 6000; i++) twin_row(r, i, plain, quoted);
  g_rand_free(r);
  const char *pp = g_strdup(put_file("plain.csv", plain->str, plain->len));
  const char *pq = g_strdup(put_file("quoted.csv", quoted->str, quoted->len));
  char *dumps[2];
  GString *lines[2];
  uint64_t counts[2][3];
  for (int k = 0; k < 2; k++) {
    fresh_store(k ? "quoted" : "plain");
    pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
    o.lenient = 1;
    o.rejects_path = path_of(k ? "rej-quoted.csv" : "rej-plain.csv");
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    ck_assert_int_eq(ingest_path(k ? pq : pp, &o, &res, false), PD_OK);
    counts[k][0] = res.rows_read;
    counts[k][1] = res.rows_committed;
    counts[k][2] = res.rows_rejected;
    pd_store *s = store_open(false);
    PD_CHECK(pd_store_compact(s));
    pd_store_close(s);
    dumps[k] = g_strdup(dump_store_all());
    gchar *rej = NULL;
    ck_assert(g_file_get_contents(o.rejects_path, &rej, NULL, NULL));
    lines[k] = reject_lines(rej, k ? pq : pp);
    g_free(rej);
  }
  for (int c = 0; c < 3; c++) ck_assert_uint_eq(counts[0][c], counts[1][c]);
  ck_assert_uint_eq(counts[0][0], 6000);
  ck_assert_uint_gt(counts[0][2], 5800 / 48 * 3); /* kinds 3, 4, 5, 9, 10, 12, 13, 14 are bad */
  ck_assert_uint_lt(counts[0][2], 5800 / 48 * 10);
  assert_same_text(dumps[1], dumps[0]);
  ck_assert_str_eq(lines[1]->str, lines[0]->str);
  /* Strict: the first bad row, the same line for both. */
  long first = strtol(lines[0]->str, NULL, 10);
  ck_assert_int_gt(first, 201);
  for (int k = 0; k < 2; k++) {
    fresh_store(k ? "strict-quoted" : "strict-plain");
    ck_assert_int_eq(ingest_path(k ? pq : pp, NULL, NULL, false), PD_ERR_PARSE);
    char want[600];
    snprintf(want, sizeof want, "%s:%ld:", k ? pq : pp, first);
    ck_assert_msg(strncmp(pd_last_error(), want, strlen(want)) == 0, "%s", pd_last_error());
    ck_assert_uint_eq(store_counts().events, 0);
  }
  /* The time of a fast row is parsed on the commit side: a bad one is
   * reported there, at its column, as the general path words it. */
  GString *late = g_string_new("user,event,ts,touchpoint,amount,referrer\n");
  for (int i = 0; i < 500; i++) g_string_append_printf(late, "u%d,visit,2024-03-01 10:00:%02d,tp1,,\n", i % 7, i % 60);
  g_string_append(late, "u1,visit,2024-13-01 10:00:00,tp1,,\n");
  for (int i = 0; i < 50; i++) g_string_append(late, "u2,visit,2024-03-02 10:00:00,,,\n");
  const char *pl = put_file("late-bad-time.csv", late->str, late->len);
  fresh_store("late-bad-time");
  ck_assert_int_eq(ingest_path(pl, NULL, NULL, false), PD_ERR_PARSE);
  char want[600];
  snprintf(want, sizeof want, "%s:502:10: expected a month 01-12, got \"2024-13-01 10:00:00\"", pl);
  ck_assert_str_eq(pd_last_error(), want);
  ck_assert_uint_eq(store_counts().events, 0);
  pd_ingest_options lo = PD_INGEST_OPTIONS_INIT;
  lo.lenient = 1;
  pd_ingest_result lres = PD_INGEST_RESULT_INIT;
  ck_assert_int_eq(ingest_path(pl, &lo, &lres, false), PD_OK);
  ck_assert_uint_eq(lres.rows_committed, 550);
  ck_assert_uint_eq(lres.rows_rejected, 1);
  g_string_free(late, TRUE);
  /* So is an event type that is not UTF-8 (checked where it is interned). */
  GString *bad_ev = g_string_new(HDR);
  for (int i = 0; i < 300; i++) g_string_append_printf(bad_ev, "2024-03-01 10:00:%02d,u%d,visit,tp1,,\n", i % 60, i % 7);
  g_string_append(bad_ev, "2024-03-01 11:00:00,u1,vis\xe9it,tp1,,\n");
  for (int i = 0; i < 50; i++) g_string_append(bad_ev, "2024-03-02 10:00:00,u2,visit,,,\n");
  const char *pe = put_file("late-bad-event.csv", bad_ev->str, bad_ev->len);
  fresh_store("late-bad-event");
  ck_assert_int_eq(ingest_path(pe, NULL, NULL, false), PD_ERR_PARSE);
  snprintf(want, sizeof want, "%s:302:24: expected UTF-8 text, got byte 0xe9", pe);
  ck_assert_str_eq(pd_last_error(), want);
  ck_assert_uint_eq(store_counts().events, 0);
  g_string_free(bad_ev, TRUE);
  for (int k = 0; k < 2; k++) {
    g_free(dumps[k]);
    g_string_free(lines[k], TRUE);
  }
  g_free((char *)pp);
  g_free((char *)pq);
  g_string_free(plain, TRUE);
  g_string_free(quoted, TRUE);
  test_bulk = -1;
  remove_tmpdir();
}
END_TEST

static void log_path_by_default(void) { test_bulk = -1; }

Suite *ingest_suite(void);
Suite *ingest_suite(void) {
  Suite *s = suite_create("ingest");
  TCase *tc = tcase_create("parsers");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, time_formats);
  tcase_add_test(tc, time_dst);
  tcase_add_test(tc, time_vs_libc);
  tcase_add_test(tc, time_errors);
  tcase_add_test(tc, csv_tokens);
  tcase_add_test(tc, csv_errors);
  tcase_add_test(tc, jsonl_values);
  tcase_add_test(tc, sources);
  suite_add_tcase(s, tc);
  TCase *ts = tcase_create("store");
  tcase_add_checked_fixture(ts, log_path_by_default, NULL);
  tcase_set_timeout(ts, 300);
  tcase_add_loop_test(ts, malformed_catalogue, 0, 2);
  tcase_add_loop_test(ts, fatal_errors, 0, 2);
  tcase_add_loop_test(ts, lenient_mode, 0, 2);
  tcase_add_loop_test(ts, formats_agree, 0, 2);
  tcase_add_loop_test(ts, fast_rows_agree, 0, 2);
  tcase_add_test(ts, bulk_by_group);
  tcase_add_test(ts, mapping_and_decimals);
  tcase_add_test(ts, bulk_equals_log);
  tcase_add_test(ts, bulk_errors_like_log);
  tcase_add_test(ts, progress_and_cancel);
  tcase_add_test(ts, touchpoint_files);
  suite_add_tcase(s, ts);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(ingest_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
