/* The agent's collapsed output, into the stack table. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "java.h"
#include "log.h"
#include "util.h"

/* Adds one "root;...;leaf count" line; 0, or -1 when malformed. */
static int
add_line(struct stack_table *t, int proc, const char *s, size_t len)
{
	uint32_t frames[STACKS_MAX_FRAMES];
	const char *sp = NULL, *f, *end;
	char num[24];
	uint64_t count;
	size_t n = 0;

	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == ' ') {
			sp = s + i - 1;
			break;
		}
	if (sp == NULL || sp == s || (size_t)(s + len - sp - 1) >= sizeof(num))
		return -1;
	memcpy(num, sp + 1, (size_t)(s + len - sp - 1));
	num[s + len - sp - 1] = '\0';
	if (parse_u64(num, 1, 1ULL << 40, &count) == -1)
		return -1;
	for (f = s; f < sp; f = end + 1) {
		if ((end = memchr(f, ';', (size_t)(sp - f))) == NULL)
			end = sp;
		if (n == STACKS_MAX_FRAMES ||
		    (frames[n++] = stacks_intern(t, f, (size_t)(end - f))) ==
			STACKS_NONE)
			return -1;
	}
	return stacks_add(t, proc, frames, n, count);
}

size_t
java_stacks_add(struct stack_table *t, int proc, pid_t pid, const char *out,
		size_t len)
{
	const char *p = out, *end = out + len, *nl;
	size_t skipped = 0;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl > p && *p == '#')
			log_info("JVM %d window: %.*s", (int)pid,
				 (int)(nl - p - 1 > 300 ? 300 : nl - p - 1),
				 p + 1);
		else if (nl > p && add_line(t, proc, p, (size_t)(nl - p)) == -1)
			skipped++;
		p = nl + 1;
	}
	return skipped;
}

int
java_stacks_reason(struct stack_table *t, const struct java_jvm *j,
		   const char *tag)
{
	char frame[256];
	uint32_t f;
	int proc;

	snprintf(frame, sizeof(frame), "[Profiling %s: %s]", tag, j->jj_reason);
	if ((proc = stacks_proc(t, (uint32_t)j->jj_pid,
				stacks_intern_str(t, j->jj_comm), 0, 0)) ==
		-1 ||
	    (f = stacks_intern_str(t, frame)) == STACKS_NONE)
		return -1;
	return stacks_add(t, proc, &f, 1, 1);
}
