/*
 * perf_event_open ring buffers: one sampling event and its mmap'd ring,
 * read record by record without copying except where a record wraps.
 */
#ifndef PROFD_PERF_RING_H
#define PROFD_PERF_RING_H

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PERF_RING_PAGES	  64	     /* data pages of one ring, a power of 2 */
#define PERF_RING_MAX_REC (1u << 16) /* a record's header allows no more */

struct perf_ring {
	int pr_fd;  /* the event, -1 when closed */
	int pr_cpu; /* the CPU it samples */
	struct perf_event_mmap_page *pr_meta;
	char *pr_data;	 /* PERF_RING_PAGES pages after pr_meta */
	size_t pr_size;	 /* bytes of pr_data */
	size_t pr_map;	 /* bytes mapped in all */
	char *pr_bounce; /* a record that wraps is copied here */
};

/* Called for each record read; h is valid during the call only. */
typedef void (*perf_ring_fn)(void *arg, const struct perf_event_header *h);

/* Opens the event a for pid on cpu (disabled if a says so), close-on-exec,
 * and maps its ring; 0, or -1 with errno (the ring stays closed). */
int perf_ring_open(struct perf_ring *r, struct perf_event_attr *a, pid_t pid,
		   int cpu);
/* Unmaps the ring and closes the event; a closed ring is allowed. */
void perf_ring_close(struct perf_ring *r);
/* Enables (on 1) or disables (0) the event; 0 or -1 with errno. */
int perf_ring_enable(struct perf_ring *r, int on);
/* Calls fn for every complete record in the ring and frees their space;
 * returns how many were read. */
size_t perf_ring_drain(struct perf_ring *r, perf_ring_fn fn, void *arg);

#endif
