/* The output directory: collapsed files with gProfiler's header, HTML. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collapsed.h"
#include "flamegraph.h"
#include "json.h"
#include "log.h"
#include "metadata.h"
#include "output.h"
#include "pprof.h"
#include "util.h"

#define LAST_COL   "last_profile.col"
#define LAST_HTML  "last_flamegraph.html"
#define LAST_PPROF "last_profile.pb.gz"

static void
put_kv_str(FILE *f, const char *key, const char *val, int comma)
{
	fprintf(f, "\"%s\": ", key);
	json_put_string(f, val);
	if (comma)
		fputs(", ", f);
}

static void
write_metadata(FILE *f, const struct window_meta *m)
{
	const char *perf_mode = m->wm_perf_mode ? m->wm_perf_mode : "fp";
	char start[32], end[32];

	fmt_iso8601(m->wm_start, start, sizeof(start));
	fmt_iso8601(m->wm_end, end, sizeof(end));
	fputs("\"metadata\": {", f);
	metadata_put(f, metadata_get());
	fprintf(f, "\"arch\": ");
	json_put_string(f, metadata_get()->am_machine);
	fprintf(f, ", \"cpu_count\": %ld, ", sysconf(_SC_NPROCESSORS_ONLN));
	put_kv_str(f, "profiling_mode", "cpu", 1);
	fprintf(f, "\"sampling_frequency\": %u, ", m->wm_frequency);
	put_kv_str(f, "start_time", start, 1);
	put_kv_str(f, "end_time", end, 1);
	fprintf(f, "\"window\": %llu, ", (unsigned long long)m->wm_window);
	/* gProfiler's argparse names, then profd's own older ones. */
	fprintf(f,
		"\"run_arguments\": {\"frequency\": %u, \"duration\": %u, "
		"\"continuous\": %s, \"profiling_mode\": \"cpu\", "
		"\"profile_api_version\": null, ",
		m->wm_frequency, m->wm_duration,
		m->wm_continuous ? "true" : "false");
	fprintf(f, "\"profiling_frequency\": %u, \"profiling_duration\": %u, ",
		m->wm_frequency, m->wm_duration);
	put_kv_str(f, "perf_mode", perf_mode, 0);
	fputs("}}, ", f);
}

/* gProfiler's switches for what the header and lines carry. */
static unsigned output_gp;

void
output_gprofiler(unsigned flags)
{
	output_gp = flags;
}

unsigned
output_gprofiler_flags(void)
{
	return output_gp;
}

/* Writes gProfiler's first line: "# " and the profile's JSON metadata.
 * Every stack line carries the index of its application metadata ("0;",
 * whose entry is null), so application_metadata_enabled is true: the
 * indexer then reads the container from the second field. */
static int write_html(FILE *f, const struct stack_table *t,
		      const struct window_meta *m);

/* gProfiler's "flamegraph_html": the window's flame graph page as a JSON
 * string when flame graphs are on (null if off or over OUTPUT_HTML_MAX). */
static void
write_html_member(FILE *f, const struct stack_table *t,
		  const struct window_meta *m)
{
	char *html = NULL;
	size_t len = 0;
	FILE *mem;
	int rv;

	if (!(output_gp & OUTPUT_HTML) ||
	    (mem = open_memstream(&html, &len)) == NULL) {
		fputs("null", f);
		return;
	}
	rv = write_html(mem, t, m);
	if (fclose(mem) == 0 && rv == 0 && len <= OUTPUT_HTML_MAX)
		json_put_string(f, html);
	else
		fputs("null", f);
	free(html);
}

/* gProfiler's "containers": the names of the window's containers, each
 * once (at most OUTPUT_MAX_CONTAINERS). */
static void
write_containers(FILE *f, const struct stack_table *t)
{
	uint32_t seen[OUTPUT_MAX_CONTAINERS];
	size_t n = 0, i, j;

	fputs("\"containers\": [", f);
	for (i = 0; i < stacks_nproc(t) && n < OUTPUT_MAX_CONTAINERS; i++) {
		uint32_t c = stacks_proc_get(t, i)->sp_container;

		for (j = 0; j < n && seen[j] != c; j++)
			;
		if (c == 0 || stacks_strlen(t, c) == 0 || j < n)
			continue;
		if (n > 0)
			fputs(", ", f);
		seen[n++] = c;
		json_put_string(f, stacks_str(t, c));
	}
	fprintf(f, "], \"container_names_enabled\": %s, ",
		(output_gp & OUTPUT_NO_CONTAINERS) ? "false" : "true");
}

static void
write_header(FILE *f, const struct stack_table *t, const struct window_meta *m)
{
	fputs("# {", f);
	write_containers(f, t);
	write_metadata(f, m);
	if (output_gp & OUTPUT_NO_METRICS)
		fputs("\"metrics\": {\"cpu_avg\": null, \"mem_avg\": null}, ",
		      f);
	else
		fprintf(f,
			"\"metrics\": {\"cpu_avg\": %.2f, \"mem_avg\": %.2f}, ",
			m->wm_cpu_avg, m->wm_mem_avg);
	if (output_gp & OUTPUT_NO_APPMD)
		fputs("\"application_metadata\": [], "
		      "\"application_metadata_enabled\": false, ",
		      f);
	else
		fputs("\"application_metadata\": [null], "
		      "\"application_metadata_enabled\": true, ",
		      f);
	fputs("\"profiling_mode\": \"cpu\", \"hwmetrics\": null, "
	      "\"htmlblob\": null, \"flamegraph_html\": ",
	      f);
	write_html_member(f, t, m);
	fputs("}\n", f);
}

typedef int (*write_fn)(FILE *f, const struct stack_table *t,
			const struct window_meta *m);

int
output_write_col(FILE *f, const struct stack_table *t,
		 const struct window_meta *m)
{
	write_header(f, t, m);
	return collapsed_write(f, t,
			       (output_gp & OUTPUT_NO_APPMD)
				   ? COLLAPSED_GPROFILER_NOIDX
				   : COLLAPSED_GPROFILER);
}

static int
write_html(FILE *f, const struct stack_table *t, const struct window_meta *m)
{
	char title[96], end[32];

	fmt_iso8601(m->wm_end, end, sizeof(end));
	snprintf(title, sizeof(title), "profd flame graph, window ending %s",
		 end);
	return flamegraph_write(f, t, title);
}

int
output_create(int dirfd, const char *name, mode_t mode)
{
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return openat(dirfd, name,
		      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      mode);
}

/* Writes name through a new temporary file and a rename, which replaces
 * whatever name was (a symbolic link is replaced, not followed). */
static int
write_atomic(struct output *o, const char *name, write_fn fn,
	     const struct stack_table *t, const struct window_meta *m)
{
	char tmp[128];
	FILE *f;
	int fd, rv;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = output_create(o->ou_dirfd, tmp, OUTPUT_MODE);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_error("cannot create %s/%s: %s", o->ou_dir, tmp,
			  strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	rv = fn(f, t, m);
	if (fflush(f) == EOF || fsync(fd) == -1)
		rv = -1;
	if (fclose(f) == EOF)
		rv = -1;
	if (rv == 0 && renameat(o->ou_dirfd, tmp, o->ou_dirfd, name) == 0)
		return 0;
	log_error("cannot write %s/%s: %s", o->ou_dir, name, strerror(errno));
	unlinkat(o->ou_dirfd, tmp, 0);
	return -1;
}

/* Points last (atomically) at the same file as name. */
static int
replace_last(struct output *o, const char *name, const char *last)
{
	char tmp[128];

	snprintf(tmp, sizeof(tmp), ".%s.tmp", last);
	unlinkat(o->ou_dirfd, tmp, 0);
	if (linkat(o->ou_dirfd, name, o->ou_dirfd, tmp, 0) == -1 ||
	    renameat(o->ou_dirfd, tmp, o->ou_dirfd, last) == -1) {
		log_error("cannot replace %s/%s: %s", o->ou_dir, last,
			  strerror(errno));
		unlinkat(o->ou_dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

static void
remove_previous(struct output *o, const char *base)
{
	char name[96];

	if (o->ou_prev[0] == '\0' || strcmp(o->ou_prev, base) == 0)
		return;
	snprintf(name, sizeof(name), "%s.col", o->ou_prev);
	unlinkat(o->ou_dirfd, name, 0);
	snprintf(name, sizeof(name), "%s.html", o->ou_prev);
	unlinkat(o->ou_dirfd, name, 0);
	snprintf(name, sizeof(name), "%s.pb.gz", o->ou_prev);
	unlinkat(o->ou_dirfd, name, 0);
}

/* Two windows that end in the same second (short windows, or windows
 * stored at once after a stall) must not overwrite each other: the later
 * gets its window number after the time. */
static void
output_unique(const struct output *o, char *base, size_t len, uint64_t window)
{
	static const char *const exts[] = {".col", ".html", ".pb.gz"};
	char name[128];

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", base, exts[i]);
		if (faccessat(o->ou_dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) ==
		    0) {
			size_t n = strlen(base);

			snprintf(base + n, len - n, "-%llu",
				 (unsigned long long)window);
			return;
		}
	}
}

int
output_write(struct output *o, const struct stack_table *t,
	     const struct window_meta *m)
{
	char base[64], name[96];
	time_t end = (time_t)m->wm_end;
	struct tm tm;
	int rv = 0;

	gmtime_r(&end, &tm);
	strftime(base, sizeof(base), "profile_%Y-%m-%dT%H:%M:%SZ", &tm);
	output_unique(o, base, sizeof(base), m->wm_window);
	snprintf(name, sizeof(name), "%s.col", base);
	if (o->ou_collapsed &&
	    (write_atomic(o, name, output_write_col, t, m) == -1 ||
	     replace_last(o, name, LAST_COL) == -1))
		return -1;
	snprintf(name, sizeof(name), "%s.pb.gz", base);
	if (o->ou_pprof && (write_atomic(o, name, pprof_write, t, m) == -1 ||
			    replace_last(o, name, LAST_PPROF) == -1))
		return -1;
	if (o->ou_flamegraph) {
		snprintf(name, sizeof(name), "%s.html", base);
		if (write_atomic(o, name, write_html, t, m) == -1 ||
		    replace_last(o, name, LAST_HTML) == -1)
			rv = -1;
	}
	if (o->ou_rotating)
		remove_previous(o, base);
	snprintf(o->ou_prev, sizeof(o->ou_prev), "%s", base);
	return rv;
}
