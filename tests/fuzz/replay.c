/* Replays every file of the given corpus directories through a fuzz
 * target's LLVMFuzzerTestOneInput, so the corpus runs in the normal test
 * suite (and under the sanitizers) without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  int files = 0;
  for (int a = 1; a < argc; a++) {
    DIR *d = opendir(argv[a]);
    if (!d) {
      fprintf(stderr, "replay: cannot open %s\n", argv[a]);
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      FILE *f = fopen(path, "rb");
      if (!f) continue;
      fseek(f, 0, SEEK_END);
      long n = ftell(f);
      fseek(f, 0, SEEK_SET);
      uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
      if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) return 1;
      fclose(f);
      LLVMFuzzerTestOneInput(buf, (size_t)n);
      free(buf);
      files++;
    }
    closedir(d);
  }
  printf("replayed %d inputs\n", files);
  return files ? 0 : 1;
}
