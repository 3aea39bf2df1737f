/*
 * Choosing the cgroups perf record profiles (--perf-use-cgroups): find the
 * hierarchy perf -G resolves names in, rank its populated cgroups by CPU
 * and memory, and build the -G list.
 */
#ifndef PROFD_PERF_CGROUPS_H
#define PROFD_PERF_CGROUPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_CG_MOUNTS	   "/proc/self/mounts"
#define PERF_CG_SCAN_MAX   4096	 /* cgroup directories examined */
#define PERF_CG_DEPTH_MAX  16	 /* directory levels below the root */
#define PERF_CG_NAME_MAX   512	 /* bytes of a name (path below the root) */
#define PERF_CG_ARG_MAX	   32768 /* bytes of the -G list */
#define PERF_CG_LINE_MAX   4096	 /* bytes of one line of the mounts file */
#define PERF_CG_MOUNTS_MAX 10000 /* lines of the mounts file read */

struct perf_cg_roots {
	char cr_perf[PATH_MAX];	   /* where perf -G resolves names */
	int cr_perf_v2;		   /* that hierarchy is cgroup2 */
	char cr_cpuacct[PATH_MAX]; /* v1 cpuacct hierarchy, or "" */
	char cr_memory[PATH_MAX];  /* v1 memory hierarchy, or "" */
};

struct perf_cg_choice {
	unsigned cc_n;		      /* names in cc_arg */
	unsigned cc_docker;	      /* of which docker containers */
	unsigned cc_seen;	      /* cgroup directories examined */
	unsigned cc_candidates;	      /* populated cgroups found */
	int cc_truncated;	      /* the scan stopped at a cap */
	char cc_arg[PERF_CG_ARG_MAX]; /* "a,b,c": perf -G's argument */
};

/* Finds, from a mounts file, the hierarchy perf -G uses, as perf does (the
 * first v1 mount with perf_event, else the first cgroup2 mount), and the v1
 * cpuacct and memory hierarchies; 0, or -1 when perf has none. */
int perf_cg_roots(const char *mounts, struct perf_cg_roots *r);
/* Chooses, among the populated cgroups below r->cr_perf, the max_docker
 * docker containers with the most CPU, then the other cgroups with the
 * highest CPU seconds x 10 + memory MB until there are max in all; never
 * two nested ones. Fills c; returns c->cc_n, or -1 (out of memory). */
int perf_cg_choose(const struct perf_cg_roots *r, unsigned max,
		   unsigned max_docker, struct perf_cg_choice *c);
/* Whether a cgroup name is a docker container's: ending in docker/<id> or
 * docker-<id>.scope, <id> being 64 hex digits. */
int perf_cg_is_docker(const char *name);

#endif
