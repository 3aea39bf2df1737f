/* Log lines: untrusted strings cannot forge a line or drive a terminal. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "log.h"

/* A process name that clears the screen and forges a second line. */
#define EVIL_COMM "\x1b[2Jx\nprofd: error: forged\r"

static const char *
esc(const char *s)
{
	static char buf[4 * LOG_LINE_MAX];

	log_escape(buf, sizeof(buf), s);
	return buf;
}

START_TEST(test_escape_controls)
{
	ck_assert_str_eq(esc("plain text: 42 {ok}"), "plain text: 42 {ok}");
	ck_assert_str_eq(esc("a\nb"), "a\\x0ab");
	ck_assert_str_eq(esc("\x1b[2J"), "\\x1b[2J");
	ck_assert_str_eq(esc("t\tr\rdel\x7f"), "t\\x09r\\x0ddel\\x7f");
	ck_assert_str_eq(esc(EVIL_COMM),
			 "\\x1b[2Jx\\x0aprofd: error: forged\\x0d");
}
END_TEST

START_TEST(test_escape_utf8)
{
	/* Valid UTF-8 stays as it is. */
	ck_assert_str_eq(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5"),
			 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5");
	/* C1 controls (U+009B is CSI), lone and overlong bytes, surrogates,
	 * truncated sequences, past U+10FFFF. */
	ck_assert_str_eq(esc("\xc2\x9b"), "\\xc2\\x9b");
	ck_assert_str_eq(esc("\xff\xfe"), "\\xff\\xfe");
	ck_assert_str_eq(esc("\xc0\x8a"), "\\xc0\\x8a");
	ck_assert_str_eq(esc("\xe0\x80\x8a"), "\\xe0\\x80\\x8a");
	ck_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	ck_assert_str_eq(esc("\xe2\x82"), "\\xe2\\x82");
	ck_assert_str_eq(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}
END_TEST

START_TEST(test_escape_bounds)
{
	char small[8];

	/* An escape that does not fit is left out whole. */
	ck_assert_uint_eq(log_escape(small, sizeof(small), "abcd\n"), 4);
	ck_assert_str_eq(small, "abcd");
	ck_assert_uint_eq(log_escape(small, sizeof(small), "ab\x01\x02"), 6);
	ck_assert_str_eq(small, "ab\\x01");
	ck_assert_uint_eq(log_escape(small, sizeof(small), "abcdef\xc3\xa9"),
			  6);
	ck_assert_str_eq(small, "abcdef");
	ck_assert_uint_eq(log_escape(small, 1, "x"), 0);
	ck_assert_str_eq(small, "");
}
END_TEST

/* Runs emit with stderr in a file; returns what was written. */
static char *
capture(void (*emit)(void))
{
	static char buf[8192];
	char path[] = "/tmp/check_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	emit();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static int
count_char(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void
emit_raw(void)
{
	fprintf(stderr, "check: warning: process %s ended\n", EVIL_COMM);
}

static void
emit_logged(void)
{
	log_init("check", 0, LOGL_DEBUG);
	log_warn("process %s ended", EVIL_COMM);
	log_info("reply %s", "ok\n\x1b]0;title\x07");
}

START_TEST(test_log_lines)
{
	const char *out = capture(emit_raw);

	/* Control: the same name printed raw forges a line and a sequence. */
	ck_assert_int_eq(count_char(out, '\n'), 2);
	ck_assert_ptr_nonnull(strchr(out, '\x1b'));
	out = capture(emit_logged);
	ck_assert_str_eq(out, "check: warning: process \\x1b[2Jx\\x0aprofd: "
			      "error: forged\\x0d ended\n"
			      "check: reply ok\\x0a\\x1b]0;title\\x07\n");
	ck_assert_int_eq(count_char(out, '\n'), 2);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\r'));
}
END_TEST

CHECK_MAIN(CHECK_SUITE("log", test_escape_controls, test_escape_utf8,
		       test_escape_bounds, test_log_lines))
