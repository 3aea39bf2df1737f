/* --perf-script-input: saved perf script text through the live parser. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "perf_input.h"
#include "perf_procs.h"
#include "perf_record.h"
#include "perf_script.h"

static int input_fd = -1;
static const char *input_name;

int
perf_input_option(const char *arg)
{
	int fd;

	if (strcmp(arg, "-") == 0)
		fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "%s: cannot open %s: %s\n",
			program_invocation_short_name, arg, strerror(errno));
		return -1;
	}
	if (input_fd != -1)
		close(input_fd);
	input_fd = fd;
	input_name = strcmp(arg, "-") == 0 ? "standard input" : arg;
	return 0;
}

int
perf_input_active(void)
{
	return input_fd != -1;
}

int
perf_input_start(struct worker_ctx *ctx)
{
	if (ctx->wc_supervised) {
		log_error("--perf-script-input is for standalone runs only");
		return -1;
	}
	/* The input is the whole window: nothing to wait for. */
	ctx->wc_opts.wo_duration = 0;
	return 0;
}

int
perf_input_parse(struct worker_ctx *ctx, struct stack_table *t)
{
	const struct perf_opts *o = perf_opts_of(ctx);
	struct perf_parse_stats st;
	struct perf_procs *procs;
	struct perf_parser *p = NULL;
	int rv;

	if ((procs = perf_procs_new()) == NULL ||
	    (p = perf_parser_new(
		 t, o->wo_insert_dso_name ? PERF_INSERT_DSO_NAME : 0,
		 perf_procs_resolve, procs)) == NULL) {
		perf_procs_free(procs);
		return -1;
	}
	errno = 0;
	if ((rv = perf_pump(input_fd, p)) == -1 && errno != 0)
		log_error("cannot read %s: %s", input_name, strerror(errno));
	perf_parser_stats(p, &st);
	log_info("%s: %llu samples, %llu skipped, %llu cut", input_name,
		 (unsigned long long)st.ps_samples,
		 (unsigned long long)st.ps_skipped,
		 (unsigned long long)st.ps_cut);
	perf_parser_free(p);
	perf_procs_free(procs);
	return rv;
}

void
perf_input_stop(void)
{
	if (input_fd != -1)
		close(input_fd);
	input_fd = -1;
}
