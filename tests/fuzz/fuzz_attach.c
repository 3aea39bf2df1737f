/*
 * libFuzzer target: the JVM's answer to an attach request, as profd-java's
 * attach helper reads it (at most JATTACH_MAX_REPLY - 1 bytes, NUL-ended)
 * and parses it for a load (jattach_parse_load) and for a jcmd
 * (jattach_parse_jcmd), with a message buffer of the helper's size and
 * of one byte. A code is only taken from a line that is all one decimal
 * int: checked here against the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "java_attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is the line at s exactly the decimal v (leading zeros allowed)? */
static int
line_is(const char *s, int v)
{
	int64_t x = 0;
	int neg = *s == '-';
	size_t n = 0;

	s += neg;
	for (; *s >= '0' && *s <= '9'; s++, n++)
		if ((x = x * 10 + (*s - '0')) > (int64_t)1 << 32)
			return 0;
	return n > 0 && (*s == '\n' || *s == '\0') && (neg ? -x : x) == v;
}

/* The load's code comes from its "return code: " line or line 2. */
static int
load_code_ok(const char *reply, int rc)
{
	const char *nl = strchr(reply, '\n'), *p;

	if (nl == NULL || !line_is(reply, 0))
		return 0;
	p = strstr(nl, "\nreturn code: ");
	return p != NULL ? line_is(p + 14, rc) : line_is(nl + 1, rc);
}

static void
parse(const char *reply, size_t msglen)
{
	char msg[160];
	int rc = 0x5a5a5a5a, rv;

	memset(msg, 'x', sizeof(msg));
	rv = jattach_parse_load(reply, &rc, msg, msglen);
	if (memchr(msg, '\0', msglen) == NULL)
		abort(); /* the message is not NUL-ended inside msg */
	if (rv == 0 ? !load_code_ok(reply, rc) : rv != -1 || rc != 0x5a5a5a5a)
		abort();
	memset(msg, 'x', sizeof(msg));
	rc = 0x5a5a5a5a;
	rv = jattach_parse_jcmd(reply, &rc, msg, msglen);
	if (memchr(msg, '\0', msglen) == NULL)
		abort();
	if (rv == 0 ? !line_is(reply, rc) : rv != -1 || rc != 0x5a5a5a5a)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size < JATTACH_MAX_REPLY - 1 ? size : JATTACH_MAX_REPLY - 1;
	char *copy;

	/* An exact-size copy, so that ASan sees any read past its end. */
	if ((copy = malloc(n + 1)) == NULL)
		abort();
	memcpy(copy, data, n);
	copy[n] = '\0';
	parse(copy, 160);
	parse(copy, 1);
	free(copy);
	return 0;
}
