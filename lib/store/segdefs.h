/* Stored segment definitions (internal): the SEGMENTS file of a store. */
#ifndef PD_SEGDEFS_H
#define PD_SEGDEFS_H

#include "pd_internal.h"

typedef struct pd__segdefs {
  char **name, **expr; /* n definitions, sorted by name */
  size_t n;
} pd__segdefs;

/* Reads the definitions (none when the file is absent). */
pd_status pd__segdefs_read(const char *dir, pd__segdefs *d);
void pd__segdefs_free(pd__segdefs *d);
/* The expression of a stored segment (malloc'd), or PD_ERR_NOT_FOUND
 * without a message. */
pd_status pd__segdef_find(pd_store *s, const char *name, char **expr);
/* Whether a name is a valid segment name (a word of the grammar). */
bool pd__segment_name_ok(const char *name);

#endif
