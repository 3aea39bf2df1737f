/*
 * Test-only (never installed): a TCP connection to 127.0.0.1:PORT made
 * through io_uring alone, to show what a worker allowed io_uring_setup
 * could reach past a filter that allows socket() for AF_UNIX only.
 *
 *   uring_connect PORT MESSAGE
 *
 * IORING_OP_SOCKET (Linux 5.19) makes the socket, IORING_OP_CONNECT
 * connects it and IORING_OP_SEND sends MESSAGE: no socket, connect or
 * send system call is made. Prints "connected through io_uring" and exits
 * 0; 77 when this kernel has no io_uring or no IORING_OP_SOCKET; 1 on any
 * other failure.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The rings of one io_uring instance, mapped. */
struct uring {
	int ur_fd;
	struct io_uring_params ur_p;
	unsigned char *ur_sq; /* submission ring */
	unsigned char *ur_cq; /* completion ring */
	struct io_uring_sqe *ur_sqes;
};

static int
uring_map(struct uring *u)
{
	size_t sqlen =
	    u->ur_p.sq_off.array + u->ur_p.sq_entries * sizeof(unsigned);
	size_t cqlen = u->ur_p.cq_off.cqes +
		       u->ur_p.cq_entries * sizeof(struct io_uring_cqe);

	if (u->ur_p.features & IORING_FEAT_SINGLE_MMAP)
		sqlen = cqlen = sqlen > cqlen ? sqlen : cqlen;
	u->ur_sq =
	    mmap(NULL, sqlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 u->ur_fd, IORING_OFF_SQ_RING);
	if (u->ur_sq == MAP_FAILED)
		return -1;
	u->ur_cq = u->ur_sq;
	if (!(u->ur_p.features & IORING_FEAT_SINGLE_MMAP))
		u->ur_cq = mmap(NULL, cqlen, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_POPULATE, u->ur_fd,
				IORING_OFF_CQ_RING);
	u->ur_sqes = mmap(NULL, u->ur_p.sq_entries * sizeof(*u->ur_sqes),
			  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  u->ur_fd, IORING_OFF_SQES);
	return u->ur_cq == MAP_FAILED || u->ur_sqes == MAP_FAILED ? -1 : 0;
}

static int
uring_open(struct uring *u)
{
	memset(u, 0, sizeof(*u));
	u->ur_fd = (int)syscall(__NR_io_uring_setup, 4, &u->ur_p);
	if (u->ur_fd == -1)
		return -1;
	return uring_map(u);
}

/* Submits one operation and waits for it: its result (a negative errno
 * on failure). */
static int
uring_run(struct uring *u, const struct io_uring_sqe *op)
{
	unsigned *tail = (unsigned *)(u->ur_sq + u->ur_p.sq_off.tail);
	unsigned *mask = (unsigned *)(u->ur_sq + u->ur_p.sq_off.ring_mask);
	unsigned *array = (unsigned *)(u->ur_sq + u->ur_p.sq_off.array);
	unsigned *chead = (unsigned *)(u->ur_cq + u->ur_p.cq_off.head);
	unsigned *ctail = (unsigned *)(u->ur_cq + u->ur_p.cq_off.tail);
	unsigned *cmask = (unsigned *)(u->ur_cq + u->ur_p.cq_off.ring_mask);
	struct io_uring_cqe *cqes =
	    (struct io_uring_cqe *)(u->ur_cq + u->ur_p.cq_off.cqes);
	unsigned t = *tail, h;
	int res;

	u->ur_sqes[t & *mask] = *op;
	array[t & *mask] = t & *mask;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->ur_fd, 1, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) == -1)
		return -errno;
	h = *chead;
	if (h == __atomic_load_n(ctail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = cqes[h & *cmask].res;
	__atomic_store_n(chead, h + 1, __ATOMIC_RELEASE);
	return res;
}

/* Socket, connect and send through the ring: 0, or a negative errno
 * with the step that failed in *step. */
static int
uring_connect(struct uring *u, int port, const char *msg, const char **step)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct io_uring_sqe op;
	int fd, rv;

	memset(&op, 0, sizeof(op));
	op.opcode = IORING_OP_SOCKET;
	op.fd = AF_INET;
	op.off = SOCK_STREAM;
	*step = "IORING_OP_SOCKET";
	if ((fd = uring_run(u, &op)) < 0)
		return fd;
	/* The ring takes no SOCK_CLOEXEC: nothing is run in between. */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	memset(&op, 0, sizeof(op));
	op.opcode = IORING_OP_CONNECT;
	op.fd = fd;
	op.addr = (unsigned long)&sin;
	op.off = sizeof(sin);
	*step = "IORING_OP_CONNECT";
	if ((rv = uring_run(u, &op)) < 0)
		return rv;
	memset(&op, 0, sizeof(op));
	op.opcode = IORING_OP_SEND;
	op.fd = fd;
	op.addr = (unsigned long)msg;
	op.len = (unsigned)strlen(msg);
	*step = "IORING_OP_SEND";
	rv = uring_run(u, &op);
	close(fd);
	return rv < 0 ? rv : 0;
}

int
main(int argc, char **argv)
{
	const char *step = "io_uring_setup";
	struct uring u;
	int rv;

	if (argc != 3 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: uring_connect PORT MESSAGE\n");
		return 2;
	}
	if (uring_open(&u) == -1) {
		fprintf(stderr, "io_uring_setup: %s\n", strerror(errno));
		return errno == ENOSYS || errno == EPERM ? 77 : 1;
	}
	if ((rv = uring_connect(&u, atoi(argv[1]), argv[2], &step)) < 0) {
		fprintf(stderr, "%s: %s\n", step, strerror(-rv));
		return rv == -EINVAL && strcmp(step, "IORING_OP_SOCKET") == 0
			   ? 77
			   : 1;
	}
	printf("connected through io_uring\n");
	close(u.ur_fd);
	return 0;
}
