/* profd-upload standalone: collapsed stacks in, one window out. */
#include "config.h"

#include <errno.h>
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

static int
upload_read(struct upload_args *a, struct stack_table *t)
{
	struct collapsed_stats st = {0, 0};
	int rv = 0;

	if (a->ua_nfiles == 0)
		rv = collapsed_read(stdin, t, COLLAPSED_PLAIN, &st);
	for (int i = 0; i < a->ua_nfiles; i++) {
		if (collapsed_read(a->ua_inputs[i], t, COLLAPSED_PLAIN, &st))
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
	if (upload_read(a, t) == -1) {
		log_error("cannot read the input: %s", strerror(errno));
		stacks_free(t);
		return 1;
	}
	memset(&m, 0, sizeof(m));
	m.wm_window = 1;
	m.wm_start = m.wm_end = time(NULL);
	m.wm_frequency = 0;
	rv = output_write(&a->ua_out, t, &m);
	stacks_free(t);
	if (rv == 0)
		printf("%s/last_profile.col\n", a->ua_out.ou_dir);
	return rv == 0 ? 0 : 1;
}
