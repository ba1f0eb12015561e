/* JSON Lines records (internal): one JSON object per line, parsed with
 * json-glib. Member values are handed out as text so the ingest treats
 * every format alike: strings as they are, integers in decimal, other
 * numbers as the shortest decimal that reads back as the same double
 * (12.34 stays "12.34"), null as absent. */
#ifndef PD_JSONL_H
#define PD_JSONL_H

#include "pd_internal.h"

typedef struct pd__jsonl pd__jsonl;

pd_status pd__jsonl_new(pd__jsonl **out);
void pd__jsonl_free(pd__jsonl *j);

/* Parses line[0..len) (no line break). On a syntax error or a value that
 * is not an object returns false with err ("expected ..., got ...") and
 * *err_off the byte offset in the line where it was found. */
bool pd__jsonl_parse(pd__jsonl *j, const char *line, size_t len, char *err, size_t errsize, size_t *err_off);

/* The member `name` of the object last parsed, as text (borrowed: valid
 * until the next parse; `slot` 0..7 picks the buffer used for numbers so
 * several values can be held at once). Returns 1 and sets *p, *len; 0 when
 * absent or null; -1 when it is a boolean, object or array (err filled). */
int pd__jsonl_get(pd__jsonl *j, const char *name, int slot, const char **p, size_t *len, char *err, size_t errsize);

/* Byte offset in line of the value of top-level member `name`, for error
 * positions; 0 when it cannot be found (e.g. the key is written with
 * escapes). */
size_t pd__jsonl_locate(const char *line, size_t len, const char *name);

#endif
