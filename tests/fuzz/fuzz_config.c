/*
 * libFuzzer target: the profd.conf parser. The input is the file, given
 * to profd as --config through a temporary file (conf_load reads a path,
 * and refuses a link such as /proc/self/fd/N, and a file others may
 * write such as a memfd), read both at start (options_parse) and on reload
 * (options_reload).
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profd.h"
#include "secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int conf_fd = -1;
static char conf_path[] = "/tmp/profd-fuzz-conf.XXXXXX";

static void
conf_remove(void)
{
	unlink(conf_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a0[] = "profd", a1[] = "--config", *argv[4];
	struct profd_opts o, fresh;
	char err[256];

	if (conf_fd == -1) {
		if ((conf_fd = mkostemp(conf_path, O_CLOEXEC)) == -1)
			abort();
		atexit(conf_remove);
	}
	if (ftruncate(conf_fd, 0) == -1 ||
	    (size > 0 && pwrite(conf_fd, data, size, 0) != (ssize_t)size))
		abort();
	argv[0] = a0, argv[1] = a1, argv[2] = conf_path, argv[3] = NULL;
	if (options_parse(&o, 3, argv) == -1) {
		/* A running profd re-reads the same file. */
		if (options_reload(&o, &fresh, err, sizeof(err)) != 0)
			abort();
	}
	/* As profd does at exit; fds 0 to 2 are never the token's. */
	if (o.po_token != NULL && o.po_token_fd > 2)
		close(o.po_token_fd);
	secret_free(o.po_token);
	options_free();
	return 0;
}
