/* Worker shell, standalone mode: one window, collapsed stacks to stdout. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collapsed.h"
#include "log.h"
#include "worker_priv.h"

/* Creates a private scratch directory owned by the sandbox user. */
static char *
standalone_workdir(struct worker_args *a)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[256];
	uid_t uid;
	gid_t gid;
	char *dir;

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/profd-%s.XXXXXX", tmp,
		 a->wa_ctx.wc_ops->po_name);
	if ((dir = mkdtemp(tmpl)) == NULL) {
		log_error("cannot create a directory in %s: %s", tmp,
			  strerror(errno));
		return NULL;
	}
	if (geteuid() == 0 && !sandbox_disabled() &&
	    (sandbox_lookup_user(a->wa_user, a->wa_ctx.wc_ops->po_name, &uid,
				 &gid) == -1 ||
	     chown(dir, uid, gid) == -1)) {
		rmdir(dir);
		return NULL;
	}
	return strdup(dir);
}

static void
standalone_wait(uint32_t seconds)
{
	int64_t end = now_ms() + (int64_t)seconds * 1000;

	while (!worker_stopping() && now_ms() < end)
		sleep_ms(end - now_ms() < 100 ? end - now_ms() : 100);
}

static int
standalone_run(struct worker_ctx *ctx)
{
	const struct profiler_ops *ops = ctx->wc_ops;
	struct stack_table *t;
	int rv;

	if (ops->po_start(ctx) == -1)
		return WORKER_EXIT_CONFIG;
	standalone_wait(ctx->wc_opts.wo_duration);
	if ((t = stacks_new(WORKER_CHUNK_BUDGET)) == NULL) {
		ops->po_stop(ctx);
		return 1;
	}
	rv = ops->po_snapshot(ctx, 1, t);
	ops->po_stop(ctx);
	if (rv == 0 && collapsed_write(stdout, t, COLLAPSED_PLAIN) == -1) {
		log_error("cannot write to stdout: %s", strerror(errno));
		rv = -1;
	}
	stacks_free(t);
	return rv == 0 ? 0 : 1;
}

int
worker_standalone(struct worker_args *a)
{
	struct worker_ctx *ctx = &a->wa_ctx;
	char *own = NULL;
	int rv;

	if (ctx->wc_workdir == NULL) {
		if ((own = standalone_workdir(a)) == NULL)
			return 1;
		ctx->wc_workdir = own;
	}
	if (sandbox_enter(ctx->wc_ops->po_policy, a->wa_user) == -1) {
		rv = 1;
		goto out;
	}
	rv = standalone_run(ctx);
out:
	if (own != NULL && rmdir(own) == -1)
		log_warn("cannot remove %s: %s", own, strerror(errno));
	free(own);
	return rv;
}
