/* Minimal JSON writing helpers. */
#ifndef PROFD_JSON_H
#define PROFD_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Returns the length of the valid UTF-8 sequence at s[0..len) (shortest
 * form, no surrogates, at most U+10FFFF), or 0 if none starts there. */
size_t json_utf8_len(const unsigned char *s, size_t len);

/* Writes s as a JSON string literal, escaping quotes, backslashes, control
 * characters and '<', and replacing invalid UTF-8 with U+FFFD. */
int json_put_string(FILE *f, const char *s);
/* Writes s[0..len) escaped as inside a JSON string literal, without the
 * quotes (a NUL byte becomes \u0000). */
int json_put_chars(FILE *f, const char *s, size_t len);

#endif
