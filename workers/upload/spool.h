/*
 * The spool: windows waiting for delivery, on disk, one queue per backend.
 *
 * A window is written once (SPOOL/.w<seq>.tmp, fsynced), hard-linked into
 * the queue of every backend (SPOOL/<backend>/<seq>.win) and unlinked from
 * its temporary name; each backend delivers its queue oldest first and
 * removes an entry once delivered. Each queue is bounded by a count and a
 * size: the oldest entries are dropped first, and the drops are counted and
 * logged. The queues survive a restart.
 */
#ifndef PROFD_SPOOL_H
#define PROFD_SPOOL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "output.h"
#include "stacks.h"

#define SPOOL_MAX_QUEUES    4
#define SPOOL_DEFAULT_FILES 1000
#define SPOOL_DEFAULT_BYTES (256ull << 20)
#define SPOOL_NAME_MAX	    16
#define SPOOL_SCAN_MAX	    100000 /* directory entries read per scan */
#define SPOOL_MAGIC	    "profd-spool 1"
#define SPOOL_REJECTED	    "rejected" /* windows a server refused */
#define SPOOL_REASON_MAX    256

struct spool_queue {
	char sq_name[SPOOL_NAME_MAX];
	int sq_fd;
	int sq_rejfd;	     /* SPOOL/rejected/<name> */
	uint64_t sq_dropped; /* entries dropped for the bounds, this run */
};

struct spool {
	int sp_dirfd;
	int sp_chunkfd; /* the chunk journal, SPOOL/chunks */
	int sp_rejfd;	/* SPOOL/rejected */
	const char *sp_dir;
	struct spool_queue sp_q[SPOOL_MAX_QUEUES];
	size_t sp_nq;
	uint64_t sp_next; /* sequence number of the next entry */
	uint64_t sp_max_files;
	uint64_t sp_max_bytes;
	pthread_mutex_t sp_lock;
};

/* One entry, open for reading: its header parsed, the stream positioned
 * at the start of the profile (the collapsed file). */
struct spool_entry {
	uint64_t se_seq;
	FILE *se_f;
	long se_body; /* offset of the profile */
	uint64_t se_size;
	struct window_meta se_meta;
};

/* Writes a window's profile to f. */
typedef int (*spool_write_fn)(FILE *f, void *arg);

/* Creates dir (mode 0700) if needed, gives it to uid:gid when running as
 * root, opens it and the queue of each backend in names (NULL-ended), and
 * finds the next sequence number; before the sandbox. 0 or -1, logged. */
int spool_open(struct spool *sp, const char *dir, const char *const *names,
	       uid_t uid, gid_t gid);
/* Closes the spool. */
void spool_close(struct spool *sp);
/* Stores one window in every queue, durably, then enforces the bounds.
 * fn writes the profile. 0, or -1 with a logged reason. */
int spool_put(struct spool *sp, const struct window_meta *m, spool_write_fn fn,
	      void *arg);
/* Opens the oldest entry of queue q into e: 1 found, 0 empty, -1 error.
 * An entry that does not parse is removed with a warning. */
int spool_head(struct spool *sp, size_t q, struct spool_entry *e);
/* Removes entry seq from queue q (delivered, or refused for good). */
void spool_remove(struct spool *sp, size_t q, uint64_t seq);
/* Moves entry seq of queue q, refused for good by its server, to
 * SPOOL/rejected/<queue>/<seq>.win with the reason in <seq>.reason next
 * to it; that directory is bounded like the queue (oldest dropped
 * first). 0, or -1 logged (the entry is then removed all the same). */
int spool_reject(struct spool *sp, size_t q, uint64_t seq, const char *reason);
/* Closes an entry opened by spool_head(). */
void spool_entry_close(struct spool_entry *e);
/* Returns the number of entries in queue q. */
size_t spool_count(struct spool *sp, size_t q);

/*
 * The chunk journal: each chunk a profiler delivers is stored durably
 * (SPOOL/chunks/<window>.<worker>.chunk) before it is acknowledged, and
 * removed once its window is stored; chunks a crash left behind are
 * loaded again at start.
 */
#define SPOOL_JOURNAL_MAX 64 /* chunk files loaded at start */

/* Stores one encoded chunk durably. 0, or -1 with errno. */
int spool_journal_put(struct spool *sp, uint64_t window, const char *worker,
		      const void *buf, size_t len);
/* Removes the chunks of windows up to window. */
void spool_journal_drop(struct spool *sp, uint64_t window);
/* Calls fn(arg, buf, len) for each stored chunk (at most
 * SPOOL_JOURNAL_MAX, each at most max bytes); returns how many. */
size_t spool_journal_load(struct spool *sp, size_t max,
			  void (*fn)(void *arg, const void *buf, size_t len),
			  void *arg);

#endif
