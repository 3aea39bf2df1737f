/* Secret memory: a memfd_secret arena with a first-fit allocator whose
 * free blocks coalesce (boundary tags: each block's header holds its own
 * size and the size of the block before it). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447 /* x86_64 and arm64 */
#endif

/* A block's header; the payload follows. */
struct secret_blk {
	size_t sb_prev; /* bytes of the block before; 0 for the first */
	size_t sb_size; /* bytes of this block with its header; bit 0: used */
};

/* A free block: its payload links the free list. */
struct secret_free {
	struct secret_blk sf_h;
	struct secret_free *sf_next, *sf_prev;
};

#define SB_HDR	 sizeof(struct secret_blk)
#define SB_MIN	 sizeof(struct secret_free)
#define SB_USED	 ((size_t)1)
#define SB_ALIGN 16

static struct {
	char *sa_base;
	size_t sa_len;
	struct secret_free *sa_free;
	int sa_real;
	pthread_mutex_t sa_lock;
} arena;

static int secret_warned;

static size_t
sb_size(const struct secret_blk *b)
{
	return b->sb_size & ~SB_USED;
}

static struct secret_blk *
sb_next(struct secret_blk *b)
{
	return (struct secret_blk *)((char *)b + sb_size(b));
}

static void
free_unlink(struct secret_free *f)
{
	if (f->sf_prev != NULL)
		f->sf_prev->sf_next = f->sf_next;
	else
		arena.sa_free = f->sf_next;
	if (f->sf_next != NULL)
		f->sf_next->sf_prev = f->sf_prev;
}

static void
free_push(struct secret_free *f)
{
	f->sf_prev = NULL;
	f->sf_next = arena.sa_free;
	if (arena.sa_free != NULL)
		arena.sa_free->sf_prev = f;
	arena.sa_free = f;
}

/* Says once that secrets are readable where memfd_secret is missing. */
static void
secret_warn(int err)
{
	if (secret_warned++)
		return;
	log_warn("memfd_secret is not available (%s; booting with "
		 "secretmem.enable=1 may turn it on): the Studio token is "
		 "kept in locked memory that processes holding "
		 "CAP_SYS_PTRACE can read",
		 strerror(err));
}

/* Maps size bytes of secret memory, or of locked anonymous memory. */
static void *
secret_map(size_t size, int *real)
{
	void *p = MAP_FAILED;
	int fd, err;

	fd = (int)syscall(SYS_memfd_secret, (unsigned)O_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (off_t)size) == 0)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	if (fd >= 0)
		close(fd);
	if ((*real = p != MAP_FAILED))
		return p;
	secret_warn(err);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, size);
	(void)madvise(p, size, MADV_DONTDUMP);
	return p;
}

int
secret_init(size_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct secret_blk *end;
	char *p;
	int real;

	size = (size + (size_t)pg - 1) & ~((size_t)pg - 1);
	if (size < 2 * SB_MIN || (p = secret_map(size, &real)) == NULL)
		return -1;
	pthread_mutex_init(&arena.sa_lock, NULL);
	arena.sa_base = p;
	arena.sa_len = size;
	arena.sa_real = real;
	arena.sa_free = (struct secret_free *)p;
	arena.sa_free->sf_h.sb_prev = 0;
	arena.sa_free->sf_h.sb_size = size - SB_HDR;
	arena.sa_free->sf_next = arena.sa_free->sf_prev = NULL;
	end = (struct secret_blk *)(p + size - SB_HDR); /* the sentinel */
	end->sb_prev = size - SB_HDR;
	end->sb_size = SB_USED;
	return 0;
}

int
secret_is_real(void)
{
	return arena.sa_base != NULL && arena.sa_real;
}

int
secret_owns(const void *p)
{
	return arena.sa_base != NULL && (const char *)p >= arena.sa_base &&
	       (const char *)p < arena.sa_base + arena.sa_len;
}

/* Takes need bytes from free block f, the rest staying free. */
static void
secret_split(struct secret_free *f, size_t need)
{
	size_t size = sb_size(&f->sf_h);
	struct secret_free *r;

	free_unlink(f);
	if (size - need >= SB_MIN) {
		r = (struct secret_free *)((char *)f + need);
		r->sf_h.sb_prev = need;
		r->sf_h.sb_size = size - need;
		sb_next(&r->sf_h)->sb_prev = size - need;
		free_push(r);
		size = need;
	}
	f->sf_h.sb_size = size | SB_USED;
}

void *
secret_malloc(size_t n)
{
	struct secret_free *f;
	size_t need;

	if (arena.sa_base == NULL && secret_init(SECRET_DEFAULT_SIZE) == -1)
		return NULL;
	if (n > arena.sa_len)
		return errno = ENOMEM, NULL;
	need = ((n + SB_ALIGN - 1) & ~(size_t)(SB_ALIGN - 1)) + SB_HDR;
	if (need < SB_MIN)
		need = SB_MIN;
	pthread_mutex_lock(&arena.sa_lock);
	for (f = arena.sa_free; f != NULL && sb_size(&f->sf_h) < need;
	     f = f->sf_next)
		;
	if (f != NULL)
		secret_split(f, need);
	pthread_mutex_unlock(&arena.sa_lock);
	if (f == NULL)
		return errno = ENOMEM, NULL;
	return (char *)f + SB_HDR;
}

void *
secret_calloc(size_t n, size_t m)
{
	void *p;

	if (m != 0 && n > SIZE_MAX / m)
		return errno = ENOMEM, NULL;
	if ((p = secret_malloc(n * m)) != NULL)
		memset(p, 0, n * m);
	return p;
}

void
secret_free(void *p)
{
	struct secret_blk *b, *n, *pb;

	if (p == NULL)
		return;
	if (!secret_owns(p)) { /* a library's own, from malloc(3) */
		free(p);
		return;
	}
	b = (struct secret_blk *)((char *)p - SB_HDR);
	explicit_bzero(p, sb_size(b) - SB_HDR);
	pthread_mutex_lock(&arena.sa_lock);
	b->sb_size = sb_size(b);
	n = sb_next(b);
	if (!(n->sb_size & SB_USED)) {
		free_unlink((struct secret_free *)n);
		b->sb_size += n->sb_size;
	}
	pb = (struct secret_blk *)((char *)b - b->sb_prev);
	if (b->sb_prev != 0 && !(pb->sb_size & SB_USED)) {
		free_unlink((struct secret_free *)pb);
		pb->sb_size += b->sb_size;
		b = pb;
	}
	sb_next(b)->sb_prev = b->sb_size;
	free_push((struct secret_free *)b);
	pthread_mutex_unlock(&arena.sa_lock);
}

void *
secret_realloc(void *p, size_t n)
{
	size_t have;
	void *q;

	if (p == NULL)
		return secret_malloc(n);
	if (!secret_owns(p))
		return realloc(p, n);
	if (n == 0) {
		secret_free(p);
		return NULL;
	}
	have = sb_size((struct secret_blk *)((char *)p - SB_HDR)) - SB_HDR;
	if (have >= n)
		return p;
	if ((q = secret_malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, have);
	secret_free(p);
	return q;
}

char *
secret_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = secret_malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

char *
secret_take(char *s)
{
	char *d = secret_strdup(s);

	explicit_bzero(s, strlen(s));
	return d;
}

int
secret_fd_make(const char *s)
{
	size_t n = strlen(s);
	char *p = MAP_FAILED;
	int fd, saved;

	if (n >= SECRET_FD_SIZE)
		return errno = E2BIG, -1;
	if ((fd = (int)syscall(SYS_memfd_secret, (unsigned)O_CLOEXEC)) == -1) {
		secret_warn(errno);
		fd = memfd_create("profd-token", MFD_CLOEXEC);
	}
	if (fd == -1)
		return -1;
	if (ftruncate(fd, SECRET_FD_SIZE) == 0)
		p = mmap(NULL, SECRET_FD_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		saved = errno;
		close(fd);
		return errno = saved, -1;
	}
	memcpy(p, s, n);
	munmap(p, SECRET_FD_SIZE);
	return fd;
}

char *
secret_fd_read(int fd)
{
	char *p, *s = NULL;

	p = mmap(NULL, SECRET_FD_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		if (memchr(p, '\0', SECRET_FD_SIZE) != NULL)
			s = secret_strdup(p);
		munmap(p, SECRET_FD_SIZE);
	}
	close(fd);
	return s;
}
