/* The options profd hands its profilers: checks and copies by table. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "optdefs.h"
#include "util.h"

#define OD_MSG	       Profd__Configure
#define OD_HOLDER      struct worker_opts
#define OD_FIELD(stem) wo_##stem

const struct optdef optdefs_common[] = {PROFD_COMMON_OPTIONS(OPTDEF_ROW)
					    OPTDEF_END};

const struct optdef *
optdef_find(const struct optdef *rows, const char *name)
{
	for (const struct optdef *d = rows; d->od_name != NULL; d++)
		if (strcmp(d->od_name, name) == 0)
			return d;
	return NULL;
}

/* Whether word is one of the '|'-separated words. */
int
optdef_word_ok(const char *words, const char *word)
{
	size_t len = strlen(word);
	const char *p = words;

	while (len > 0) {
		if (strncmp(p, word, len) == 0 &&
		    (p[len] == '|' || p[len] == '\0'))
			return 1;
		if ((p = strchr(p, '|')) == NULL)
			return 0;
		p++;
	}
	return 0;
}

/* A free-form word: 1 to len-1 of WORKER_EVENT_CHARS. */
static int
od_chars_ok(const char *arg, size_t len)
{
	size_t n = strlen(arg);

	return n > 0 && n < len && strspn(arg, WORKER_EVENT_CHARS) == n;
}

static void
od_want_words(const char *words, char *want, size_t wantlen)
{
	size_t n = 0;

	for (const char *p = words; *p != '\0' && n + 8 < wantlen; p++) {
		if (*p != '|') {
			want[n++] = *p;
			continue;
		}
		if (strchr(p + 1, '|') != NULL) {
			want[n++] = ',';
			want[n++] = ' ';
		} else {
			memcpy(want + n, " or ", 4);
			n += 4;
		}
	}
	want[n] = '\0';
}

int
optdef_check(const struct optdef *d, const char *arg, char *want,
	     size_t wantlen)
{
	uint64_t v;

	switch (d->od_kind) {
	case OD_FLAG:
		return 0;
	case OD_NUM:
	case OD_NUM0:
		if (parse_u64(arg, d->od_min, d->od_max, &v) == 0)
			return 0;
		snprintf(want, wantlen, "a number from %u to %u", d->od_min,
			 d->od_max);
		return -1;
	case OD_WORD:
		if (d->od_words != NULL ? optdef_word_ok(d->od_words, arg)
					: od_chars_ok(arg, d->od_len))
			return 0;
		if (d->od_words != NULL)
			od_want_words(d->od_words, want, wantlen);
		else
			snprintf(want, wantlen,
				 "a name of letters, digits and -_.:/");
		return -1;
	}
	return -1;
}

/* Checks one field of a message. */
static int
od_check_field(const struct optdef *d, const void *msg)
{
	const char *p = (const char *)msg + d->od_msg;
	uint32_t v;
	char *s;

	switch (d->od_kind) {
	case OD_FLAG:
		return 0;
	case OD_NUM:
	case OD_NUM0:
		memcpy(&v, p, sizeof(v));
		if (v == 0 && d->od_kind == OD_NUM0)
			return 0;
		return v >= d->od_min && v <= d->od_max ? 0 : -1;
	case OD_WORD:
		memcpy(&s, p, sizeof(s));
		if (s == NULL)
			return -1;
		if (d->od_words != NULL)
			return optdef_word_ok(d->od_words, s) ? 0 : -1;
		return s[0] == '\0' || od_chars_ok(s, d->od_len) ? 0 : -1;
	}
	return -1;
}

int
optdef_check_msg(const struct optdef *rows, const void *msg, const char **bad)
{
	for (const struct optdef *d = rows; d->od_name != NULL; d++) {
		if (od_check_field(d, msg) == -1) {
			*bad = d->od_name;
			return -1;
		}
	}
	return 0;
}

void
optdef_apply(const struct optdef *rows, const void *msg, void *holder)
{
	for (const struct optdef *d = rows; d->od_name != NULL; d++) {
		const char *src = (const char *)msg + d->od_msg;
		char *dst = (char *)holder + d->od_dst;
		protobuf_c_boolean b;
		uint32_t v;
		char *s;

		switch (d->od_kind) {
		case OD_FLAG:
			memcpy(&b, src, sizeof(b));
			*(int *)(void *)dst = b != 0;
			break;
		case OD_NUM:
		case OD_NUM0:
			memcpy(&v, src, sizeof(v));
			if (v != 0 || d->od_kind == OD_NUM)
				memcpy(dst, &v, sizeof(v));
			break;
		case OD_WORD:
			memcpy(&s, src, sizeof(s));
			snprintf(dst, d->od_len, "%s", s);
			break;
		}
	}
}

void
optdef_fill(const struct optdef *rows, const void *holder, void *msg)
{
	for (const struct optdef *d = rows; d->od_name != NULL; d++) {
		const char *src = (const char *)holder + d->od_dst;
		char *dst = (char *)msg + d->od_msg, *str;
		protobuf_c_boolean b;

		switch (d->od_kind) {
		case OD_FLAG:
			b = *(const int *)(const void *)src != 0;
			memcpy(dst, &b, sizeof(b));
			break;
		case OD_NUM:
		case OD_NUM0:
			memcpy(dst, src, sizeof(uint32_t));
			break;
		case OD_WORD:
			str = (char *)src;
			memcpy(dst, &str, sizeof(str));
			break;
		}
	}
}

void
optdef_set(const struct optdef *d, void *holder, const char *arg)
{
	char *dst = (char *)holder + d->od_dst;
	uint64_t v = 0;

	switch (d->od_kind) {
	case OD_FLAG:
		*(int *)(void *)dst = 1;
		break;
	case OD_NUM:
	case OD_NUM0:
		parse_u64(arg, d->od_min, d->od_max, &v);
		*(uint32_t *)(void *)dst = (uint32_t)v;
		break;
	case OD_WORD:
		snprintf(dst, d->od_len, "%s", arg);
		break;
	}
}
