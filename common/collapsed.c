/* Collapsed stack format writer and reader. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collapsed.h"

#define APPID_PREFIX "appid: "

int
collapsed_put_frame(FILE *f, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != ';' && c >= 0x20)
			continue;
		if (fwrite(s + start, 1, i - start, f) != i - start ||
		    fputc('_', f) == EOF)
			return -1;
		start = i + 1;
	}
	return fwrite(s + start, 1, len - start, f) == len - start ? 0 : -1;
}

struct write_ctx {
	FILE *wc_f;
	const struct stack_table *wc_t;
	enum collapsed_fmt wc_fmt;
};

static int
put_id(struct write_ctx *c, uint32_t id)
{
	return collapsed_put_frame(c->wc_f, stacks_str(c->wc_t, id),
				   stacks_strlen(c->wc_t, id));
}

static int
write_prefix(struct write_ctx *c, const struct stack_proc *p)
{
	if (c->wc_fmt == COLLAPSED_GPROFILER && fputs("0;", c->wc_f) == EOF)
		return -1;
	if (c->wc_fmt != COLLAPSED_PLAIN) {
		if (put_id(c, p->sp_container) || fputc(';', c->wc_f) == EOF)
			return -1;
	}
	if (put_id(c, p->sp_comm) == -1)
		return -1;
	if (c->wc_fmt != COLLAPSED_PLAIN && p->sp_app_id != 0 &&
	    (fputs(";" APPID_PREFIX, c->wc_f) == EOF ||
	     put_id(c, p->sp_app_id)))
		return -1;
	return 0;
}

static int
write_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	struct write_ctx *c = arg;

	if (write_prefix(c, p) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fputc(';', c->wc_f) == EOF || put_id(c, frames[i]) == -1)
			return -1;
	return fprintf(c->wc_f, " %llu\n", (unsigned long long)count) < 0 ? -1
									  : 0;
}

int
collapsed_write(FILE *f, const struct stack_table *t, enum collapsed_fmt fmt)
{
	struct write_ctx c = {f, t, fmt};

	if (stacks_foreach(t, write_stack, &c) != 0)
		return -1;
	return fflush(f) == EOF ? -1 : 0;
}

/* Splits "a;b;c count" into the stack text and a count. */
static int
split_count(const char *line, size_t len, size_t *stack_len, uint64_t *count)
{
	size_t sp = len;
	uint64_t v = 0;

	while (sp > 0 && line[sp - 1] != ' ')
		sp--;
	if (sp == 0 || sp == len || sp - 1 == 0)
		return -1;
	for (size_t i = sp; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(line[i] - '0');
		if (v > COLLAPSED_MAX_COUNT)
			return -1;
	}
	if (v == 0)
		return -1;
	*stack_len = sp - 1;
	*count = v;
	return 0;
}

struct cursor {
	const char *cu_p;
	const char *cu_end;
	int cu_done;
};

/* Returns the next ';'-separated field. */
static int
next_field(struct cursor *c, const char **s, size_t *len)
{
	const char *semi;

	if (c->cu_done)
		return -1;
	semi = memchr(c->cu_p, ';', (size_t)(c->cu_end - c->cu_p));
	*s = c->cu_p;
	if (semi == NULL) {
		*len = (size_t)(c->cu_end - c->cu_p);
		c->cu_done = 1;
	} else {
		*len = (size_t)(semi - c->cu_p);
		c->cu_p = semi + 1;
	}
	return 0;
}

static int
parse_gprofiler_prefix(struct cursor *c, struct stack_table *t,
		       uint32_t *container, enum collapsed_fmt fmt)
{
	const char *s;
	size_t len;

	if (fmt == COLLAPSED_GPROFILER &&
	    (next_field(c, &s, &len) == -1 || len == 0 || len > 9 ||
	     strspn(s, "0123456789") < len))
		return -1;
	if (next_field(c, &s, &len) == -1)
		return -1;
	*container = stacks_intern(t, s, len);
	return *container == STACKS_NONE ? -1 : 0;
}

static int
parse_frames(struct cursor *c, struct stack_table *t, uint32_t *frames,
	     size_t *n, uint32_t *app_id, enum collapsed_fmt fmt)
{
	const char *s;
	size_t len;

	*n = 0;
	*app_id = 0;
	while (next_field(c, &s, &len) == 0) {
		if (fmt != COLLAPSED_PLAIN && *n == 0 && *app_id == 0 &&
		    len > strlen(APPID_PREFIX) &&
		    memcmp(s, APPID_PREFIX, strlen(APPID_PREFIX)) == 0) {
			*app_id = stacks_intern(t, s + strlen(APPID_PREFIX),
						len - strlen(APPID_PREFIX));
			if (*app_id == STACKS_NONE)
				return -1;
			continue;
		}
		if (*n >= STACKS_MAX_FRAMES)
			return -1;
		if ((frames[(*n)++] = stacks_intern(t, s, len)) == STACKS_NONE)
			return -1;
	}
	return *n == 0 ? -1 : 0;
}

static int
parse_stack(struct stack_table *t, const char *line, size_t len,
	    enum collapsed_fmt fmt, uint64_t count)
{
	uint32_t frames[STACKS_MAX_FRAMES];
	struct cursor c = {line, line + len, 0};
	uint32_t container = 0, comm, app_id;
	const char *s;
	size_t slen, n;
	int proc;

	if (fmt != COLLAPSED_PLAIN &&
	    parse_gprofiler_prefix(&c, t, &container, fmt) == -1)
		return -1;
	if (next_field(&c, &s, &slen) == -1 ||
	    (comm = stacks_intern(t, s, slen)) == STACKS_NONE)
		return -1;
	if (parse_frames(&c, t, frames, &n, &app_id, fmt) == -1)
		return -1;
	if ((proc = stacks_proc(t, 0, comm, container, app_id)) == -1)
		return -1;
	return stacks_add(t, proc, frames, n, count);
}

int
collapsed_parse_line(struct stack_table *t, const char *line, size_t len,
		     enum collapsed_fmt fmt)
{
	size_t stack_len;
	uint64_t count;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0 || line[0] == '#')
		return 1;
	/* The table's total stays within what a line may carry, so every
	 * stack written from it reads back. */
	if (len > COLLAPSED_MAX_LINE ||
	    split_count(line, len, &stack_len, &count) == -1 ||
	    stacks_total(t) > COLLAPSED_MAX_COUNT - count) {
		errno = EINVAL;
		return -1;
	}
	if (parse_stack(t, line, stack_len, fmt, count) == -1) {
		if (errno != ENOMEM)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

enum collapsed_fmt
collapsed_header_fmt(const char *header)
{
	static const char key[] = "\"application_metadata_enabled\"";
	const char *p = strstr(header, key);

	if (p == NULL)
		return COLLAPSED_GPROFILER_NOIDX;
	p += sizeof(key) - 1;
	p += strspn(p, " \t");
	if (*p++ != ':')
		return COLLAPSED_GPROFILER_NOIDX;
	p += strspn(p, " \t");
	return strncmp(p, "true", 4) == 0 ? COLLAPSED_GPROFILER
					  : COLLAPSED_GPROFILER_NOIDX;
}

/* Reads one line of at most max bytes into buf, without its newline.
 * Returns its length, -2 for an overlong line (skipped to its end), or -1
 * at the end of f. NUL bytes are kept as they are. */
static ssize_t
read_line(FILE *f, char *buf, size_t max)
{
	size_t n = 0;
	int c, over = 0;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n < max)
			buf[n++] = (char)c;
		else
			over = 1;
	}
	if (c == EOF && n == 0 && !over)
		return -1;
	return over ? -2 : (ssize_t)n;
}

int
collapsed_read(FILE *f, struct stack_table *t, enum collapsed_fmt fmt,
	       struct collapsed_stats *st)
{
	ssize_t n;
	char *line;
	int rv;

	if ((line = malloc(COLLAPSED_MAX_LINE)) == NULL)
		return -1;
	while ((n = read_line(f, line, COLLAPSED_MAX_LINE)) != -1) {
		if (n == -2 || memchr(line, '\0', (size_t)n) != NULL) {
			st->cs_skipped++;
			continue;
		}
		rv = collapsed_parse_line(t, line, (size_t)n, fmt);
		if (rv == 0)
			st->cs_lines++;
		else if (rv == -1)
			st->cs_skipped++;
	}
	free(line);
	return ferror(f) ? -1 : 0;
}
