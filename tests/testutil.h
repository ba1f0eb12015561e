/* Shared helpers for the Check tests: scratch directories, small stores. */
#ifndef PD_TESTUTIL_H
#define PD_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain.h"

/* A fresh scratch directory path (the directory itself does not exist
 * yet, so pd_store_open(create) makes it). g_free() it, after
 * pd_test_rmdir(). */
static inline char *pd_test_tmpdir(const char *tag) {
  char *base = g_dir_make_tmp("pd-test-XXXXXX", NULL);
  ck_assert_ptr_nonnull(base);
  char *dir = g_build_filename(base, tag, NULL);
  g_free(base);
  return dir;
}

/* Removes a scratch directory tree (and its parent made by pd_test_tmpdir). */
static inline void pd_test_rmdir(const char *dir) {
  char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  g_free(cmd);
  char *parent = g_path_get_dirname(dir);
  g_rmdir(parent);
  g_free(parent);
}

static inline pd_store *pd_test_open(const char *dir, int create) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.create = create;
  pd_store *s = NULL;
  pd_status st = pd_store_open(&s, dir, &o);
  ck_assert_msg(st == PD_OK, "open %s: %s", dir, pd_last_error());
  return s;
}

#define PD_CHECK(call) ck_assert_msg((call) == PD_OK, "%s: %s", #call, pd_last_error())

static inline int pd_test_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
