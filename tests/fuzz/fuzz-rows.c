/* Fuzz target for the fast row path of CSV/TSV event ingest
 * (lib/ingest/fastrows.c), differential: the input, after a header, is
 * ingested twice into fresh stores, once with fast rows and once by the
 * general path only, and both must end alike: status and message, row
 * counts, the rejects file, and every event of the store. The first byte
 * picks CSV or TSV, bulk or log, strict or lenient, and the header.
 * Built as a libFuzzer target by libfuzzer.sh, and replayed over
 * tests/fuzz/corpus/rows/ in the normal test run. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "privdomain.h"

extern bool pd__ing_fast_off;

static const char *const headers[4] = {
    "ts,user,event,touchpoint,amount,referrer\n",
    "user,event,ts,amount\n",
    "ts,user,event,touchpoint,amount,referrer,note\n",
    "event,ts,user,referrer,touchpoint\n",
};

static char base[64];

static void clear_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  closedir(d);
}

typedef struct dump {
  pd_store *s;
  FILE *out;
} dump;

static int dump_user(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  dump *d = ctx;
  fprintf(d->out, "%s:", pd_store_user_name(d->s, ev->user));
  for (size_t i = 0; i < ev->n; i++) {
    pd_touchpoint_def tp = PD_TOUCHPOINT_DEF_INIT;
    const char *tpn = "-";
    if (ev->touchpoint[i] != PD_NONE && pd_store_touchpoint(d->s, ev->touchpoint[i], &tp) == PD_OK) tpn = tp.name;
    fprintf(d->out, " %lld/%s/%s/%lld/%s", (long long)ev->time[i], pd_store_event_type_name(d->s, ev->type[i]), tpn,
            (long long)ev->amount[i], ev->referrer[i] == PD_NONE ? "-" : pd_store_user_name(d->s, ev->referrer[i]));
  }
  fputc('\n', d->out);
  return 0;
}

/* Everything the ingest left: its status, counts and message, the
 * rejects, the store's users in id order and their events. */
static char *run(const char *input, int mode, bool fast, size_t *len) {
  char dir[128], rejects[160];
  snprintf(dir, sizeof dir, "%s/store", base);
  snprintf(rejects, sizeof rejects, "%s/rejects.csv", base);
  clear_dir(dir);
  unlink(rejects);
  char *text = NULL;
  FILE *out = open_memstream(&text, len);
  FUZZ_CHECK(out != NULL);
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.create = 1;
  so.durability = PD_DURABILITY_BATCH;
  pd_store *s = NULL;
  pd_writer *w = NULL;
  FUZZ_CHECK(pd_store_open(&s, dir, &so) == PD_OK);
  FUZZ_CHECK(pd_writer_open(&w, s) == PD_OK);
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.format = mode & 1 ? PD_INPUT_TSV : PD_INPUT_CSV;
  o.bulk = mode & 2 ? 1 : -1;
  o.lenient = !(mode & 4);
  o.rejects_path = rejects;
  o.tz = mode & 8 ? "Asia/Shanghai" : NULL;
  pd_ingest_result res = PD_INGEST_RESULT_INIT;
  pd__ing_fast_off = !fast;
  pd_status st = pd_ingest_file(w, input, &o, &res);
  pd__ing_fast_off = false;
  /* After a failure rows_read says how far the parser thread had run
   * ahead when it was stopped: not a property of the input. */
  fprintf(out, "status %d read %llu committed %llu rejected %llu\n%s\n", (int)st,
          (unsigned long long)(st == PD_OK ? res.rows_read : 0), (unsigned long long)res.rows_committed,
          (unsigned long long)res.rows_rejected, st == PD_OK ? "" : pd_last_error());
  pd_writer_close(w);
  FILE *r = fopen(rejects, "rb");
  if (r) {
    int c;
    while ((c = fgetc(r)) != EOF) fputc(c, out);
    fclose(r);
  }
  for (uint32_t u = 0; u < pd_store_n_users(s); u++) fprintf(out, "user %u %s\n", u, pd_store_user_name(s, u));
  dump d = {s, out};
  pd_scan_options sc = PD_SCAN_OPTIONS_INIT;
  sc.threads = 1;
  FUZZ_CHECK(pd_scan(s, &sc, dump_user, &d) == PD_OK);
  pd_store_close(s);
  fclose(out);
  return text;
}

static void cleanup(void) {
  char dir[128];
  snprintf(dir, sizeof dir, "%s/store", base);
  clear_dir(dir);
  rmdir(dir);
  clear_dir(base);
  rmdir(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!base[0]) {
    snprintf(base, sizeof base, "/tmp/pd-fuzz-rows-XXXXXX");
    FUZZ_CHECK(mkdtemp(base) != NULL);
    atexit(cleanup);
  }
  int mode = data[0];
  char input[160];
  snprintf(input, sizeof input, "%s/in.txt", base);
  FILE *f = fopen(input, "wb");
  FUZZ_CHECK(f != NULL);
  const char *h = headers[(mode >> 4) & 3];
  for (const char *c = h; *c; c++) fputc(*c == ',' && (mode & 1) ? '\t' : *c, f);
  if (size > 1) FUZZ_CHECK(fwrite(data + 1, 1, size - 1, f) == size - 1);
  fclose(f);
  size_t na = 0, nb = 0;
  char *a = run(input, mode, true, &na), *b = run(input, mode, false, &nb);
  if (na != nb || memcmp(a, b, na) != 0) fprintf(stderr, "fast:\n%s\ngeneral:\n%s\n", a, b);
  FUZZ_CHECK(na == nb && memcmp(a, b, na) == 0);
  free(a);
  free(b);
  return 0;
}
