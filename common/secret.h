/* Secret memory: an arena of pages from memfd_secret(2), which neither
 * /proc/PID/mem nor process_vm_readv can read (not even with
 * CAP_SYS_PTRACE), with a small allocator over it; for the Studio token
 * and whatever libcurl and OpenSSL make of it during a request. Where the
 * kernel has no memfd_secret the arena is an anonymous mapping, locked
 * and left out of core dumps, and one warning says it is readable. */
#ifndef PROFD_SECRET_H
#define PROFD_SECRET_H

#include <stddef.h>

/* The environment variable naming the fd of the token, to profd-upload. */
#define SECRET_TOKEN_ENV    "PROFD_TOKEN_FD"
#define SECRET_FD_SIZE	    4096	/* bytes of a token's memfd */
#define SECRET_DEFAULT_SIZE (64u << 10) /* an arena made on first use */

/* Makes a new arena of size bytes for this process (replacing, without
 * unmapping, any arena it had: a forked child keeps reading its parent's
 * secrets but allocates in its own). 0, or -1 with errno. */
int secret_init(size_t size);
/* Whether the arena's pages are memfd_secret pages. */
int secret_is_real(void);
/* Allocates n bytes (16-aligned) from the arena (made on first use, of
 * SECRET_DEFAULT_SIZE, when secret_init was not called); NULL when
 * full. */
void *secret_malloc(size_t n);
/* Allocates n * m zeroed bytes; NULL when full or on overflow. */
void *secret_calloc(size_t n, size_t m);
/* Resizes p as realloc(3) does, within the arena. */
void *secret_realloc(void *p, size_t n);
/* Wipes and frees p (NULL is ignored). */
void secret_free(void *p);
/* Copies the string s into the arena; NULL when full. */
char *secret_strdup(const char *s);
/* Copies the string s into the arena and wipes s in place. */
char *secret_take(char *s);
/* Whether p lies in this process's current arena. */
int secret_owns(const void *p);
/* A memfd (memfd_secret where it exists) holding the string s, for a
 * child to inherit: close-on-exec, or -1 with errno. */
int secret_fd_make(const char *s);
/* Maps the memfd fd made by secret_fd_make, copies its string into the
 * arena and closes fd: the copy, or NULL. */
char *secret_fd_read(int fd);

#endif
