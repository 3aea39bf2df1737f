/* Remote memory reads with process_vm_readv, bounded. */
#include "config.h"

#include <errno.h>
#include <sys/uio.h>

#include "py_mem.h"

/* Returns 1 when a read of len bytes at addr is within bounds. */
static int
pymem_bounded(uint64_t addr, size_t len)
{
	return addr >= 4096 && len > 0 && len <= PYMEM_MAX_READ &&
	       addr + len >= addr && addr < (1ULL << 56);
}

int
pymem_vm_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	pid_t pid = *(pid_t *)arg;
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EFAULT; /* a short read is a failed read */
	return -1;
}

size_t
pymem_vm_readv(void *arg, const struct pymem_vec *v, size_t n)
{
	struct iovec local[PYMEM_MAX_VEC], remote[PYMEM_MAX_VEC];
	size_t i;
	ssize_t got;

	if (n == 0)
		return 0;
	if (n > PYMEM_MAX_VEC)
		n = PYMEM_MAX_VEC;
	for (i = 0; i < n; i++) {
		local[i] = (struct iovec){v[i].mv_buf, v[i].mv_len};
		remote[i] = (struct iovec){(void *)(uintptr_t)v[i].mv_addr,
					   v[i].mv_len};
	}
	/* The kernel stops at the first piece it cannot read: count the
	 * pieces read whole. */
	if ((got = process_vm_readv(*(pid_t *)arg, local, n, remote, n, 0)) < 0)
		return 0;
	for (i = 0; i < n && (size_t)got >= v[i].mv_len; i++)
		got -= (ssize_t)v[i].mv_len;
	return i;
}

void
pymem_init_pid(struct pymem *m, pid_t *pid)
{
	m->pm_read = pymem_vm_read;
	m->pm_readv = pymem_vm_readv;
	m->pm_arg = pid;
	m->pm_reads = m->pm_failed = 0;
}

int
pymem_read(struct pymem *m, uint64_t addr, void *buf, size_t len)
{
	m->pm_reads++;
	if (!pymem_bounded(addr, len)) {
		m->pm_failed++;
		errno = EFAULT;
		return -1;
	}
	if (m->pm_read(m->pm_arg, addr, buf, len) == -1) {
		m->pm_failed++;
		return -1;
	}
	return 0;
}

size_t
pymem_readv(struct pymem *m, const struct pymem_vec *v, size_t n)
{
	size_t ok = 0, got;

	if (n > PYMEM_MAX_VEC)
		n = PYMEM_MAX_VEC;
	while (ok < n && pymem_bounded(v[ok].mv_addr, v[ok].mv_len))
		ok++;
	m->pm_reads++;
	if (m->pm_readv != NULL) {
		got = ok > 0 ? m->pm_readv(m->pm_arg, v, ok) : 0;
	} else {
		for (got = 0; got < ok; got++)
			if (m->pm_read(m->pm_arg, v[got].mv_addr, v[got].mv_buf,
				       v[got].mv_len) == -1)
				break;
	}
	if (got < n)
		m->pm_failed++;
	return got;
}

int
pymem_ptr(struct pymem *m, uint64_t addr, uint64_t *out)
{
	uint64_t v;

	if (pymem_read(m, addr, &v, sizeof(v)) == -1)
		return -1;
	*out = v;
	return 0;
}
