/* Embedding libprivdomain: open a store, append events, commit, scan.
 * Build: cc embed-example.c $(pkg-config --cflags --libs privdomain) */
#include <privdomain.h>
#include <stdio.h>

static int revenue(void *ctx, unsigned worker, const pd_user_events *ev) {
  for (size_t i = 0; i < ev->n; i++)
    if (ev->type[i] == PD_EV_PURCHASE) ((int64_t *)ctx)[worker] += ev->amount[i];
  return 0;
}

int main(int argc, char **argv) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.create = 1;
  pd_store *store;
  pd_writer *w;
  uint32_t alice, tp;
  if (pd_store_open(&store, argc > 1 ? argv[1] : "embed-store", &o) || pd_writer_open(&w, store) ||
      pd_writer_user(w, "alice", &alice) || pd_writer_touchpoint_name(w, "企业微信", &tp)) goto fail;
  pd_event e = {1709280000000, alice, PD_EV_PURCHASE, tp, PD_NONE, 12345}; /* 123.45 on 2024-03-01 */
  if (pd_writer_append(w, &e) || pd_writer_commit(w)) goto fail;
  pd_writer_close(w);
  int64_t sum[256] = {0}, total = 0; /* one slot per scan worker */
  if (pd_scan(store, NULL, revenue, sum)) goto fail;
  for (int i = 0; i < 256; i++) total += sum[i];
  printf("%u users, %llu events, revenue %lld.%02lld\n", pd_store_n_users(store),
         (unsigned long long)pd_store_n_events(store), (long long)(total / 100), (long long)(total % 100));
  pd_store_close(store);
  return 0;
fail:
  fprintf(stderr, "embed-example: %s\n", pd_last_error());
  return 1;
}
