/* profd-upload standalone: collapsed stacks in, one window out. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collapsed.h"
#include "log.h"
#include "upload.h"

int
upload_open_inputs(struct upload_args *a)
{
	if (a->ua_nfiles > UPLOAD_MAX_FILES) {
		fprintf(stderr, "profd-upload: at most %d files\n",
			UPLOAD_MAX_FILES);
		return -1;
	}
	for (int i = 0; i < a->ua_nfiles; i++) {
		a->ua_inputs[i] = fopen(a->ua_files[i], "re");
		if (a->ua_inputs[i] == NULL) {
			fprintf(stderr, "profd-upload: cannot open %s: %s\n",
				a->ua_files[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Reads an ISO 8601 time after key in a gProfiler header; 0 if none. */
static int64_t
header_time(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	struct tm tm;

	if (p == NULL)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == ':' || *p == '"')
		p++;
	memset(&tm, 0, sizeof(tm));
	if (strptime(p, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

/* Reads one input: gProfiler's collapsed file when its first line is its
 * JSON header (whose times then become the window's), else collapsed
 * stacks as profd-perf prints them. */
static int
upload_read_one(FILE *f, struct stack_table *t, struct window_meta *m,
		struct collapsed_stats *st)
{
	enum collapsed_fmt fmt = COLLAPSED_PLAIN;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "# {", 3) == 0) {
			fmt = collapsed_header_fmt(line);
			if (m->wm_start == 0) {
				m->wm_start =
				    header_time(line, "\"start_time\"");
				m->wm_end = header_time(line, "\"end_time\"");
			}
		} else {
			while (n > 0 &&
			       (line[n - 1] == '\n' || line[n - 1] == '\r'))
				n--;
			if (n > 0 &&
			    collapsed_parse_line(t, line, (size_t)n, fmt) == -1)
				st->cs_skipped++;
		}
	}
	free(line);
	return collapsed_read(f, t, fmt, st);
}

static int
upload_read(struct upload_args *a, struct stack_table *t, struct window_meta *m)
{
	struct collapsed_stats st = {0, 0};
	int rv = 0;

	if (a->ua_nfiles == 0)
		rv = upload_read_one(stdin, t, m, &st);
	for (int i = 0; i < a->ua_nfiles; i++) {
		if (upload_read_one(a->ua_inputs[i], t, m, &st))
			rv = -1;
		fclose(a->ua_inputs[i]);
	}
	if (st.cs_skipped > 0)
		log_warn("%llu malformed lines skipped",
			 (unsigned long long)st.cs_skipped);
	return rv;
}

int
upload_standalone(struct upload_args *a)
{
	struct window_meta m;
	struct stack_table *t;
	int rv;

	if ((t = stacks_new(0)) == NULL)
		return 1;
	memset(&m, 0, sizeof(m));
	if (upload_read(a, t, &m) == -1) {
		log_error("cannot read the input: %s", strerror(errno));
		stacks_free(t);
		return 1;
	}
	m.wm_window = 1;
	if (m.wm_start == 0 || m.wm_end < m.wm_start)
		m.wm_start = m.wm_end = time(NULL);
	m.wm_frequency = 0;
	rv = upload_store(a, t, &m);
	stacks_free(t);
	if (rv == 0 && a->ua_out.ou_dirfd >= 0)
		printf("%s/last_profile.col\n", a->ua_out.ou_dir);
	return rv == 0 ? 0 : 1;
}
