/* What workers write to stdout and stderr: read from their pipe, logged
 * under the worker's name, escaped, and at most PROFD_LOG_RATE lines a
 * second each. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"
#include "util.h"

/* Logs one line of w's; a worker's own "profd-NAME: " prefix is dropped,
 * since profd names it. */
static void
wlog_line(struct worker *w, char *line)
{
	char prog[PROFD_NAME_MAX + 16];
	size_t plen;
	int64_t sec = now_ms() / 1000;

	if (sec != w->w_logsec) {
		if (w->w_logdropped > 0)
			log_warn("profd-%s: %u lines of its output dropped "
				 "(over %d a second)",
				 w->w_name, w->w_logdropped, PROFD_LOG_RATE);
		w->w_logsec = sec;
		w->w_loglines = 0;
		w->w_logdropped = 0;
	}
	if (++w->w_loglines > PROFD_LOG_RATE) {
		w->w_logdropped++;
		return;
	}
	plen = (size_t)snprintf(prog, sizeof(prog), "profd-%s", w->w_name);
	if (strncmp(line, prog, plen) == 0 &&
	    strncmp(line + plen, ": ", 2) == 0)
		line += plen + 2;
	log_relay(prog, line);
}

/* Logs every whole line in w's buffer and keeps the rest; a line that
 * fills the buffer is logged as it is. */
static void
wlog_split(struct worker *w)
{
	char *start = w->w_logbuf, *nl;
	size_t left = w->w_loglen;

	while ((nl = memchr(start, '\n', left)) != NULL) {
		*nl = '\0';
		wlog_line(w, start);
		left -= (size_t)(nl + 1 - start);
		start = nl + 1;
	}
	if (left == sizeof(w->w_logbuf) - 1) {
		w->w_logbuf[left] = '\0';
		wlog_line(w, start);
		left = 0;
	}
	memmove(w->w_logbuf, start, left);
	w->w_loglen = left;
}

void
wlog_read(struct worker *w)
{
	ssize_t n;

	while (w->w_logfd != -1) {
		n = read(w->w_logfd, w->w_logbuf + w->w_loglen,
			 sizeof(w->w_logbuf) - 1 - w->w_loglen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			wlog_close(w);
			return;
		}
		w->w_loglen += (size_t)n;
		wlog_split(w);
	}
}

void
wlog_close(struct worker *w)
{
	if (w->w_logfd == -1)
		return;
	if (w->w_loglen > 0) {
		w->w_logbuf[w->w_loglen] = '\0';
		wlog_line(w, w->w_logbuf);
	}
	w->w_loglen = 0;
	close(w->w_logfd);
	w->w_logfd = -1;
}

int
wlog_open(struct worker *w, int *wfd)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	/* Neither side blocks: a worker whose profd is slow (or stopped)
	 * loses lines past the pipe's 64 KiB, rather than hanging. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	wlog_read(w); /* what the last incarnation left */
	wlog_close(w);
	w->w_logfd = fds[0];
	*wfd = fds[1];
	return 0;
}
