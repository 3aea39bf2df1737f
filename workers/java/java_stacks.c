/* The agent's collapsed output, into the stack table. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "java.h"
#include "java_attach.h"
#include "log.h"
#include "util.h"

/* Adds one "root;...;leaf count" line, *count its samples; 0, or -1
 * when malformed. */
static int
add_line(struct stack_table *t, int proc, const char *s, size_t len,
	 uint64_t *count)
{
	uint32_t frames[STACKS_MAX_FRAMES];
	const char *sp = NULL, *f, *end;
	char num[24];
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
	if (parse_u64(num, 1, 1ULL << 40, count) == -1)
		return -1;
	for (f = s; f < sp; f = end + 1) {
		if ((end = memchr(f, ';', (size_t)(sp - f))) == NULL)
			end = sp;
		if (n == STACKS_MAX_FRAMES ||
		    (frames[n++] = stacks_intern(t, f, (size_t)(end - f))) ==
			STACKS_NONE)
			return -1;
	}
	return stacks_add(t, proc, frames, n, *count);
}

/* The value of "key=N" in the agent's '#' line (len bytes at s), or 0. */
static uint64_t
stats_value(const char *s, size_t len, const char *key)
{
	size_t klen = strlen(key);
	char num[24];
	uint64_t v = 0;

	for (size_t i = 0; i + klen < len; i++) {
		size_t n = 0;

		if ((i > 0 && s[i - 1] != ' ') || memcmp(s + i, key, klen))
			continue;
		while (i + klen + n < len && n < sizeof(num) - 1 &&
		       s[i + klen + n] >= '0' && s[i + klen + n] <= '9') {
			num[n] = s[i + klen + n];
			n++;
		}
		num[n] = '\0';
		if (parse_u64(num, 0, 1ULL << 40, &v) == -1)
			v = 0;
		break;
	}
	return v;
}

/* Samples the agent counted (its '#' line) but no line brought: a dump
 * cut at its size limit, or malformed lines. Kept under one frame. */
static void
add_unread(struct stack_table *t, int proc, pid_t pid, uint64_t want,
	   uint64_t got)
{
	uint32_t f;

	if (want <= got)
		return;
	f = stacks_intern_str(t, "[error lines not read]");
	log_warn("JVM %d: %llu of the window's %llu samples were not read "
		 "(a dump over %u MiB is cut, or lines were malformed)",
		 (int)pid, (unsigned long long)(want - got),
		 (unsigned long long)want, JATTACH_MAX_OUTPUT >> 20);
	if (f != STACKS_NONE)
		stacks_add(t, proc, &f, 1, want - got);
}

size_t
java_stacks_add(struct stack_table *t, int proc, pid_t pid, const char *out,
		size_t len)
{
	const char *p = out, *end = out + len, *nl;
	uint64_t want = 0, got = 0, count;
	size_t skipped = 0;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl > p && *p == '#') {
			log_info("JVM %d window: %.*s", (int)pid,
				 (int)(nl - p - 1 > 300 ? 300 : nl - p - 1),
				 p + 1);
			want = stats_value(p, (size_t)(nl - p), "samples=") +
			       stats_value(p, (size_t)(nl - p), "dropped=");
		} else if (nl > p) {
			if (add_line(t, proc, p, (size_t)(nl - p), &count) ==
			    -1)
				skipped++;
			else
				got += count;
		}
		p = nl + 1;
	}
	add_unread(t, proc, pid, want, got);
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
