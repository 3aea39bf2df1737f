/*
 * bench_rusage OUT CMD [ARG...]: runs CMD and writes into OUT
 * "cpu_seconds max_rss_kib exit_status": its user + system CPU time and
 * its peak resident set, from wait4(2). A benchmark helper, never
 * installed; small, so that the RSS it has when it forks (which the
 * kernel counts into the child's peak) stays far below what it measures.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_rusage OUT CMD [ARG...]\n");
		return 2;
	}
	if ((pid = fork()) == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "bench_rusage: %s: %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	if (pid == -1 || wait4(pid, &status, 0, &ru) != pid) {
		perror("bench_rusage");
		return 1;
	}
	if ((f = fopen(argv[1], "we")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	fprintf(f, "%.6f %ld %d\n",
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status)
				  : 128 + WTERMSIG(status));
	if (fclose(f) != 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
