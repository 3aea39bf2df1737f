/* Minimal JSON writing helpers. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"

size_t
json_utf8_len(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
json_put_char(FILE *f, unsigned char c)
{
	switch (c) {
	case '"':
		return fputs("\\\"", f);
	case '\\':
		return fputs("\\\\", f);
	case '\n':
		return fputs("\\n", f);
	case '\t':
		return fputs("\\t", f);
	case '<':
	case '>':
	case '&':
		return fprintf(f, "\\u%04x", c);
	}
	if (c < 0x20)
		return fprintf(f, "\\u%04x", c);
	return fputc(c, f);
}

int
json_put_chars(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t n = json_utf8_len(p, len);

		if (n == 0) {
			if (fputs("\\ufffd", f) == EOF)
				return -1;
			p++, len--;
		} else if (n == 1) {
			if (json_put_char(f, *p++) < 0)
				return -1;
			len--;
		} else {
			if (fwrite(p, 1, n, f) != n)
				return -1;
			p += n, len -= n;
		}
	}
	return 0;
}

int
json_put_string(FILE *f, const char *s)
{
	if (fputc('"', f) == EOF || json_put_chars(f, s, strlen(s)) == -1)
		return -1;
	return fputc('"', f) == EOF ? -1 : 0;
}
