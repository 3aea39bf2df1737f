/* profd-upload internals. */
#ifndef PROFD_UPLOAD_H
#define PROFD_UPLOAD_H

#include <stdio.h>

#include "output.h"

#define UPLOAD_MAX_FILES 64

struct upload_args {
	struct output ua_out;
	const char *ua_outdir;
	int ua_outfd;
	const char *ua_rundir; /* supervised when set */
	const char *ua_channel; /* socket to profd in ua_rundir */
	const char *ua_user;
	int ua_syslog;
	int ua_verbose;
	char **ua_files;
	int ua_nfiles;
	FILE *ua_inputs[UPLOAD_MAX_FILES]; /* opened before the sandbox */
};

/* Opens the input files of standalone mode; 0, or -1 with a message. */
int upload_open_inputs(struct upload_args *a);
/* Writes the collapsed stacks of the inputs as one window. */
int upload_standalone(struct upload_args *a);
/* Serves profd and the profilers until told to stop. */
int upload_supervised(struct upload_args *a);

#endif
