/* Names for jmethodIDs (cached) and the collapsed output of one arena. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"

#define NAMES_MAX (1u << 20) /* cached method names */
#define OUT_BUF	  65536

/* jmethodID -> "package.Class.method", open addressing. */
struct name_ent {
	jmethodID ne_id;
	char *ne_name;
};

static struct name_ent *names;
static size_t names_cap, names_n;

void
agent_names_free(void)
{
	for (size_t i = 0; i < names_cap; i++)
		free(names[i].ne_name);
	free(names);
	names = NULL;
	names_cap = names_n = 0;
}

static size_t
hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static int
names_grow(void)
{
	size_t cap = names_cap ? names_cap * 2 : 4096;
	struct name_ent *n = calloc(cap, sizeof(*n));

	if (n == NULL)
		return -1;
	for (size_t i = 0; i < names_cap; i++) {
		size_t j = hash_ptr(names[i].ne_id) & (cap - 1);

		if (names[i].ne_name == NULL)
			continue;
		while (n[j].ne_name != NULL)
			j = (j + 1) & (cap - 1);
		n[j] = names[i];
	}
	free(names);
	names = n;
	names_cap = cap;
	return 0;
}

/* "Lcom/x/Y;" + "m" -> "com.x.Y.m", with ';', space and controls as '_'. */
static char *
name_format(const char *sig, const char *method)
{
	size_t sl = strlen(sig), ml = strlen(method);
	char *s = malloc(sl + ml + 2), *o = s;

	if (s == NULL)
		return NULL;
	if (sl >= 2 && sig[0] == 'L' && sig[sl - 1] == ';') {
		sig++;
		sl -= 2;
	}
	for (size_t i = 0; i < sl; i++)
		*o++ = sig[i] == '/' ? '.' : sig[i];
	*o++ = '.';
	memcpy(o, method, ml + 1);
	for (o = s; *o; o++)
		if (*o == ';' || *o == ' ' || (unsigned char)*o < 0x20)
			*o = '_';
	return s;
}

/* Asks JVMTI for a method's class and name; NULL when the id is stale. */
static char *
name_resolve(jmethodID m)
{
	jvmtiEnv *j = agent.as_jvmti;
	char *sig = NULL, *mname = NULL, *s = NULL;
	JNIEnv *env = NULL;
	jclass cls = NULL;

	if ((*j)->GetMethodDeclaringClass(j, m, &cls) != JVMTI_ERROR_NONE)
		return NULL;
	if ((*j)->GetClassSignature(j, cls, &sig, NULL) == JVMTI_ERROR_NONE &&
	    (*j)->GetMethodName(j, m, &mname, NULL, NULL) == JVMTI_ERROR_NONE)
		s = name_format(sig, mname);
	(*j)->Deallocate(j, (unsigned char *)sig);
	(*j)->Deallocate(j, (unsigned char *)mname);
	if ((*agent.as_vm)
		->GetEnv(agent.as_vm, (void **)&env, JNI_VERSION_1_6) == JNI_OK)
		(*env)->DeleteLocalRef(env, cls);
	return s;
}

static const char *
name_of(jmethodID m)
{
	size_t i;
	char *s;

	if (m == NULL)
		return "[unknown method]";
	if (names_cap == 0 || names_n * 2 >= names_cap) {
		if (names_n >= NAMES_MAX || names_grow() == -1)
			return "[name cache full]";
	}
	for (i = hash_ptr(m) & (names_cap - 1); names[i].ne_name != NULL;
	     i = (i + 1) & (names_cap - 1))
		if (names[i].ne_id == m)
			return names[i].ne_name;
	if ((s = name_resolve(m)) == NULL)
		return "[stale method]"; /* not cached: ids may be reused */
	names[i].ne_id = m;
	names[i].ne_name = s;
	names_n++;
	return s;
}

/* AsyncGetCallTrace's error codes, as frame names. */
static const char *
error_name(jint num)
{
	static const char *const errs[] = {
	    "[error no Java frame]",
	    "[error no class load]",
	    "[error GC active]",
	    "[error unknown not Java]",
	    "[error not walkable not Java]",
	    "[error unknown Java]",
	    "[error not walkable Java]",
	    "[error unknown state]",
	    "[error thread exit]",
	    "[error deopt]",
	    "[error safepoint]",
	};

	if (num == -100)
		return "[non-Java thread]";
	if (num <= 0 && -num < (jint)(sizeof(errs) / sizeof(errs[0])))
		return errs[-num];
	return "[error unknown]";
}

/* A small buffered writer over a file descriptor. */
struct out {
	int o_fd;
	size_t o_len;
	int o_err;
	char o_buf[OUT_BUF];
};

static void
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->o_len && !o->o_err) {
		n = write(o->o_fd, o->o_buf + off, o->o_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			o->o_err = 1;
		else
			off += (size_t)n;
	}
	o->o_len = 0;
}

static void
out_put(struct out *o, const char *s, size_t len)
{
	while (len > 0) {
		size_t n = OUT_BUF - o->o_len < len ? OUT_BUF - o->o_len : len;

		memcpy(o->o_buf + o->o_len, s, n);
		o->o_len += n;
		s += n;
		len -= n;
		if (o->o_len == OUT_BUF)
			out_flush(o);
	}
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* Identical records, counted: open addressing over record offsets. */
struct agg_ent {
	uint64_t ae_pos; /* word offset of the record + 1; 0 = empty */
	uint64_t ae_count;
};

static uint64_t
rec_hash(const uint64_t *w)
{
	jint num = (jint)(uint32_t)w[0];
	uint64_t h = 1469598103934665603ULL ^ (uint32_t)num;
	const agct_frame *f = (const agct_frame *)&w[1];

	for (jint i = 0; i < num; i++)
		h = (h ^ (uint64_t)(uintptr_t)f[i].method_id) *
		    1099511628211ULL;
	return h;
}

static int
rec_equal(const uint64_t *a, const uint64_t *b)
{
	jint na = (jint)(uint32_t)a[0], nb = (jint)(uint32_t)b[0];
	const agct_frame *fa = (const agct_frame *)&a[1];
	const agct_frame *fb = (const agct_frame *)&b[1];

	if (na != nb)
		return 0;
	for (jint i = 0; i < na; i++)
		if (fa[i].method_id != fb[i].method_id)
			return 0;
	return 1;
}

static void
write_record(struct out *o, const uint64_t *w, uint64_t count)
{
	jint num = (jint)(uint32_t)w[0];
	const agct_frame *f = (const agct_frame *)&w[1];
	char cnt[32];

	if (num <= 0) {
		out_str(o, error_name(num));
	} else {
		for (jint i = num - 1; i >= 0; i--) {
			out_str(o, name_of(f[i].method_id));
			out_str(o, i > 0 ? "_[j];" : "_[j]");
		}
	}
	snprintf(cnt, sizeof(cnt), " %llu\n", (unsigned long long)count);
	out_str(o, cnt);
}

/* Counts the records of a and returns the words they span. */
static uint64_t
arena_scan(const struct agent_arena *a, size_t *nrec)
{
	uint64_t used = atomic_load(&a->aa_used), pos = 0, len;

	if (used > AGENT_ARENA_WORDS)
		used = AGENT_ARENA_WORDS;
	*nrec = 0;
	while (pos < used && (len = a->aa_words[pos] >> 32) != 0 &&
	       pos + len <= used) {
		pos += len;
		(*nrec)++;
	}
	return pos;
}

static int
aggregate(const struct agent_arena *a, uint64_t end, struct agg_ent *t,
	  size_t cap)
{
	for (uint64_t pos = 0; pos < end; pos += a->aa_words[pos] >> 32) {
		const uint64_t *w = &a->aa_words[pos];
		size_t i = rec_hash(w) & (cap - 1);

		for (; t[i].ae_pos != 0; i = (i + 1) & (cap - 1))
			if (rec_equal(&a->aa_words[t[i].ae_pos - 1], w))
				break;
		if (t[i].ae_pos == 0)
			t[i].ae_pos = pos + 1;
		t[i].ae_count++;
	}
	return 0;
}

int
agent_dump(struct agent_arena *a, int fd, uint64_t dropped)
{
	struct agg_ent *t = NULL;
	struct out *o;
	size_t nrec, cap = 16;
	uint64_t end = arena_scan(a, &nrec);
	int rv = -1;

	while (cap < 2 * nrec)
		cap *= 2;
	if ((o = malloc(sizeof(*o))) == NULL ||
	    (t = calloc(cap, sizeof(*t))) == NULL)
		goto out;
	o->o_fd = fd;
	o->o_len = 0;
	o->o_err = 0;
	aggregate(a, end, t, cap);
	for (size_t i = 0; i < cap; i++)
		if (t[i].ae_pos != 0)
			write_record(o, &a->aa_words[t[i].ae_pos - 1],
				     t[i].ae_count);
	if (dropped > 0) {
		char line[64];

		snprintf(line, sizeof(line), "[error buffer full] %llu\n",
			 (unsigned long long)dropped);
		out_str(o, line);
	}
	out_flush(o);
	rv = o->o_err ? -1 : 0;
out:
	/* The arena is empty again, and its pages go back to the system
	 * (they read as zeros next time). */
	madvise(a->aa_words, AGENT_ARENA_WORDS * sizeof(uint64_t),
		MADV_DONTNEED);
	atomic_store(&a->aa_used, 0);
	free(t);
	free(o);
	return rv;
}
