/*
 * Remote memory of a Python process, read through a pluggable backend so
 * that tests can feed synthetic images. Every read is bounded; a short
 * read is a failed read.
 */
#ifndef PROFD_PY_MEM_H
#define PROFD_PY_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PYMEM_MAX_READ (256u << 10) /* bytes in one read */

/* Reads len bytes at addr into buf: 0, or -1 when any byte is missing. */
typedef int (*pymem_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* One piece of a batched read: len bytes at addr into buf. */
struct pymem_vec {
	uint64_t mv_addr;
	void *mv_buf;
	size_t mv_len;
};

#define PYMEM_MAX_VEC 512 /* pieces in one batched read */

/* Reads the pieces in order, in one go where it can; returns how many
 * were read whole before the first that was not (0..n). */
typedef size_t (*pymem_readv_fn)(void *arg, const struct pymem_vec *v,
				 size_t n);

struct pymem {
	pymem_read_fn pm_read;
	pymem_readv_fn pm_readv; /* NULL: one pm_read per piece */
	void *pm_arg;
	uint64_t pm_reads;  /* reads attempted */
	uint64_t pm_failed; /* reads that failed */
};

/* Points m at process pid, read with process_vm_readv. */
void pymem_init_pid(struct pymem *m, pid_t *pid);
/* Reads len (<= PYMEM_MAX_READ) bytes at addr; 0 or -1 (NULL addr,
 * wrap-around, too long, or unreadable). */
int pymem_read(struct pymem *m, uint64_t addr, void *buf, size_t len);
/* Reads the pieces v[0..n) in order (at most PYMEM_MAX_VEC, each as
 * pymem_read bounds it) with as few system calls as it can; returns how
 * many were read whole before the first that was not. */
size_t pymem_readv(struct pymem *m, const struct pymem_vec *v, size_t n);
/* Reads the pointer at addr into *out; 0 or -1. */
int pymem_ptr(struct pymem *m, uint64_t addr, uint64_t *out);
/* Backend: process_vm_readv on the pid_t that arg points to. */
int pymem_vm_read(void *arg, uint64_t addr, void *buf, size_t len);
/* Batched backend: one process_vm_readv with an iovec per piece. */
size_t pymem_vm_readv(void *arg, const struct pymem_vec *v, size_t n);

/* Little-endian field access into a local copy of a remote struct. */
static inline uint64_t
pymem_u64(const void *base, size_t off)
{
	uint64_t v;

	__builtin_memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static inline uint32_t
pymem_u32(const void *base, size_t off)
{
	uint32_t v;

	__builtin_memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

#endif
