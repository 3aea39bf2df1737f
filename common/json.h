/* Minimal JSON writing helpers. */
#ifndef PROFD_JSON_H
#define PROFD_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, escaping quotes, backslashes, control
 * characters and '<', and replacing invalid UTF-8 with U+FFFD. */
int json_put_string(FILE *f, const char *s);

#endif
