/* A small bounded JSON reader: recursive descent, limited depth, tokens in
 * a fixed array. */
#include "config.h"

#include <string.h>

#include "jread.h"
#include "json.h"

struct jr_cur {
	struct jread *c_j;
	size_t c_pos;
};

static int jr_value(struct jr_cur *c);

static void
jr_space(struct jr_cur *c)
{
	const char *s = c->c_j->jr_src;

	while (c->c_pos < c->c_j->jr_len &&
	       (s[c->c_pos] == ' ' || s[c->c_pos] == '\t' ||
		s[c->c_pos] == '\n' || s[c->c_pos] == '\r'))
		c->c_pos++;
}

static int
jr_peek(const struct jr_cur *c)
{
	return c->c_pos < c->c_j->jr_len
		   ? (unsigned char)c->c_j->jr_src[c->c_pos]
		   : -1;
}

/* Starts a token of type t at the current position; its index or -1. */
static int
jr_new(struct jr_cur *c, enum jread_type t)
{
	struct jread *j = c->c_j;
	struct jread_tok *k;

	if (j->jr_n >= JREAD_MAX_TOKENS)
		return -1;
	k = &j->jr_tok[j->jr_n];
	memset(k, 0, sizeof(*k));
	k->jt_type = t;
	k->jt_start = (uint32_t)c->c_pos;
	return (int)j->jr_n++;
}

static int
jr_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return -1;
	return 0;
}

static int
jr_string(struct jr_cur *c)
{
	const struct jread *j = c->c_j;
	const unsigned char *s = (const unsigned char *)j->jr_src;
	int t;

	c->c_pos++; /* the quote */
	if ((t = jr_new(c, JREAD_STRING)) == -1)
		return -1;
	while (c->c_pos < j->jr_len && s[c->c_pos] != '"') {
		size_t n;

		if (s[c->c_pos] < 0x20)
			return -1;
		if (s[c->c_pos] == '\\') {
			if (c->c_pos + 1 >= j->jr_len)
				return -1;
			if (s[c->c_pos + 1] == 'u') {
				if (c->c_pos + 6 > j->jr_len ||
				    jr_hex4(j->jr_src + c->c_pos + 2) == -1)
					return -1;
				c->c_pos += 6;
				continue;
			}
			if (strchr("\"\\/bfnrt", s[c->c_pos + 1]) == NULL ||
			    s[c->c_pos + 1] == '\0')
				return -1;
			c->c_pos += 2;
			continue;
		}
		if ((n = json_utf8_len(s + c->c_pos, j->jr_len - c->c_pos)) ==
		    0)
			return -1;
		c->c_pos += n;
	}
	if (c->c_pos >= j->jr_len)
		return -1;
	c->c_j->jr_tok[t].jt_end = (uint32_t)c->c_pos;
	c->c_pos++;
	return t;
}

static size_t
jr_digits(struct jr_cur *c)
{
	size_t n = 0;

	while (jr_peek(c) >= '0' && jr_peek(c) <= '9')
		c->c_pos++, n++;
	return n;
}

static int
jr_number(struct jr_cur *c)
{
	int t = jr_new(c, JREAD_NUMBER);

	if (t == -1)
		return -1;
	if (jr_peek(c) == '-')
		c->c_pos++;
	if (jr_peek(c) == '0')
		c->c_pos++;
	else if (jr_digits(c) == 0)
		return -1;
	if (jr_peek(c) == '.') {
		c->c_pos++;
		if (jr_digits(c) == 0)
			return -1;
	}
	if (jr_peek(c) == 'e' || jr_peek(c) == 'E') {
		c->c_pos++;
		if (jr_peek(c) == '+' || jr_peek(c) == '-')
			c->c_pos++;
		if (jr_digits(c) == 0)
			return -1;
	}
	c->c_j->jr_tok[t].jt_end = (uint32_t)c->c_pos;
	return t;
}

static int
jr_literal(struct jr_cur *c)
{
	static const struct {
		const char *w;
		enum jread_type t;
	} lits[] = {
	    {"true", JREAD_BOOL}, {"false", JREAD_BOOL}, {"null", JREAD_NULL}};
	const struct jread *j = c->c_j;

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(lits[i].w);
		int t;

		if (j->jr_len - c->c_pos < n ||
		    memcmp(j->jr_src + c->c_pos, lits[i].w, n) != 0)
			continue;
		if ((t = jr_new(c, lits[i].t)) == -1)
			return -1;
		c->c_pos += n;
		c->c_j->jr_tok[t].jt_end = (uint32_t)c->c_pos;
		return t;
	}
	return -1;
}

/* An array or an object: its elements (or key: value members). */
static int
jr_container(struct jr_cur *c, int object)
{
	char close = object ? '}' : ']';
	int t = jr_new(c, object ? JREAD_OBJECT : JREAD_ARRAY), k;

	if (t == -1 || ++c->c_j->jr_depth > JREAD_MAX_DEPTH)
		return -1;
	c->c_pos++;
	jr_space(c);
	if (jr_peek(c) == close) {
		c->c_pos++;
		c->c_j->jr_depth--;
		return t;
	}
	for (;;) {
		jr_space(c);
		if (object) {
			if (jr_peek(c) != '"' || (k = jr_string(c)) == -1)
				return -1;
			c->c_j->jr_tok[k].jt_next = (uint32_t)k + 1;
			jr_space(c);
			if (jr_peek(c) != ':')
				return -1;
			c->c_pos++;
		}
		if (jr_value(c) == -1)
			return -1;
		c->c_j->jr_tok[t].jt_count++;
		jr_space(c);
		if (jr_peek(c) == ',') {
			c->c_pos++;
			continue;
		}
		if (jr_peek(c) != close)
			return -1;
		c->c_pos++;
		c->c_j->jr_depth--;
		return t;
	}
}

static int
jr_value(struct jr_cur *c)
{
	int ch, t;

	jr_space(c);
	ch = jr_peek(c);
	if (ch == '{' || ch == '[')
		t = jr_container(c, ch == '{');
	else if (ch == '"')
		t = jr_string(c);
	else if (ch == '-' || (ch >= '0' && ch <= '9'))
		t = jr_number(c);
	else
		t = jr_literal(c);
	if (t == -1)
		return -1;
	c->c_j->jr_tok[t].jt_next = c->c_j->jr_n;
	if (ch == '{' || ch == '[')
		c->c_j->jr_tok[t].jt_end = (uint32_t)c->c_pos;
	return t;
}

int
jread_parse(struct jread *j, const char *s, size_t len)
{
	struct jr_cur c = {j, 0};

	j->jr_src = s;
	j->jr_len = len;
	j->jr_n = 0;
	j->jr_depth = 0;
	if (len > JREAD_MAX_LEN || jr_value(&c) == -1)
		goto fail;
	jr_space(&c);
	if (c.c_pos != len)
		goto fail;
	return 0;
fail:
	j->jr_n = 0;
	return -1;
}

static int
jr_tok_ok(const struct jread *j, int tok, enum jread_type t)
{
	return tok >= 0 && (uint32_t)tok < j->jr_n &&
	       j->jr_tok[tok].jt_type == t;
}

/* Decodes \uXXXX at s into a code point. */
static uint32_t
jr_u4(const char *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char h = s[i];

		v = v << 4 | (uint32_t)(h <= '9'   ? h - '0'
					: h <= 'F' ? h - 'A' + 10
						   : h - 'a' + 10);
	}
	return v;
}

static size_t
jr_put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes the escape at s[*i] (after the backslash); the code point, or
 * 0 when it is not allowed (NUL, control, lone surrogate). */
static uint32_t
jr_unescape(const char *s, size_t end, size_t *i)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, lo;

	if (s[*i] != 'u') {
		cp = (uint32_t)(unsigned char)to[strchr(from, s[*i]) - from];
		(*i)++;
		return cp < 0x20 ? 0 : cp;
	}
	cp = jr_u4(s + *i + 1);
	*i += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (*i + 6 > end || s[*i] != '\\' || s[*i + 1] != 'u')
			return 0;
		lo = jr_u4(s + *i + 2);
		if (lo < 0xdc00 || lo > 0xdfff)
			return 0;
		*i += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return cp < 0x20 ? 0 : cp;
}

int
jread_string(const struct jread *j, int tok, char *out, size_t len)
{
	const struct jread_tok *k;
	const char *s = j->jr_src;
	size_t i, n = 0;
	char u[4];

	if (!jr_tok_ok(j, tok, JREAD_STRING) || len == 0)
		return -1;
	k = &j->jr_tok[tok];
	for (i = k->jt_start; i < k->jt_end;) {
		size_t w = 1;

		if (s[i] == '\\') {
			uint32_t cp;

			i++;
			if ((cp = jr_unescape(s, k->jt_end, &i)) == 0)
				return -1;
			w = jr_put_utf8(cp, u);
		} else {
			u[0] = s[i++];
		}
		if (n + w >= len)
			return -1;
		memcpy(out + n, u, w);
		n += w;
	}
	out[n] = '\0';
	return 0;
}

int
jread_get(const struct jread *j, int tok, const char *key)
{
	const struct jread_tok *o;
	size_t klen = strlen(key);
	uint32_t i;

	if (!jr_tok_ok(j, tok, JREAD_OBJECT))
		return -1;
	o = &j->jr_tok[tok];
	i = (uint32_t)tok + 1;
	for (uint32_t m = 0; m < o->jt_count; m++) {
		const struct jread_tok *k = &j->jr_tok[i];

		/* Keys are compared as written: escaped keys never match. */
		if (k->jt_end - k->jt_start == klen &&
		    memcmp(j->jr_src + k->jt_start, key, klen) == 0)
			return (int)i + 1;
		i = j->jr_tok[i + 1].jt_next;
	}
	return -1;
}

int
jread_elem(const struct jread *j, int tok, uint32_t idx)
{
	uint32_t i;

	if (!jr_tok_ok(j, tok, JREAD_ARRAY) || idx >= j->jr_tok[tok].jt_count)
		return -1;
	i = (uint32_t)tok + 1;
	while (idx-- > 0)
		i = j->jr_tok[i].jt_next;
	return (int)i;
}

int
jread_u64(const struct jread *j, int tok, uint64_t max, uint64_t *v)
{
	const struct jread_tok *k;
	uint64_t x = 0;

	if (!jr_tok_ok(j, tok, JREAD_NUMBER))
		return -1;
	k = &j->jr_tok[tok];
	for (uint32_t i = k->jt_start; i < k->jt_end; i++) {
		unsigned d = (unsigned)(j->jr_src[i] - '0');

		if (d > 9 || x > max / 10 || x * 10 > max - d)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int
jread_bool(const struct jread *j, int tok, int *v)
{
	if (!jr_tok_ok(j, tok, JREAD_BOOL))
		return -1;
	*v = j->jr_src[j->jr_tok[tok].jt_start] == 't';
	return 0;
}
