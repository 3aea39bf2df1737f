/* perf_event_open ring buffers, read in place. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "perf_ring.h"

int
perf_ring_open(struct perf_ring *r, struct perf_event_attr *a, pid_t pid,
	       int cpu)
{
	long page = sysconf(_SC_PAGESIZE);
	void *m;
	int err;

	memset(r, 0, sizeof(*r));
	r->pr_fd = (int)syscall(SYS_perf_event_open, a, pid, cpu, -1,
				PERF_FLAG_FD_CLOEXEC);
	if (r->pr_fd == -1)
		return -1;
	r->pr_size = (size_t)page * PERF_RING_PAGES;
	r->pr_map = r->pr_size + (size_t)page;
	m = mmap(NULL, r->pr_map, PROT_READ | PROT_WRITE, MAP_SHARED, r->pr_fd,
		 0);
	if (m == MAP_FAILED ||
	    (r->pr_bounce = malloc(PERF_RING_MAX_REC)) == NULL) {
		err = m == MAP_FAILED ? errno : ENOMEM;
		if (m != MAP_FAILED)
			munmap(m, r->pr_map);
		close(r->pr_fd);
		r->pr_fd = -1;
		errno = err;
		return -1;
	}
	r->pr_cpu = cpu;
	r->pr_meta = m;
	r->pr_data = (char *)m + page;
	return 0;
}

void
perf_ring_close(struct perf_ring *r)
{
	if (r->pr_fd == -1)
		return;
	if (r->pr_meta != NULL)
		munmap(r->pr_meta, r->pr_map);
	close(r->pr_fd);
	free(r->pr_bounce);
	memset(r, 0, sizeof(*r));
	r->pr_fd = -1;
}

int
perf_ring_enable(struct perf_ring *r, int on)
{
	return ioctl(r->pr_fd,
		     on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

/* Returns the record at offset pos of the ring, copied whole into the
 * bounce buffer if it wraps. */
static const struct perf_event_header *
perf_ring_record(struct perf_ring *r, uint64_t pos, size_t *len)
{
	size_t off = pos & (r->pr_size - 1), first;
	struct perf_event_header h;

	first = r->pr_size - off;
	if (first >= sizeof(h)) {
		memcpy(&h, r->pr_data + off, sizeof(h));
	} else {
		memcpy(&h, r->pr_data + off, first);
		memcpy((char *)&h + first, r->pr_data, sizeof(h) - first);
	}
	*len = h.size;
	if (h.size <= first)
		return (const void *)(r->pr_data + off);
	memcpy(r->pr_bounce, r->pr_data + off, first);
	memcpy(r->pr_bounce + first, r->pr_data, h.size - first);
	return (const void *)r->pr_bounce;
}

size_t
perf_ring_drain(struct perf_ring *r, perf_ring_fn fn, void *arg)
{
	uint64_t head, tail;
	size_t n = 0, len;

	if (r->pr_fd == -1)
		return 0;
	head = __atomic_load_n(&r->pr_meta->data_head, __ATOMIC_ACQUIRE);
	tail = r->pr_meta->data_tail;
	while (tail + sizeof(struct perf_event_header) <= head) {
		const struct perf_event_header *h =
		    perf_ring_record(r, tail, &len);

		/* A record is never 0 bytes: the ring would be corrupt. */
		if (len < sizeof(*h) || tail + len > head) {
			tail = head;
			break;
		}
		fn(arg, h);
		tail += len;
		n++;
	}
	__atomic_store_n(&r->pr_meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}
