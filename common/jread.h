/* A small bounded JSON reader for answers from servers: the whole text is
 * checked and cut into a flat token array; nothing is allocated. */
#ifndef PROFD_JREAD_H
#define PROFD_JREAD_H

#include <stddef.h>
#include <stdint.h>

/* Values and keys in one text: a heartbeat start with PROFD_MAX_PIDS
 * PIDs and the backend's other settings fits. */
#define JREAD_MAX_TOKENS 4096
#define JREAD_MAX_DEPTH	 16	    /* nested arrays and objects */
#define JREAD_MAX_LEN	 (1u << 20) /* bytes of one text */

enum jread_type {
	JREAD_NULL,
	JREAD_BOOL,
	JREAD_NUMBER,
	JREAD_STRING,
	JREAD_ARRAY,
	JREAD_OBJECT,
};

/* One value (or an object's key, a string). An object's members follow
 * it as key, value, key, value...; an array's elements follow it. */
struct jread_tok {
	enum jread_type jt_type;
	uint32_t jt_start, jt_end; /* its text; a string's without quotes */
	uint32_t jt_next;	   /* the token after it and its children */
	uint32_t jt_count;	   /* members or elements */
};

struct jread {
	const char *jr_src;
	size_t jr_len;
	struct jread_tok jr_tok[JREAD_MAX_TOKENS];
	uint32_t jr_n;
	unsigned jr_depth;
};

/* Parses s[0..len) as one JSON value (RFC 8259, UTF-8). 0, or -1 when it
 * is not JSON or is over a limit (fail closed). Token 0 is the root. */
int jread_parse(struct jread *j, const char *s, size_t len);
/* Returns the token of member key of object tok, or -1 (also when tok is
 * not an object). With a key given twice, the first counts. */
int jread_get(const struct jread *j, int tok, const char *key);
/* Returns the token of element i of array tok, or -1. */
int jread_elem(const struct jread *j, int tok, uint32_t i);
/* Copies string tok, unescaped, NUL-ended into out[len]. 0, or -1 when tok
 * is not a string, holds a NUL or control character, or does not fit. */
int jread_string(const struct jread *j, int tok, char *out, size_t len);
/* Stores number tok in *v when it is an integer from 0 to max. 0 or -1. */
int jread_u64(const struct jread *j, int tok, uint64_t max, uint64_t *v);
/* Stores bool tok in *v (0 or 1). 0, or -1 when tok is not a bool. */
int jread_bool(const struct jread *j, int tok, int *v);

#endif
