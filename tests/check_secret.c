/* The secret arena's allocator: first fit, coalescing, bounded, wiped;
 * and that its pages are memfd_secret pages /proc/self/mem cannot read
 * where the kernel has them. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "secret.h"

#define ARENA (256u << 10)

START_TEST(test_fill_and_coalesce)
{
	static void *p[4096];
	size_t n = 0;
	void *big;

	ck_assert_int_eq(secret_init(ARENA), 0);
	while (n < 4096 && (p[n] = secret_malloc(100 + n % 300)) != NULL) {
		ck_assert_int_eq((uintptr_t)p[n] % 16, 0);
		ck_assert(secret_owns(p[n]));
		memset(p[n], 0xa5, 100 + n % 300);
		n++;
	}
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_lt(n, 4096); /* bounded: it fills up */
	ck_assert_ptr_null(secret_malloc(1024));
	/* Free every other block, then the rest: all merges back. */
	for (size_t i = 0; i < n; i += 2)
		secret_free(p[i]);
	ck_assert_ptr_null(secret_malloc(ARENA / 2));
	for (size_t i = 1; i < n; i += 2)
		secret_free(p[i]);
	big = secret_malloc(ARENA - 4096);
	ck_assert_ptr_nonnull(big);
	secret_free(big);
}
END_TEST

START_TEST(test_realloc_calloc_strdup)
{
	char *s, *t;
	unsigned char *z;

	ck_assert_int_eq(secret_init(ARENA), 0);
	s = secret_strdup("token-abc");
	ck_assert_str_eq(s, "token-abc");
	t = secret_realloc(s, 5000);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "token-abc");
	ck_assert_ptr_null(secret_realloc(t, ARENA * 2));
	secret_free(t);
	z = secret_calloc(100, 10);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_int_eq(z[i], 0);
	secret_free(z);
	ck_assert_ptr_null(secret_calloc(SIZE_MAX / 2, 4));
	ck_assert_ptr_null(secret_realloc(secret_malloc(10), 0));
}
END_TEST

START_TEST(test_take_wipes)
{
	char arg[] = "s3cret-on-argv";
	char *s;

	ck_assert_int_eq(secret_init(ARENA), 0);
	s = secret_take(arg);
	ck_assert_str_eq(s, "s3cret-on-argv");
	for (size_t i = 0; i < sizeof(arg) - 1; i++)
		ck_assert_int_eq(arg[i], 0);
	secret_free(s);
}
END_TEST

START_TEST(test_fd_roundtrip)
{
	int fd;
	char *s;

	ck_assert_int_eq(secret_init(ARENA), 0);
	fd = secret_fd_make("token-through-fd");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	s = secret_fd_read(fd);
	ck_assert_str_eq(s, "token-through-fd");
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* closed */
	secret_free(s);
}
END_TEST

/* Where memfd_secret exists, /proc/self/mem cannot read the arena,
 * while it reads an ordinary buffer (the control). */
START_TEST(test_unreadable)
{
	static char plain[64] = "ordinary";
	char buf[64], *s;
	int fd;

	ck_assert_int_eq(secret_init(ARENA), 0);
	if (!secret_is_real())
		return; /* the fallback: nothing to check */
	s = secret_strdup("unreadable");
	fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, 8, (off_t)(uintptr_t)plain), 8);
	ck_assert_int_eq(memcmp(buf, "ordinary", 8), 0);
	ck_assert_int_eq(pread(fd, buf, 10, (off_t)(uintptr_t)s), -1);
	ck_assert_int_eq(errno, EIO);
	close(fd);
	secret_free(s);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("secret", test_fill_and_coalesce,
		       test_realloc_calloc_strdup, test_take_wipes,
		       test_fd_roundtrip, test_unreadable))
