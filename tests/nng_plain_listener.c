/*
 * nng_plain_listener: a TEST-ONLY nng listener linked with nng alone, none
 * of profd's code: the positive control of test_attack_handshake.sh. It
 * listens with pair0 on ipc://PATH, refuses every connection as a worker
 * channel refuses a stranger's, prints "nng VERSION" and "ready", and
 * waits to be killed.
 */
#include <stdio.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>

static void
refuse(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)ev;
	(void)arg;
	nng_pipe_close(p);
}

int
main(int argc, char **argv)
{
	char url[256];
	nng_socket s;
	int rv;

	if (argc != 2 || snprintf(url, sizeof(url), "ipc://%s", argv[1]) >=
			     (int)sizeof(url)) {
		fprintf(stderr, "usage: nng_plain_listener PATH\n");
		return 2;
	}
	if ((rv = nng_pair0_open(&s)) != 0 ||
	    (rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, refuse, NULL)) != 0 ||
	    (rv = nng_listen(s, url, NULL, 0)) != 0) {
		fprintf(stderr, "nng_plain_listener: %s\n", nng_strerror(rv));
		return 1;
	}
	printf("nng %s\nready\n", nng_version());
	fflush(stdout);
	for (;;)
		pause();
}
