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
	jvmtiLineNumberEntry *ne_lines; /* with lines=1; JVMTI's memory */
	jint ne_nlines;
};

static struct name_ent *names;
static size_t names_cap, names_n;

void
agent_names_free(void)
{
	for (size_t i = 0; i < names_cap; i++) {
		free(names[i].ne_name);
		if (names[i].ne_lines != NULL && agent.as_jvmti != NULL)
			(*agent.as_jvmti)
			    ->Deallocate(agent.as_jvmti,
					 (unsigned char *)names[i].ne_lines);
	}
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

/* The class part of a signature, stable across runs: a hidden class's
 * per-run address (".0x7f..", "/0x..", "+0x..") is cut where a '.', '/'
 * or '+' is followed by a digit, and a lambda's per-run counter
 * ("$$Lambda$232") goes too: "Y$$Lambda$232.0x7f.." -> "Y$$Lambda". */
static size_t
class_stable_len(const char *c, size_t len)
{
	const char *lam;
	size_t i;

	for (i = len; i > 1; i--)
		if ((c[i - 2] == '.' || c[i - 2] == '/' || c[i - 2] == '+') &&
		    c[i - 1] >= '0' && c[i - 1] <= '9') {
			len = i - 2;
			break;
		}
	for (i = 0; i + 8 <= len; i++) {
		if (memcmp(c + i, "$$Lambda", 8) != 0)
			continue;
		lam = c + i + 8;
		if (lam < c + len && *lam == '$' &&
		    strspn(lam + 1, "0123456789") ==
			(size_t)(c + len - lam - 1))
			len = (size_t)(lam - c);
	}
	return len;
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
	sl = class_stable_len(sig, sl);
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

/* The cache entry of m, resolved now if new; NULL with *why set. */
static struct name_ent *
name_ent(jmethodID m, const char **why)
{
	size_t i;
	char *s;

	if (m == NULL) {
		*why = "[unknown method]";
		return NULL;
	}
	if (names_cap == 0 || names_n * 2 >= names_cap) {
		if (names_n >= NAMES_MAX || names_grow() == -1) {
			*why = "[name cache full]";
			return NULL;
		}
	}
	for (i = hash_ptr(m) & (names_cap - 1); names[i].ne_name != NULL;
	     i = (i + 1) & (names_cap - 1))
		if (names[i].ne_id == m)
			return &names[i];
	if ((s = name_resolve(m)) == NULL) {
		*why = "[stale method]"; /* not cached: ids may be reused */
		return NULL;
	}
	names[i].ne_id = m;
	names[i].ne_name = s;
	names[i].ne_lines = NULL;
	names[i].ne_nlines = 0;
	if (agent.as_lines &&
	    (*agent.as_jvmti)
		    ->GetLineNumberTable(agent.as_jvmti, m, &names[i].ne_nlines,
					 &names[i].ne_lines) !=
		JVMTI_ERROR_NONE) {
		names[i].ne_lines = NULL;
		names[i].ne_nlines = 0;
	}
	names_n++;
	return &names[i];
}

/* The source line of bci in e's method, 0 when unknown. */
static jint
name_line(const struct name_ent *e, jint bci)
{
	jint line = 0;
	jlocation best = -1;

	if (bci < 0)
		return 0;
	for (jint k = 0; k < e->ne_nlines; k++)
		if (e->ne_lines[k].start_location <= bci &&
		    e->ne_lines[k].start_location > best) {
			best = e->ne_lines[k].start_location;
			line = e->ne_lines[k].line_number;
		}
	return line;
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

	if (num == AGENT_NON_JAVA)
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

/* Frame types, as async-profiler marks them. */
enum frame_type { FT_INTERP, FT_JIT, FT_INLINED, FT_C1 };
static const char *const type_mark[] = {"_[0]", "_[j]", "_[i]", "_[1]"};

/* Roles of threads without Java frames. */
enum thread_role {
	ROLE_OTHER,
	ROLE_COMPILER,
	ROLE_GC,
	ROLE_VM,
	ROLE_REASON, /* a Java thread: AsyncGetCallTrace's reason instead */
};
static const char *const role_frame[] = {"[JVM thread]",
					 "[JIT compiler thread]", "[GC thread]",
					 "[VM thread]", NULL};

/* Extra record flags set while dumping. */
#define REC_LEAF_METHOD 0x400u /* w[2]: the jmethodID of a popped top */
#define REC_LEAF_STUB	0x800u /* w[2]: the name of a popped stub */
#define REC_ROLE_SHIFT	12     /* 3 bits: enum thread_role */
#define REC_LTYPE_SHIFT 16     /* 2 bits: the popped top's frame type */

struct dump_stats {
	uint64_t ds_samples, ds_java, ds_native, ds_recovered, ds_in_vm;
	uint64_t ds_codes[256]; /* samples under an error, by code + 128 */
};

/* A tid -> role cache for one dump (the names are read from /proc). */
struct role_ent {
	pid_t re_tid;
	int re_role;
};

static int
role_of_name(const char *n)
{
	if (strstr(n, "CompilerThre") != NULL || strncmp(n, "C1 ", 3) == 0 ||
	    strncmp(n, "C2 ", 3) == 0 || strncmp(n, "JVMCI", 5) == 0)
		return ROLE_COMPILER;
	if (strstr(n, "GC") != NULL || strncmp(n, "G1 ", 3) == 0 ||
	    strncmp(n, "Shenandoah", 10) == 0 || strncmp(n, "Conc", 4) == 0 ||
	    (n[0] == 'Z' && n[1] >= 'A' && n[1] <= 'Z'))
		return ROLE_GC;
	if (strncmp(n, "VM ", 3) == 0)
		return ROLE_VM;
	return ROLE_OTHER;
}

static int
role_of(pid_t tid, struct role_ent *cache, size_t cap)
{
	size_t i = ((uint32_t)tid * 2654435761u) & (cap - 1);

	for (; cache[i].re_tid != 0; i = (i + 1) & (cap - 1))
		if (cache[i].re_tid == tid)
			return cache[i].re_role;
	cache[i].re_tid = tid;
	cache[i].re_role = role_of_name(agent_threads_name(tid));
	return cache[i].re_role;
}

static int
level_type(int level)
{
	return level >= 1 && level <= 3 ? FT_C1 : FT_JIT;
}

/* Frame i's type from what the JIT told: inlined into its caller at
 * that call, compiled, or (no compiled code) interpreted. */
static int
frame_type_guess(const agct_frame *f, jint i, jint num)
{
	int level;

	if (f[i].bci == -3) /* a native method */
		return FT_JIT;
	if (i + 1 < num && agent_code_inlined(f[i].method_id,
					      f[i + 1].method_id, f[i + 1].bci))
		return FT_INLINED;
	level = agent_code_level(f[i].method_id);
	return level < 0 ? FT_INTERP : level_type(level);
}

/* Types the Java frames of a record: the top from the interrupted PC
 * (interpreter; compiled method, the frames above it inlined into it),
 * the rest by frame_type_guess. types[] gets one per frame. */
static void
frame_types(const agct_frame *f, jint num, uintptr_t pc, int recovered,
	    int *types)
{
	struct code_hit h;
	jint k = -1;

	for (jint i = 0; i < num; i++)
		types[i] = -1;
	agent_code_find(pc, &h);
	if (!recovered && h.ch_kind == CODE_INTERP) {
		types[0] = FT_INTERP;
	} else if (!recovered && h.ch_kind == CODE_METHOD) {
		for (k = 0; k < num && f[k].method_id != h.ch_method; k++)
			;
		if (k < num) {
			types[k] = level_type(h.ch_level);
			for (jint i = 0; i < k; i++)
				types[i] = FT_INLINED;
		}
	}
	for (jint i = 0; i < num; i++)
		if (types[i] < 0)
			types[i] = frame_type_guess(f, i, num);
}

/* Rewrites the Java frames of record w: each frame's first word becomes
 * its type << 24 | its line (lines=1), so identical stacks compare
 * equal; a recovered record's popped top goes to w[2]. */
static uint32_t
rec_canon_java(uint64_t *w, jint num, uint32_t flags)
{
	agct_frame *f = (agct_frame *)&w[AGENT_REC_HEAD];
	int types[AGENT_MAX_DEPTH];
	struct code_hit h;
	uintptr_t pc = w[2];

	frame_types(f, num, pc, flags & REC_RECOVERED, types);
	w[2] = 0;
	if (flags & REC_RECOVERED) {
		agent_code_find(pc, &h);
		if (h.ch_kind == CODE_METHOD && h.ch_method != f[0].method_id) {
			w[2] = (uint64_t)(uintptr_t)h.ch_method;
			flags |=
			    REC_LEAF_METHOD | (uint32_t)level_type(h.ch_level)
						  << REC_LTYPE_SHIFT;
		} else if (h.ch_kind == CODE_STUB) {
			w[2] = (uint64_t)(uintptr_t)h.ch_name;
			flags |= REC_LEAF_STUB;
		}
	}
	for (jint i = 0; i < num; i++) {
		jint line = 0;

		if (agent.as_lines) {
			const char *why;
			struct name_ent *e = name_ent(f[i].method_id, &why);

			line = e != NULL ? name_line(e, f[i].bci) : 0;
		}
		w[AGENT_REC_HEAD + 2 * (size_t)i] =
		    (uint64_t)(uint32_t)(types[i] << 24 | (line & 0xffffff));
	}
	return flags;
}

/* An error record keeps where it happened, when the code map knows:
 * the compiled method or stub the PC was in (w[2], flags as for a
 * popped top); in the interpreter or elsewhere, nothing. */
static uint32_t
rec_canon_error(uint64_t *w, uint32_t flags)
{
	struct code_hit h;

	agent_code_find(w[2], &h);
	w[2] = 0;
	if (h.ch_kind == CODE_METHOD) {
		w[2] = (uint64_t)(uintptr_t)h.ch_method;
		flags |= REC_LEAF_METHOD | (uint32_t)level_type(h.ch_level)
					       << REC_LTYPE_SHIFT;
	} else if (h.ch_kind == CODE_STUB) {
		w[2] = (uint64_t)(uintptr_t)h.ch_name;
		flags |= REC_LEAF_STUB;
	}
	return flags;
}

static void write_java_frame(struct out *o, jmethodID m, uint64_t word);

/* The start of the function (or compiled method, or stub) pc is in. */
static uintptr_t
native_start(uintptr_t pc)
{
	struct code_hit h;

	agent_code_find(pc, &h);
	return h.ch_kind != CODE_NONE ? h.ch_lo : agent_syms_start(pc);
}

/* A native frame's name: a function; a compiled method or stub (the
 * frame-pointer walk passes through Java code); or the interpreter. */
static void
write_native_frame(struct out *o, uintptr_t pc)
{
	struct code_hit h;
	char buf[512];

	agent_code_find(pc, &h);
	if (h.ch_kind == CODE_METHOD) {
		write_java_frame(o, h.ch_method,
				 (uint64_t)level_type(h.ch_level) << 24);
		return;
	}
	if (h.ch_kind == CODE_STUB || h.ch_kind == CODE_INTERP) {
		snprintf(buf, sizeof(buf), "[%s]",
			 h.ch_name != NULL ? h.ch_name : "stub");
		for (char *c = buf + 1; *c; c++)
			if (*c == ';' || *c == ' ' || (unsigned char)*c < 0x20)
				*c = '_';
		out_str(o, buf);
		return;
	}
	out_str(o, agent_syms_name(pc, buf, sizeof(buf)));
}

/* The native frames above a Java stack (REC_VMTOP): each PC becomes
 * its function's start; a count that cannot be is dropped. */
static uint32_t
rec_canon_vmtop(uint64_t *w, jint num, uint32_t flags, struct dump_stats *st)
{
	uint32_t n = (flags >> REC_VMTOP_SHIFT) & REC_VMTOP_MASK;
	uint64_t *pcs = &w[AGENT_REC_HEAD + 2 * (size_t)num];

	if (n == 0 || n > AGENT_VMTOP_DEPTH || (flags & REC_RECOVERED))
		return flags & ~(REC_VMTOP_MASK << REC_VMTOP_SHIFT);
	st->ds_in_vm++;
	for (uint32_t i = 0; i < n; i++)
		pcs[i] = native_start(pcs[i]);
	return flags;
}

/* Puts record w in its canonical form (see rec_canon_java; native PCs
 * become their function's start; the thread id only with threads=1)
 * and counts it. */
static void
rec_canon(uint64_t *w, struct dump_stats *st, struct role_ent *roles,
	  size_t nroles)
{
	jint num = (jint)(uint32_t)w[0];
	uint32_t flags = (uint32_t)(w[1] >> 32);
	pid_t tid = (pid_t)(uint32_t)w[1];

	st->ds_samples++;
	if (num > (flags & REC_NATIVE ? AGENT_NATIVE_DEPTH : AGENT_MAX_DEPTH))
		num = 0; /* cannot be: kept as AsyncGetCallTrace's 0 */
	w[0] = (uint64_t)(uint32_t)num | (w[0] & ~0xffffffffULL);
	if (flags & REC_NATIVE) {
		int role = role_of(tid, roles, nroles);

		/* Java threads other than the compilers keep their reason. */
		if ((jint)(flags & REC_CODE_MASK) - 128 != AGENT_NON_JAVA &&
		    role != ROLE_COMPILER)
			role = ROLE_REASON;
		st->ds_native++;
		if (role == ROLE_REASON)
			st->ds_codes[(flags & REC_CODE_MASK) & 0xff]++;
		for (jint i = 0; i < num; i++)
			w[AGENT_REC_HEAD + i] =
			    native_start(w[AGENT_REC_HEAD + i]);
		flags |= (uint32_t)role << REC_ROLE_SHIFT;
		w[2] = 0;
	} else if (num > 0) {
		st->ds_java++;
		if (flags & REC_RECOVERED)
			st->ds_recovered++;
		flags = rec_canon_java(w, num, flags);
		flags = rec_canon_vmtop(w, num, flags, st);
	} else {
		st->ds_codes[(num + 128) & 0xff]++;
		flags = rec_canon_error(w, flags);
	}
	if (!agent.as_threads)
		tid = 0;
	w[1] = (uint64_t)(uint32_t)tid | (uint64_t)flags << 32;
}

/* Identical records, counted: open addressing over record offsets. */
struct agg_ent {
	uint64_t ae_pos; /* word offset of the record + 1; 0 = empty */
	uint64_t ae_count;
};

/* The words of record w that tell its stack (canonical form). */
static size_t
rec_words(const uint64_t *w)
{
	jint num = (jint)(uint32_t)w[0];
	uint32_t flags = (uint32_t)(w[1] >> 32);

	if (num <= 0)
		return AGENT_REC_HEAD;
	if (flags & REC_NATIVE)
		return AGENT_REC_HEAD + (size_t)num;
	return AGENT_REC_HEAD + 2 * (size_t)num +
	       ((flags >> REC_VMTOP_SHIFT) & REC_VMTOP_MASK);
}

static uint64_t
rec_hash(const uint64_t *w)
{
	uint64_t h = 1469598103934665603ULL;
	size_t n = rec_words(w);

	h = (h ^ (uint32_t)w[0]) * 1099511628211ULL;
	for (size_t i = 1; i < n; i++)
		h = (h ^ w[i]) * 1099511628211ULL;
	return h;
}

static int
rec_equal(const uint64_t *a, const uint64_t *b)
{
	size_t n = rec_words(a);

	if ((uint32_t)a[0] != (uint32_t)b[0] || n != rec_words(b))
		return 0;
	return memcmp(&a[1], &b[1], (n - 1) * sizeof(uint64_t)) == 0;
}

/* One Java frame: "name[:line]_[x]". */
static void
write_java_frame(struct out *o, jmethodID m, uint64_t word)
{
	jint line = (jint)(word & 0xffffff);
	int type = (int)((word >> 24) & 3);
	const char *why = NULL;
	struct name_ent *e = name_ent(m, &why);
	char buf[24];

	out_str(o, e != NULL ? e->ne_name : why);
	if (line > 0) {
		snprintf(buf, sizeof(buf), ":%d", (int)line);
		out_str(o, buf);
	}
	if (e != NULL)
		out_str(o, type_mark[type]);
}

static void
write_native(struct out *o, const uint64_t *w, jint num, uint32_t flags)
{
	int role = (int)((flags >> REC_ROLE_SHIFT) & 7);

	if (role == ROLE_REASON)
		out_str(o, error_name((jint)(flags & REC_CODE_MASK) - 128));
	else
		out_str(o, role_frame[role <= ROLE_VM ? role : ROLE_OTHER]);
	for (jint i = num - 1; i >= 0; i--) {
		out_str(o, ";");
		write_native_frame(o, w[AGENT_REC_HEAD + i]);
	}
}

static void write_leaf(struct out *o, const uint64_t *w, uint32_t flags);

static void
write_java(struct out *o, const uint64_t *w, jint num, uint32_t flags)
{
	const agct_frame *f = (const agct_frame *)&w[AGENT_REC_HEAD];
	const uint64_t *top = &w[AGENT_REC_HEAD + 2 * (size_t)num];

	for (jint i = num - 1; i >= 0; i--) {
		write_java_frame(o, f[i].method_id,
				 w[AGENT_REC_HEAD + 2 * (size_t)i]);
		if (i > 0)
			out_str(o, ";");
	}
	write_leaf(o, w, flags);
	for (int i = (int)((flags >> REC_VMTOP_SHIFT) & REC_VMTOP_MASK) - 1;
	     i >= 0; i--) {
		out_str(o, ";");
		write_native_frame(o, top[i]);
	}
}

/* The popped top of a recovered stack, or where an error happened. */
static void
write_leaf(struct out *o, const uint64_t *w, uint32_t flags)
{
	if (flags & REC_LEAF_METHOD) {
		out_str(o, ";");
		write_java_frame(o, (jmethodID)(uintptr_t)w[2],
				 (uint64_t)((flags >> REC_LTYPE_SHIFT) & 3)
				     << 24);
	} else if (flags & REC_LEAF_STUB) {
		char buf[128];

		snprintf(buf, sizeof(buf), ";[%s]", (const char *)w[2]);
		for (char *c = buf + 1; *c; c++)
			if (*c == ';' || *c == ' ' || (unsigned char)*c < 0x20)
				*c = '_';
		out_str(o, buf);
	}
}

static void
write_record(struct out *o, const uint64_t *w, uint64_t count)
{
	jint num = (jint)(uint32_t)w[0];
	uint32_t flags = (uint32_t)(w[1] >> 32);
	pid_t tid = (pid_t)(uint32_t)w[1];
	char buf[128];

	if (tid > 0) {
		const char *name = agent_threads_name(tid);

		snprintf(buf, sizeof(buf), "[%s%stid=%d];", name,
			 name[0] ? " " : "", (int)tid);
		out_str(o, buf);
	}
	if (flags & REC_NATIVE)
		write_native(o, w, num, flags);
	else if (num > 0)
		write_java(o, w, num, flags);
	else {
		out_str(o, error_name(num));
		write_leaf(o, w, flags);
	}
	snprintf(buf, sizeof(buf), " %llu\n", (unsigned long long)count);
	out_str(o, buf);
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

static void
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
}

/* The window's counts, as a comment line profd-java logs: samples,
 * Java stacks (recovered ones among them, and those taken in the VM or
 * native code, with native frames on top), native stacks, and each
 * error left as an error by its reason. */
static void
write_stats(struct out *o, const struct dump_stats *st, uint64_t dropped)
{
	char line[160];

	snprintf(
	    line, sizeof(line),
	    "# samples=%llu java=%llu recovered=%llu in_vm=%llu native=%llu "
	    "dropped=%llu",
	    (unsigned long long)st->ds_samples, (unsigned long long)st->ds_java,
	    (unsigned long long)st->ds_recovered,
	    (unsigned long long)st->ds_in_vm, (unsigned long long)st->ds_native,
	    (unsigned long long)dropped);
	out_str(o, line);
	for (int c = 0; c < 256; c++) {
		if (st->ds_codes[c] == 0)
			continue;
		snprintf(line, sizeof(line), " %s=%llu",
			 error_name((jint)c - 128),
			 (unsigned long long)st->ds_codes[c]);
		for (char *p = line + 1; *p; p++)
			if (*p == ' ')
				*p = '_';
		out_str(o, line);
	}
	out_str(o, "\n");
}

static void
canon_all(struct agent_arena *a, uint64_t end, struct dump_stats *st)
{
	struct role_ent roles[1024];

	memset(roles, 0, sizeof(roles));
	for (uint64_t pos = 0; pos < end; pos += a->aa_words[pos] >> 32)
		rec_canon(&a->aa_words[pos], st, roles, 1024);
}

int
agent_dump(struct agent_arena *a, int fd, uint64_t dropped)
{
	struct agg_ent *t = NULL;
	struct dump_stats *st = NULL;
	struct out *o;
	size_t nrec, cap = 16;
	uint64_t end = arena_scan(a, &nrec);
	int rv = -1;

	while (cap < 2 * nrec)
		cap *= 2;
	if ((o = malloc(sizeof(*o))) == NULL ||
	    (st = calloc(1, sizeof(*st))) == NULL ||
	    (t = calloc(cap, sizeof(*t))) == NULL)
		goto out;
	o->o_fd = fd;
	o->o_len = 0;
	o->o_err = 0;
	if (agent.as_threads)
		agent_threads_refresh();
	/* The code map stays as it is while its names are in use. */
	agent_code_lock();
	canon_all(a, end, st);
	aggregate(a, end, t, cap);
	/* The counts first: a reader that must cut a long dump still knows
	 * how many samples it did not get. */
	write_stats(o, st, dropped);
	for (size_t i = 0; i < cap; i++)
		if (t[i].ae_pos != 0)
			write_record(o, &a->aa_words[t[i].ae_pos - 1],
				     t[i].ae_count);
	agent_code_unlock();
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
	free(st);
	free(o);
	return rv;
}
