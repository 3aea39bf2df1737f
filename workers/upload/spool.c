/* The spool: windows waiting for delivery, on disk, one queue per backend. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "spool.h"

#define SPOOL_EXT     ".win"
#define REASON_EXT    ".reason"
#define SPOOL_NAMELEN (20 + sizeof(SPOOL_EXT) - 1)

struct spool_item {
	uint64_t si_seq;
	uint64_t si_size;
};

static void
spool_name(char *buf, size_t len, uint64_t seq)
{
	snprintf(buf, len, "%020" PRIu64 SPOOL_EXT, seq);
}

/* Returns the sequence number of an entry's file name, 0 if it is not
 * one. */
static uint64_t
spool_seq(const char *name)
{
	uint64_t v = 0;

	if (strlen(name) != SPOOL_NAMELEN || strcmp(name + 20, SPOOL_EXT) != 0)
		return 0;
	for (size_t i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	return v;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct spool_item *x = a, *y = b;

	return x->si_seq < y->si_seq ? -1 : x->si_seq > y->si_seq;
}

/* Lists the entries of the directory open on fd, oldest first, into a
 * malloc'd array. 0 or -1. */
static int
spool_scan(int fd, struct spool_item **out, size_t *n)
{
	struct spool_item *items = NULL, *p;
	size_t cap = 0, count = 0, seen = 0;
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int dfd;

	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL && seen++ < SPOOL_SCAN_MAX) {
		uint64_t seq = spool_seq(d->d_name);

		if (seq == 0 || fstatat(fd, d->d_name, &st, 0) == -1)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = realloc(items, cap * sizeof(*p))) == NULL) {
				free(items);
				closedir(dir);
				return -1;
			}
			items = p;
		}
		items[count].si_seq = seq;
		items[count++].si_size = (uint64_t)st.st_size;
	}
	closedir(dir);
	if (count > 1)
		qsort(items, count, sizeof(*items), item_cmp);
	*out = items;
	*n = count;
	return 0;
}

/* Removes temporary files a crash left in the spool directory. */
static void
spool_clean(struct spool *sp)
{
	struct dirent *d;
	DIR *dir;
	int dfd;

	if ((dfd = fcntl(sp->sp_dirfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, ".w", 2) == 0 &&
		    strstr(d->d_name, ".tmp") != NULL)
			unlinkat(sp->sp_dirfd, d->d_name, 0);
	closedir(dir);
}

/* Makes and opens directory name under dirfd (AT_FDCWD: a path), owned
 * by uid:gid when root. */
static int
spool_mkdir(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (geteuid() == 0 && fchown(fd, uid, gid) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Numbers the next entry after those kept in the directory on fd, so that
 * a new window never takes the name of a refused one. */
static void
spool_next_after(struct spool *sp, int fd)
{
	struct spool_item *items;
	size_t n;

	if (spool_scan(fd, &items, &n) == -1)
		return;
	if (n > 0 && items[n - 1].si_seq >= sp->sp_next)
		sp->sp_next = items[n - 1].si_seq + 1;
	free(items);
}

static int
spool_open_queue(struct spool *sp, const char *name, uid_t uid, gid_t gid)
{
	struct spool_queue *q = &sp->sp_q[sp->sp_nq];
	struct spool_item *items;
	size_t n;

	snprintf(q->sq_name, sizeof(q->sq_name), "%s", name);
	q->sq_rejfd = -1;
	if ((q->sq_fd = spool_mkdir(sp->sp_dirfd, name, uid, gid)) == -1 ||
	    (q->sq_rejfd = spool_mkdir(sp->sp_rejfd, name, uid, gid)) == -1 ||
	    spool_scan(q->sq_fd, &items, &n) == -1) {
		log_error("cannot open the spool queue %s/%s: %s", sp->sp_dir,
			  name, strerror(errno));
		return -1;
	}
	sp->sp_nq++;
	spool_next_after(sp, q->sq_rejfd);
	if (n > 0) {
		if (items[n - 1].si_seq >= sp->sp_next)
			sp->sp_next = items[n - 1].si_seq + 1;
		log_info("spool %s: %zu windows to deliver from an earlier run",
			 name, n);
	}
	free(items);
	return 0;
}

int
spool_open(struct spool *sp, const char *dir, const char *const *names,
	   uid_t uid, gid_t gid)
{
	sp->sp_dir = dir;
	sp->sp_chunkfd = sp->sp_rejfd = -1;
	sp->sp_nq = 0;
	sp->sp_next = 1;
	if (sp->sp_max_files == 0)
		sp->sp_max_files = SPOOL_DEFAULT_FILES;
	if (sp->sp_max_bytes == 0)
		sp->sp_max_bytes = SPOOL_DEFAULT_BYTES;
	pthread_mutex_init(&sp->sp_lock, NULL);
	if ((sp->sp_dirfd = spool_mkdir(AT_FDCWD, dir, uid, gid)) == -1) {
		log_error("cannot open the spool directory %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	spool_clean(sp);
	if ((sp->sp_chunkfd = spool_mkdir(sp->sp_dirfd, "chunks", uid, gid)) ==
	    -1) {
		log_error("cannot open %s/chunks: %s", dir, strerror(errno));
		return -1;
	}
	if ((sp->sp_rejfd =
		 spool_mkdir(sp->sp_dirfd, SPOOL_REJECTED, uid, gid)) == -1) {
		log_error("cannot open %s/" SPOOL_REJECTED ": %s", dir,
			  strerror(errno));
		return -1;
	}
	for (size_t i = 0; names[i] != NULL; i++)
		if (i >= SPOOL_MAX_QUEUES ||
		    spool_open_queue(sp, names[i], uid, gid) == -1)
			return -1;
	return 0;
}

void
spool_close(struct spool *sp)
{
	for (size_t i = 0; i < sp->sp_nq; i++) {
		close(sp->sp_q[i].sq_fd);
		if (sp->sp_q[i].sq_rejfd >= 0)
			close(sp->sp_q[i].sq_rejfd);
	}
	if (sp->sp_dirfd >= 0)
		close(sp->sp_dirfd);
	if (sp->sp_chunkfd >= 0)
		close(sp->sp_chunkfd);
	if (sp->sp_rejfd >= 0)
		close(sp->sp_rejfd);
	sp->sp_nq = 0;
	sp->sp_dirfd = sp->sp_chunkfd = sp->sp_rejfd = -1;
	pthread_mutex_destroy(&sp->sp_lock);
}

/* Drops the oldest entries of the directory on fd (and, with reasons,
 * their .reason files) until it is within the spool's bounds; returns
 * how many it dropped. */
static uint64_t
spool_trim(struct spool *sp, int fd, int reasons)
{
	struct spool_item *items;
	uint64_t bytes = 0, dropped = 0;
	size_t n, i;
	char name[32];

	if (spool_scan(fd, &items, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		bytes += items[i].si_size;
	for (i = 0; i < n && (n - i > sp->sp_max_files ||
			      (bytes > sp->sp_max_bytes && n - i > 1));
	     i++) {
		spool_name(name, sizeof(name), items[i].si_seq);
		if (unlinkat(fd, name, 0) == 0)
			dropped++;
		if (reasons) {
			snprintf(name, sizeof(name), "%020" PRIu64 REASON_EXT,
				 items[i].si_seq);
			unlinkat(fd, name, 0);
		}
		bytes -= items[i].si_size;
	}
	free(items);
	return dropped;
}

/* Drops the oldest entries of queue q until it is within its bounds. */
static void
spool_bound(struct spool *sp, struct spool_queue *q)
{
	uint64_t dropped = spool_trim(sp, q->sq_fd, 0);

	if (dropped > 0) {
		q->sq_dropped += dropped;
		log_warn("spool %s is full (%" PRIu64 " windows, %" PRIu64
			 " bytes at most): dropped the %" PRIu64
			 " oldest, %" PRIu64 " dropped since start",
			 q->sq_name, sp->sp_max_files, sp->sp_max_bytes,
			 dropped, q->sq_dropped);
	}
}

static int
spool_write(struct spool *sp, const char *tmp, const struct window_meta *m,
	    spool_write_fn fn, void *arg)
{
	FILE *f;
	int fd, rv;

	fd = output_create(sp->sp_dirfd, tmp, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f,
		SPOOL_MAGIC " %" PRIu64 " %" PRId64 " %" PRId64
			    " %.2f %.2f %u %u\n",
		m->wm_window, m->wm_start, m->wm_end, m->wm_cpu_avg,
		m->wm_mem_avg, m->wm_frequency, m->wm_duration);
	rv = fn(f, arg);
	if (fflush(f) == EOF || fsync(fd) == -1)
		rv = -1;
	if (fclose(f) == EOF)
		rv = -1;
	return rv;
}

int
spool_put(struct spool *sp, const struct window_meta *m, spool_write_fn fn,
	  void *arg)
{
	char tmp[48], name[32];
	uint64_t seq;
	int rv = 0;

	pthread_mutex_lock(&sp->sp_lock);
	seq = sp->sp_next++;
	snprintf(tmp, sizeof(tmp), ".w%" PRIu64 ".tmp", seq);
	spool_name(name, sizeof(name), seq);
	if (spool_write(sp, tmp, m, fn, arg) == -1) {
		log_error("cannot write window %" PRIu64 " to the spool %s: %s",
			  m->wm_window, sp->sp_dir, strerror(errno));
		rv = -1;
	}
	for (size_t i = 0; rv == 0 && i < sp->sp_nq; i++) {
		if (linkat(sp->sp_dirfd, tmp, sp->sp_q[i].sq_fd, name, 0) ==
			-1 ||
		    fsync(sp->sp_q[i].sq_fd) == -1) {
			log_error("cannot queue window %" PRIu64 " for %s: %s",
				  m->wm_window, sp->sp_q[i].sq_name,
				  strerror(errno));
			rv = -1;
		}
	}
	unlinkat(sp->sp_dirfd, tmp, 0);
	for (size_t i = 0; i < sp->sp_nq; i++)
		spool_bound(sp, &sp->sp_q[i]);
	pthread_mutex_unlock(&sp->sp_lock);
	return rv;
}

static int
spool_parse(struct spool_entry *e, const char *line)
{
	struct window_meta *m = &e->se_meta;
	unsigned long long win;
	long long start, end;
	int used = 0;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, SPOOL_MAGIC " %llu %lld %lld %lf %lf %u %u%n", &win,
		   &start, &end, &m->wm_cpu_avg, &m->wm_mem_avg,
		   &m->wm_frequency, &m->wm_duration, &used) != 7 ||
	    line[used] != '\n')
		return -1;
	m->wm_window = win;
	m->wm_start = start;
	m->wm_end = end;
	return 0;
}

/* Opens entry seq of queue q. 0, or -1 (errno ENOENT: gone; EINVAL: bad
 * header). */
static int
spool_load(struct spool_queue *q, uint64_t seq, struct spool_entry *e)
{
	char name[32], line[256];
	struct stat st;
	int fd;

	spool_name(name, sizeof(name), seq);
	memset(e, 0, sizeof(*e));
	e->se_seq = seq;
	fd = openat(q->sq_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (e->se_f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	e->se_size = (uint64_t)st.st_size;
	if (fgets(line, sizeof(line), e->se_f) == NULL ||
	    spool_parse(e, line) == -1) {
		fclose(e->se_f);
		e->se_f = NULL;
		errno = EINVAL;
		return -1;
	}
	e->se_body = ftell(e->se_f);
	return 0;
}

int
spool_head(struct spool *sp, size_t q, struct spool_entry *e)
{
	struct spool_queue *sq = &sp->sp_q[q];
	struct spool_item *items;
	size_t n, i;
	int rv = 0;

	pthread_mutex_lock(&sp->sp_lock);
	if (spool_scan(sq->sq_fd, &items, &n) == -1) {
		pthread_mutex_unlock(&sp->sp_lock);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (spool_load(sq, items[i].si_seq, e) == 0) {
			rv = 1;
			break;
		}
		if (errno == EINVAL) {
			log_warn("spool %s: entry %" PRIu64
				 " is not a window; removed",
				 sq->sq_name, items[i].si_seq);
			spool_remove(sp, q, items[i].si_seq);
		}
	}
	free(items);
	pthread_mutex_unlock(&sp->sp_lock);
	return rv;
}

void
spool_remove(struct spool *sp, size_t q, uint64_t seq)
{
	char name[32];

	spool_name(name, sizeof(name), seq);
	if (unlinkat(sp->sp_q[q].sq_fd, name, 0) == 0)
		fsync(sp->sp_q[q].sq_fd);
}

/* Writes reason, one line, to SPOOL/rejected/<queue>/<seq>.reason. */
static int
spool_write_reason(struct spool_queue *sq, uint64_t seq, const char *reason)
{
	char name[32];
	FILE *f;
	int fd, rv = 0;

	snprintf(name, sizeof(name), "%020" PRIu64 REASON_EXT, seq);
	fd = output_create(sq->sq_rejfd, name, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "%s\n", reason);
	if (fflush(f) == EOF || fsync(fd) == -1)
		rv = -1;
	if (fclose(f) == EOF)
		rv = -1;
	return rv;
}

int
spool_reject(struct spool *sp, size_t q, uint64_t seq, const char *reason)
{
	struct spool_queue *sq = &sp->sp_q[q];
	uint64_t dropped;
	char name[32];
	int rv = 0;

	spool_name(name, sizeof(name), seq);
	pthread_mutex_lock(&sp->sp_lock);
	unlinkat(sq->sq_rejfd, name, 0);
	if (spool_write_reason(sq, seq, reason) == -1 ||
	    linkat(sq->sq_fd, name, sq->sq_rejfd, name, 0) == -1 ||
	    fsync(sq->sq_rejfd) == -1) {
		log_error("spool %s: cannot keep refused entry %" PRIu64
			  " in %s/" SPOOL_REJECTED "/%s: %s",
			  sq->sq_name, seq, sp->sp_dir, sq->sq_name,
			  strerror(errno));
		rv = -1;
	}
	spool_remove(sp, q, seq);
	if ((dropped = spool_trim(sp, sq->sq_rejfd, 1)) > 0)
		log_warn("%s/" SPOOL_REJECTED
			 "/%s is full: dropped the %" PRIu64
			 " oldest refused windows",
			 sp->sp_dir, sq->sq_name, dropped);
	pthread_mutex_unlock(&sp->sp_lock);
	return rv;
}

void
spool_entry_close(struct spool_entry *e)
{
	if (e->se_f != NULL)
		fclose(e->se_f);
	e->se_f = NULL;
}

size_t
spool_count(struct spool *sp, size_t q)
{
	struct spool_item *items;
	size_t n;

	pthread_mutex_lock(&sp->sp_lock);
	if (spool_scan(sp->sp_q[q].sq_fd, &items, &n) == -1)
		n = 0;
	else
		free(items);
	pthread_mutex_unlock(&sp->sp_lock);
	return n;
}

#define JOURNAL_EXT ".chunk"

int
spool_journal_put(struct spool *sp, uint64_t window, const char *worker,
		  const void *buf, size_t len)
{
	char name[64], tmp[72], who[33];
	size_t n = 0;
	int fd, rv = -1;

	/* The worker's name as a file name: no '/', no dot files. */
	for (; worker[n] != '\0' && n < sizeof(who) - 1; n++)
		who[n] = (worker[n] >= 'a' && worker[n] <= 'z') ||
				 (worker[n] >= '0' && worker[n] <= '9') ||
				 worker[n] == '-'
			     ? worker[n]
			     : '_';
	who[n] = '\0';
	snprintf(name, sizeof(name), "%" PRIu64 ".%s" JOURNAL_EXT, window, who);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = output_create(sp->sp_chunkfd, tmp, 0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, buf, len) == 0 && fsync(fd) == 0 &&
	    renameat(sp->sp_chunkfd, tmp, sp->sp_chunkfd, name) == 0 &&
	    fsync(sp->sp_chunkfd) == 0)
		rv = 0;
	if (rv == -1)
		unlinkat(sp->sp_chunkfd, tmp, 0);
	close(fd);
	return rv;
}

/* Returns the window of a journal file name, 0 if it is not one. */
static uint64_t
journal_window(const char *name)
{
	size_t n = strlen(name), ext = sizeof(JOURNAL_EXT) - 1;
	uint64_t v = 0;
	size_t i;

	if (n <= ext || strcmp(name + n - ext, JOURNAL_EXT) != 0)
		return 0;
	for (i = 0; name[i] >= '0' && name[i] <= '9' && i < 20; i++)
		v = v * 10 + (uint64_t)(name[i] - '0');
	return name[i] == '.' ? v : 0;
}

/* Calls fn(arg, name, window) for each journal file. */
static void
journal_each(struct spool *sp, int (*fn)(void *, const char *, uint64_t),
	     void *arg)
{
	struct dirent *d;
	DIR *dir;
	int dfd;
	size_t seen = 0;

	if ((dfd = fcntl(sp->sp_chunkfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	rewinddir(dir); /* the offset is shared with sp_chunkfd */
	while ((d = readdir(dir)) != NULL && seen++ < SPOOL_SCAN_MAX) {
		uint64_t w = journal_window(d->d_name);

		if (w != 0 && fn(arg, d->d_name, w) != 0)
			break;
	}
	closedir(dir);
}

struct drop_ctx {
	struct spool *dc_sp;
	uint64_t dc_window;
};

static int
journal_drop_one(void *arg, const char *name, uint64_t w)
{
	struct drop_ctx *c = arg;

	if (w <= c->dc_window)
		unlinkat(c->dc_sp->sp_chunkfd, name, 0);
	return 0;
}

void
spool_journal_drop(struct spool *sp, uint64_t window)
{
	struct drop_ctx c = {sp, window};

	if (sp->sp_chunkfd < 0)
		return;
	journal_each(sp, journal_drop_one, &c);
	fsync(sp->sp_chunkfd);
}

struct load_ctx {
	struct spool *lc_sp;
	size_t lc_max;
	size_t lc_n;
	void (*lc_fn)(void *arg, const void *buf, size_t len);
	void *lc_arg;
};

static int
journal_load_one(void *arg, const char *name, uint64_t w)
{
	struct load_ctx *c = arg;
	struct stat st;
	void *buf;
	int fd;

	fd = openat(c->lc_sp->sp_chunkfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size <= c->lc_max &&
	    (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		if (read(fd, buf, (size_t)st.st_size) == st.st_size)
			c->lc_fn(c->lc_arg, buf, (size_t)st.st_size);
		free(buf);
	} else {
		log_warn("journal: %s is not a chunk; ignored", name);
	}
	close(fd);
	return ++c->lc_n >= SPOOL_JOURNAL_MAX;
}

size_t
spool_journal_load(struct spool *sp, size_t max,
		   void (*fn)(void *arg, const void *buf, size_t len),
		   void *arg)
{
	struct load_ctx c = {sp, max, 0, fn, arg};

	if (sp->sp_chunkfd >= 0)
		journal_each(sp, journal_load_one, &c);
	return c.lc_n;
}
