/* The JVM's answers to an attach request (load, jcmd) as HotSpot writes
 * them, and malformed ones, which must never read as a success. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "java.h"
#include "java_attach.h"
#include "stacks.h"

static char msg[160];
static int rc;

static int
load(const char *reply)
{
	rc = 12345;
	memset(msg, 'x', sizeof(msg));
	return jattach_parse_load(reply, &rc, msg, sizeof(msg));
}

static int
jcmd(const char *reply)
{
	rc = 12345;
	memset(msg, 'x', sizeof(msg));
	return jattach_parse_jcmd(reply, &rc, msg, sizeof(msg));
}

START_TEST(test_load_answers)
{
	/* JDK 9+ (here 17 and 25, the agent refusing its options). */
	ck_assert_int_eq(load("0\nreturn code: 1\n"), 0);
	ck_assert_int_eq(rc, 1);
	ck_assert_int_eq(load("0\nreturn code: 0\n"), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(load("0\nreturn code: -1"), 0);
	ck_assert_int_eq(rc, -1);
	/* Text before the code line is skipped. */
	ck_assert_int_eq(load("0\nsome text\nreturn code: 7\n"), 0);
	ck_assert_int_eq(rc, 7);
	ck_assert_str_eq(msg, "some text");
	/* JDK 8: a bare number. */
	ck_assert_int_eq(load("0\n0\n"), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(load("0\n-2147483648\n"), 0);
	ck_assert_int_eq(rc, -2147483647 - 1);
}
END_TEST

/* Refusals as JDK 17 and 25 write them (captured from their sockets). */
START_TEST(test_load_refusals)
{
	static const struct {
		const char *reply, *msg;
	} t[] = {
	    {"-1\n/tmp/x.so was not loaded.\n/tmp/x.so: cannot open shared "
	     "object file: No such file or directory\n",
	     "/tmp/x.so was not loaded."},
	    {"0\n/tmp/x.so was not loaded.\n/tmp/x.so: cannot open shared "
	     "object file: No such file or directory\n",
	     "/tmp/x.so was not loaded."},
	    {"-1\nAgent_OnAttach is not available in /lib/libz.so.1\n",
	     "Agent_OnAttach is not available in /lib/libz.so.1"},
	    {"0\nAgent_OnAttach is not available in /lib/libz.so.1\n",
	     "Agent_OnAttach is not available in /lib/libz.so.1"},
	    {"0\nDynamic agent loading is not enabled. Use "
	     "-XX:+EnableDynamicAgentLoading to launch target VM.\n",
	     "Dynamic agent loading is not enabled. Use "
	     "-XX:+EnableDynamicAgentLoading to launch target VM."},
	    {"101\n", "101"}, /* wrong protocol version */
	    {"-1\nOperation load not recognized!", "Operation load not "
						   "recognized!"},
	    {"1\nreturn code: 0\n", "return code: 0"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(load(t[i].reply) == -1, "accepted: %s",
			      t[i].reply);
		ck_assert_str_eq(msg, t[i].msg);
		ck_assert_int_eq(rc, 12345);
	}
}
END_TEST

/* What is not an answer must not read as one: these once gave code 0
 * (atoi on "-", on a number past int, on "return code: " inside a line,
 * a status of "0" with anything after it). */
START_TEST(test_load_malformed)
{
	static const char *const bad[] = {
	    "",
	    "0",
	    "0\n",
	    "0\n-\n",
	    "0\n-x\n",
	    "0\n4294967296\n",
	    "0\nreturn code: 4294967296\n",
	    "0\nreturn code: 99999999999999999999\n",
	    "0\nreturn code: \n",
	    "0\nreturn code:0\n",
	    "0\nreturn code: 0x1\n",
	    "0\nreturn code: +0\n",
	    "0\nreturn code:  0\n",
	    "0\nsaid return code: 0\n",
	    "0\n0 apples\n",
	    "0\n 0\n",
	    "00x\nreturn code: 0\n",
	    "0 \nreturn code: 0\n",
	    "-0x\n0\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(load(bad[i]) == -1, "accepted: %s", bad[i]);
		ck_assert_int_eq(rc, 12345);
		ck_assert_uint_lt(strlen(msg), sizeof(msg));
	}
}
END_TEST

START_TEST(test_jcmd)
{
	ck_assert_int_eq(jcmd("0\n"), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(jcmd("-1\njava.lang.IllegalArgumentException: "
			      "Unknown diagnostic command\n"),
			 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(msg, "java.lang.IllegalArgumentException: Unknown "
			      "diagnostic command");
	/* No status: an empty answer once read as 0, a success. */
	ck_assert_int_eq(jcmd(""), -1);
	ck_assert_int_eq(jcmd("ok\n"), -1);
	ck_assert_int_eq(jcmd("\n0\n"), -1);
	ck_assert_int_eq(rc, 12345);
}
END_TEST

START_TEST(test_long_message)
{
	char reply[1024];

	memset(reply, 'y', sizeof(reply));
	memcpy(reply, "-1\n", 3);
	reply[sizeof(reply) - 1] = '\0';
	ck_assert_int_eq(load(reply), -1);
	ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
	ck_assert_int_eq(jcmd(reply), 0);
	ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
}
END_TEST

/* Samples of stack table t whose leaf is frame name. */
struct leaf_count {
	const struct stack_table *lc_t;
	const char *lc_name;
	uint64_t lc_n;
};

static int
count_leaf(void *arg, const struct stack_proc *proc, const uint32_t *frames,
	   size_t nframes, uint64_t count)
{
	struct leaf_count *lc = arg;

	(void)proc;
	if (nframes > 0 &&
	    strcmp(stacks_str(lc->lc_t, frames[nframes - 1]), lc->lc_name) == 0)
		lc->lc_n += count;
	return 0;
}

static uint64_t
leaf(const struct stack_table *t, const char *name)
{
	struct leaf_count lc = {t, name, 0};

	stacks_foreach(t, count_leaf, &lc);
	return lc.lc_n;
}

/* A dump whose lines bring fewer samples than its '#' line counts (cut
 * at the size limit, or malformed): the rest is kept under its reason,
 * wherever the '#' line is; a dump that brings them all adds nothing. */
START_TEST(test_stacks_unread)
{
	const char *cut = "# samples=10 java=10 recovered=0 in_vm=0 native=0 "
			  "dropped=2 [error_deopt]=1\n"
			  "java;A.main_[j];A.f_[j] 4\n"
			  "[error buffer full] 2\n"
			  "java;A.main_[j];A.g_[j] notanumber\n"
			  "java;A.main_[j];A.g_[j] 3\n";
	const char *whole = "java;A.main_[j];A.f_[j] 4\n"
			    "java;A.main_[j];A.g_[j] 3\n"
			    "# samples=7 java=7 dropped=0\n";
	struct stack_table *t = stacks_new(0);
	int proc;

	ck_assert_ptr_nonnull(t);
	proc = stacks_proc(t, 42, stacks_intern_str(t, "java"), 0, 0);
	ck_assert_int_ge(proc, 0);
	ck_assert_uint_eq(java_stacks_add(t, proc, 42, cut, strlen(cut)), 1);
	ck_assert_uint_eq(leaf(t, "A.f_[j]"), 4);
	ck_assert_uint_eq(leaf(t, "[error lines not read]"), 3);
	ck_assert_uint_eq(stacks_total(t), 12);
	stacks_clear(t);
	proc = stacks_proc(t, 42, stacks_intern_str(t, "java"), 0, 0);
	ck_assert_uint_eq(java_stacks_add(t, proc, 42, whole, strlen(whole)),
			  0);
	ck_assert_uint_eq(leaf(t, "[error lines not read]"), 0);
	ck_assert_uint_eq(stacks_total(t), 7);
	stacks_free(t);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("jattach", test_load_answers, test_load_refusals,
		       test_load_malformed, test_jcmd, test_long_message,
		       test_stacks_unread))
