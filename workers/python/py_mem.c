/* Remote memory reads with process_vm_readv, bounded. */
#include "config.h"

#include <errno.h>
#include <sys/uio.h>

#include "py_mem.h"

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

void
pymem_init_pid(struct pymem *m, pid_t *pid)
{
	m->pm_read = pymem_vm_read;
	m->pm_arg = pid;
	m->pm_reads = m->pm_failed = 0;
}

int
pymem_read(struct pymem *m, uint64_t addr, void *buf, size_t len)
{
	m->pm_reads++;
	if (addr < 4096 || len == 0 || len > PYMEM_MAX_READ ||
	    addr + len < addr || addr >= (1ULL << 56)) {
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

int
pymem_ptr(struct pymem *m, uint64_t addr, uint64_t *out)
{
	uint64_t v;

	if (pymem_read(m, addr, &v, sizeof(v)) == -1)
		return -1;
	*out = v;
	return 0;
}
