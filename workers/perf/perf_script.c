/*
 * Streaming parser of `perf script -F +pid` output into a stack table.
 *
 * Input is a series of samples separated by blank lines:
 *
 *	comm pid/tid [cpu] time: period event:
 *		addr symbol+0xoff (dso)		<- leaf
 *		...
 *		addr symbol+0xoff (dso)		<- root
 *
 * Lines are cut out of the fed chunks in place; only a line split between
 * two chunks is copied, into a buffer of PERF_MAX_LINE bytes. Frame ids are
 * kept in a ring of STACKS_MAX_FRAMES, so a deeper stack keeps its root-most
 * frames. Most frame lines recur many times: a direct-mapped cache of
 * PERF_CACHE_SLOTS lines gives the id of a line seen before without
 * parsing and interning it again. Bad input never fails a call: the sample is
 *counted as skipped and parsing resumes after the next blank line.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "perf_script.h"

#define PERF_NAME_MAX	 (PERF_MAX_LINE + 16) /* bytes of a built frame name */
#define PERF_CACHE_SLOTS 1024 /* frame lines cached, a power of 2 */
#define PERF_CACHE_KEY	 88   /* bytes of the longest one */
#define PERF_WHO_SLOTS	 64   /* processes cached, a power of 2 */
#define PERF_WHO_COMM	 16   /* bytes of the longest comm cached */

enum perf_state {
	PERF_IDLE,   /* between samples */
	PERF_SAMPLE, /* header read, reading frames */
	PERF_BAD,    /* skipping a bad sample up to the next blank line */
};

/* A frame line (after its leading blanks, byte for byte) and its frame id.
 * The same line always gives the same id, except through the JIT callback:
 * those lines are not cached. */
struct perf_cache_ent {
	uint32_t pc_id;
	uint32_t pc_len; /* 0: empty */
	char pc_key[PERF_CACHE_KEY];
};

/* A pid and comm of a sample header and the process index they gave: the
 * resolve callback answers the same for the same pid and comm. */
struct perf_who {
	uint32_t pw_pid;
	int pw_proc;
	uint8_t pw_used;
	uint8_t pw_comm_len;
	char pw_comm[PERF_WHO_COMM];
};

struct perf_parser {
	struct stack_table *pp_table;
	int pp_flags;
	perf_proc_fn pp_resolve;
	void *pp_arg;
	perf_jit_fn pp_jit;
	int (*pp_is_jit)(const char *dso, size_t n);
	void *pp_jit_arg;
	enum perf_state pp_state;
	char *pp_line;	     /* line split between chunks, PERF_MAX_LINE */
	size_t pp_len;	     /* bytes in pp_line */
	int pp_long;	     /* that line is longer than PERF_MAX_LINE */
	char *pp_name;	     /* frame name being built, PERF_NAME_MAX */
	uint32_t *pp_frames; /* ring of STACKS_MAX_FRAMES ids, leaf first */
	struct perf_cache_ent *pp_cache; /* PERF_CACHE_SLOTS */
	struct perf_who pp_who[PERF_WHO_SLOTS];
	size_t pp_nframes; /* frames read in this sample */
	uint32_t pp_pid;
	size_t pp_comm_len;
	char pp_comm[PERF_MAX_COMM];
	struct perf_parse_stats pp_stats;
};

/* A sample header: spans into its line. */
struct perf_header {
	size_t ph_comm; /* comm is line[ph_comm..ph_comm_end) */
	size_t ph_comm_end;
	uint32_t ph_pid;
};

/* A frame line: spans into its line. */
struct perf_frame {
	const char *pf_addr; /* hex digits, at most 16 */
	size_t pf_addr_len;
	const char *pf_sym; /* with its +0x offset */
	size_t pf_sym_len;
	const char *pf_dso; /* without the brackets of "[dso]" */
	size_t pf_dso_len;
};

static int
perf_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
perf_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value + 1 of each hex digit, 0 for any other byte. */
static const unsigned char perf_hex[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,
    ['6'] = 7,	['7'] = 8,  ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int
perf_isxdigit(char c)
{
	return perf_hex[(unsigned char)c] != 0;
}

static unsigned
perf_hexval(char c)
{
	return perf_hex[(unsigned char)c] - 1u;
}

/* Returns the value of the hex digits s[0..n), n <= 16. */
static uint64_t
perf_hex_value(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 4 | perf_hexval(s[i]);
	return v;
}

static int
perf_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!perf_isspace(s[i]))
			return 0;
	return 1;
}

static size_t
perf_skip_space(const char *s, size_t i, size_t n)
{
	while (i < n && perf_isspace(s[i]))
		i++;
	return i;
}

static size_t
perf_token_end(const char *s, size_t i, size_t n)
{
	while (i < n && !perf_isspace(s[i]))
		i++;
	return i;
}

static int
perf_contains(const char *s, size_t n, const char *w, size_t wn)
{
	const char *end = s + n, *c;

	for (; (size_t)(end - s) >= wn; s = c + 1) {
		if ((c = memchr(s, w[0], (size_t)(end - s) - wn + 1)) == NULL)
			return 0;
		if (memcmp(c, w, wn) == 0)
			return 1;
	}
	return 0;
}

/* Reads the pid of a "pid/tid" token s[0..n), both [0-9-]+; pid is a
 * decimal number or -1. Returns -1 if the token is not one. */
static int
perf_pid_token(const char *s, size_t n, uint32_t *pid)
{
	const char *slash = memchr(s, '/', n);
	uint64_t v = 0;
	size_t pn;

	if (slash == NULL || (pn = (size_t)(slash - s)) == 0 || pn + 1 == n)
		return -1;
	for (size_t i = pn + 1; i < n; i++)
		if (!perf_isdigit(s[i]) && s[i] != '-')
			return -1;
	if (pn == 2 && s[0] == '-' && s[1] == '1') {
		*pid = PERF_PID_UNKNOWN;
		return 0;
	}
	for (size_t i = 0; i < pn; i++) {
		if (!perf_isdigit(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v >= PERF_PID_UNKNOWN)
			return -1;
	}
	*pid = (uint32_t)v;
	return 0;
}

/* Returns 1 if s[0..n) is a "[cpu]" token. */
static int
perf_cpu_token(const char *s, size_t n)
{
	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!perf_isdigit(s[i]))
			return 0;
	return 1;
}

/* Returns 1 if s[0..n) is a "seconds.fraction:" token. */
static int
perf_time_token(const char *s, size_t n)
{
	size_t i = 0, frac;

	while (i < n && perf_isdigit(s[i]))
		i++;
	if (i == 0 || i == n || s[i] != '.')
		return 0;
	frac = ++i;
	while (i < n && perf_isdigit(s[i]))
		i++;
	return i > frac && i + 1 == n && s[i] == ':';
}

/* Returns 1 if s[i..n) starts with an optional "[cpu]" and a time token. */
static int
perf_header_tail(const char *s, size_t i, size_t n)
{
	size_t j;

	i = perf_skip_space(s, i, n);
	j = perf_token_end(s, i, n);
	if (perf_cpu_token(s + i, j - i)) {
		i = perf_skip_space(s, j, n);
		j = perf_token_end(s, i, n);
	}
	return perf_time_token(s + i, j - i);
}

/* Parses "comm pid/tid [cpu] time: ..." taking the first pid/tid token
 * followed by the right tokens, as comm may hold spaces and digits. */
static int
perf_header_parse(const char *s, size_t n, struct perf_header *h)
{
	size_t b = perf_skip_space(s, 0, n), e;

	for (size_t i = b, j; i < n; i = perf_skip_space(s, j, n)) {
		j = perf_token_end(s, i, n);
		if (perf_pid_token(s + i, j - i, &h->ph_pid) == -1 ||
		    !perf_header_tail(s, j, n))
			continue;
		for (e = i; e > b && perf_isspace(s[e - 1]); e--)
			;
		h->ph_comm = b;
		h->ph_comm_end = e - b > PERF_MAX_COMM ? b + PERF_MAX_COMM : e;
		return 0;
	}
	return -1;
}

/* Starts a sample with the header h of line s. */
static void
perf_begin(struct perf_parser *p, const char *s, const struct perf_header *h)
{
	p->pp_state = PERF_SAMPLE;
	p->pp_pid = h->ph_pid;
	p->pp_comm_len = h->ph_comm_end - h->ph_comm;
	memcpy(p->pp_comm, s + h->ph_comm, p->pp_comm_len);
	p->pp_nframes = 0;
}

/* Returns the index of the '(' opening the "(dso)" that ends s[0..n)
 * (s[n - 1] is ')'), after a space and a non-empty symbol starting at sym;
 * 0 if there is none. The balanced group is taken, so that the dso may
 * hold " (deleted)"; failing that, the last " (". */
static size_t
perf_dso_open(const char *s, size_t sym, size_t n)
{
	const char *open = memrchr(s + sym, '(', n - 1 - sym);
	size_t depth = 0;

	/* Mostly the dso holds no ')': its '(' is the last one. */
	if (open != NULL && open - s >= (ptrdiff_t)sym + 2 && open[-1] == ' ' &&
	    memchr(open + 1, ')', (size_t)(s + n - 1 - (open + 1))) == NULL)
		return (size_t)(open - s);
	for (size_t i = n; i-- > sym;) {
		if (s[i] == ')') {
			depth++;
		} else if (s[i] == '(' && --depth == 0) {
			if (i >= sym + 2 && s[i - 1] == ' ')
				return i;
			break;
		}
	}
	for (size_t i = n - 1; i >= sym + 2; i--)
		if (s[i] == '(' && s[i - 1] == ' ')
			return i;
	return 0;
}

/* Splits a frame line "<space>addr symbol (dso)" into f. */
static int
perf_frame_parse(const char *s, size_t n, struct perf_frame *f)
{
	size_t i = perf_skip_space(s, 0, n), addr = i, open;

	while (i < n && perf_isxdigit(s[i]))
		i++;
	if (i == addr || i - addr > 16 || i == n || s[i] != ' ')
		return -1;
	f->pf_addr = s + addr;
	f->pf_addr_len = i - addr;
	i++;
	while (n > i && perf_isspace(s[n - 1]))
		n--;
	if (n == i || s[n - 1] != ')' || (open = perf_dso_open(s, i, n)) == 0)
		return -1;
	f->pf_sym = s + i;
	f->pf_sym_len = open - 1 - i;
	f->pf_dso = s + open + 1;
	f->pf_dso_len = n - open - 2;
	if (f->pf_dso_len >= 2 && f->pf_dso[0] == '[' &&
	    f->pf_dso[f->pf_dso_len - 1] == ']') {
		f->pf_dso++;
		f->pf_dso_len -= 2;
	}
	return 0;
}

/* Returns the length of s[0..n) without a trailing "+0x<hex>". */
static size_t
perf_strip_offset(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && perf_isxdigit(s[i - 1]))
		i--;
	if (i == n || i < 3 || s[i - 1] != 'x' || s[i - 2] != '0' ||
	    s[i - 3] != '+')
		return n;
	return i - 3;
}

/* Interns s[0..n) with every ';' replaced by ':'. */
static uint32_t
perf_intern(struct perf_parser *p, const char *s, size_t n)
{
	char *c = memchr(s, ';', n), *end;

	if (c != NULL) {
		if (s != p->pp_name)
			memcpy(p->pp_name, s, n);
		end = p->pp_name + n;
		for (c = p->pp_name + (c - s); c != NULL;
		     c = memchr(c, ';', (size_t)(end - c)))
			*c++ = ':';
		s = p->pp_name;
	}
	return stacks_intern(p->pp_table, s, n);
}

/* A piece of a frame name. */
struct perf_part {
	const char *pa_s;
	size_t pa_n;
};

/* Interns the concatenation of part[0..n). */
static uint32_t
perf_intern_parts(struct perf_parser *p, const struct perf_part *part, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		memcpy(p->pp_name + len, part[i].pa_s, part[i].pa_n);
		len += part[i].pa_n;
	}
	return perf_intern(p, p->pp_name, len);
}

/* Returns the id of the collapsed name of frame f, as gProfiler names it;
 * sets *jit if the JIT callback was asked. */
static uint32_t
perf_frame_id(struct perf_parser *p, const struct perf_frame *f, int *jit)
{
	static const char unknown[] = "[unknown]";
	const char *sym = f->pf_sym, *dso = f->pf_dso;
	size_t sn = perf_strip_offset(sym, f->pf_sym_len), dn = f->pf_dso_len;
	int unknown_sym = sn == 9 && memcmp(sym, unknown, 9) == 0;
	int unknown_dso =
	    dn == 0 || (dn == 7 && memcmp(dso, "unknown", 7) == 0);

	if (unknown_sym && !unknown_dso && p->pp_jit != NULL &&
	    p->pp_is_jit(dso, dn)) {
		size_t len;
		const char *name = p->pp_jit(
		    p->pp_jit_arg, p->pp_pid,
		    perf_hex_value(f->pf_addr, f->pf_addr_len), dso, dn, &len);

		*jit = 1;
		if (name != NULL && len > 0 && len <= PERF_MAX_LINE)
			return perf_intern(p, name, len);
	}
	if (unknown_sym && !unknown_dso)
		return perf_intern_parts(
		    p, (struct perf_part[]){{"(", 1}, {dso, dn}, {")", 1}}, 3);
	if (unknown_sym)
		return stacks_intern(p->pp_table, unknown, 9);
	if (perf_contains(dso, dn, "kernel", 6) ||
	    perf_contains(dso, dn, "vmlinux", 7))
		return perf_intern_parts(
		    p, (struct perf_part[]){{sym, sn}, {"_[k]", 4}}, 2);
	if (p->pp_flags & PERF_INSERT_DSO_NAME)
		return perf_intern_parts(
		    p,
		    (struct perf_part[]){
			{sym, sn}, {" (", 2}, {dso, dn}, {")", 1}},
		    4);
	return perf_intern(p, sym, sn);
}

/* Counts the current sample as skipped and ignores the rest of it. */
static void
perf_skip(struct perf_parser *p)
{
	p->pp_stats.ps_skipped++;
	p->pp_state = PERF_BAD;
}

static uint64_t
perf_word(const char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

/* Hashes three words of the frame line s[0..n), enough to pick its cache
 * slot: the first 16 bytes (mostly the address) and the last 8, multiplied
 * independently of each other, then mixed into the low bits. */
static uint32_t
perf_line_hash(const char *s, size_t n)
{
	uint64_t h;

	if (n < 16)
		return stacks_hash(s, n);
	h = perf_word(s) * 0x9e3779b97f4a7c15ull ^
	    perf_word(s + 8) * 0xc2b2ae3d27d4eb4full ^
	    perf_word(s + n - 8) * 0x165667b19e3779f9ull ^ n;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* Returns the cache slot of the frame line s[0..n), or NULL if it is too
 * long to be cached. */
static struct perf_cache_ent *
perf_cache_slot(struct perf_parser *p, const char *s, size_t n)
{
	if (n > PERF_CACHE_KEY)
		return NULL;
	return &p->pp_cache[perf_line_hash(s, n) & (PERF_CACHE_SLOTS - 1)];
}

/* Adds the frame line s[0..n), leading blanks left out, to the current
 * sample. */
static void
perf_frame(struct perf_parser *p, const char *s, size_t n)
{
	struct perf_cache_ent *e = perf_cache_slot(p, s, n);
	struct perf_frame f;
	uint32_t id;
	int jit = 0;

	if (e != NULL && e->pc_len == n && memcmp(e->pc_key, s, n) == 0) {
		id = e->pc_id;
	} else if (perf_frame_parse(s, n, &f) == -1 ||
		   (id = perf_frame_id(p, &f, &jit)) == STACKS_NONE) {
		perf_skip(p);
		return;
	} else if (e != NULL && !jit) {
		e->pc_id = id;
		e->pc_len = (uint32_t)n;
		memcpy(e->pc_key, s, n);
	}
	p->pp_frames[p->pp_nframes % STACKS_MAX_FRAMES] = id;
	p->pp_nframes++;
}

static void
perf_reverse(uint32_t *a, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint32_t x = a[i];

		a[i] = a[n - 1 - i];
		a[n - 1 - i] = x;
	}
}

/* Turns the ring of frames into a root first array; returns its length.
 * Past STACKS_MAX_FRAMES, slots [0..r) hold the newest (root-most) frames
 * and [r..max) the older ones: reversing each part gives root first. */
static size_t
perf_root_first(struct perf_parser *p)
{
	size_t n = p->pp_nframes, r;

	if (n <= STACKS_MAX_FRAMES) {
		perf_reverse(p->pp_frames, n);
		return n;
	}
	r = n % STACKS_MAX_FRAMES;
	perf_reverse(p->pp_frames, r);
	perf_reverse(p->pp_frames + r, STACKS_MAX_FRAMES - r);
	return STACKS_MAX_FRAMES;
}

/* Returns the process index of the current sample, -1 to drop it. */
static int
perf_proc_resolve(struct perf_parser *p)
{
	uint32_t comm;

	if (p->pp_resolve != NULL)
		return p->pp_resolve(p->pp_arg, p->pp_table, p->pp_pid,
				     p->pp_comm, p->pp_comm_len);
	comm = stacks_intern(p->pp_table, p->pp_comm, p->pp_comm_len);
	if (comm == STACKS_NONE)
		return -1;
	return stacks_proc(p->pp_table, p->pp_pid, comm, 0, 0);
}

/* Same, through the cache of processes: resolved once per pid and comm. */
static int
perf_proc(struct perf_parser *p)
{
	struct perf_who *w = NULL;
	int proc;

	if (p->pp_comm_len <= PERF_WHO_COMM) {
		w = &p->pp_who[(p->pp_pid * 2654435761u) >> 16 &
			       (PERF_WHO_SLOTS - 1)];
		if (w->pw_used && w->pw_pid == p->pp_pid &&
		    w->pw_comm_len == p->pp_comm_len &&
		    memcmp(w->pw_comm, p->pp_comm, p->pp_comm_len) == 0)
			return w->pw_proc;
	}
	if ((proc = perf_proc_resolve(p)) >= 0 && w != NULL) {
		w->pw_used = 1;
		w->pw_pid = p->pp_pid;
		w->pw_proc = proc;
		w->pw_comm_len = (uint8_t)p->pp_comm_len;
		memcpy(w->pw_comm, p->pp_comm, p->pp_comm_len);
	}
	return proc;
}

/* Ends the current sample, adding its stack. */
static void
perf_end(struct perf_parser *p)
{
	size_t n;
	int proc;

	p->pp_state = PERF_IDLE;
	if (p->pp_nframes == 0) {
		p->pp_stats.ps_skipped++;
		return;
	}
	n = perf_root_first(p);
	if ((proc = perf_proc(p)) < 0 ||
	    stacks_add(p->pp_table, proc, p->pp_frames, n, 1) == -1) {
		p->pp_stats.ps_skipped++;
		return;
	}
	p->pp_stats.ps_samples++;
	if (p->pp_nframes > STACKS_MAX_FRAMES)
		p->pp_stats.ps_cut++;
}

/* Handles a line of a sample that starts with lead spaces: a frame, or the
 * header of the next sample when perf printed no blank line between them. */
static void
perf_sample_line(struct perf_parser *p, const char *s, size_t n, size_t lead)
{
	struct perf_header h;

	if (lead > 0) {
		perf_frame(p, s + lead, n - lead);
	} else if (perf_header_parse(s, n, &h) == 0) {
		perf_end(p);
		perf_begin(p, s, &h);
	} else {
		perf_skip(p);
	}
}

/* Handles one line s[0..n); cut: the line was longer and is cut to n. */
static void
perf_line(struct perf_parser *p, const char *s, size_t n, int cut)
{
	struct perf_header h;
	size_t lead = perf_skip_space(s, 0, n);
	int blank = !cut && lead == n;

	switch (p->pp_state) {
	case PERF_IDLE:
		if (blank || s[0] == '#')
			break;
		if (!cut && perf_header_parse(s, n, &h) == 0)
			perf_begin(p, s, &h);
		else
			perf_skip(p);
		break;
	case PERF_SAMPLE:
		if (blank)
			perf_end(p);
		else if (cut)
			perf_skip(p);
		else
			perf_sample_line(p, s, n, lead);
		break;
	case PERF_BAD:
		if (blank)
			p->pp_state = PERF_IDLE;
		break;
	}
}

/* Appends s[0..n) to the kept partial line, cutting it at PERF_MAX_LINE. */
static void
perf_keep(struct perf_parser *p, const char *s, size_t n)
{
	size_t room = PERF_MAX_LINE - p->pp_len;

	if (p->pp_long)
		return;
	if (n > room) {
		n = room;
		p->pp_long = 1;
	}
	memcpy(p->pp_line + p->pp_len, s, n);
	p->pp_len += n;
}

struct perf_parser *
perf_parser_new(struct stack_table *t, int flags, perf_proc_fn resolve,
		void *arg)
{
	struct perf_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pp_line = malloc(PERF_MAX_LINE);
	p->pp_name = malloc(PERF_NAME_MAX);
	p->pp_frames = malloc(STACKS_MAX_FRAMES * sizeof(*p->pp_frames));
	p->pp_cache = calloc(PERF_CACHE_SLOTS, sizeof(*p->pp_cache));
	if (p->pp_line == NULL || p->pp_name == NULL || p->pp_frames == NULL ||
	    p->pp_cache == NULL) {
		perf_parser_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->pp_table = t;
	p->pp_flags = flags;
	p->pp_resolve = resolve;
	p->pp_arg = arg;
	p->pp_state = PERF_IDLE;
	return p;
}

void
perf_parser_set_jit(struct perf_parser *p, perf_jit_fn fn,
		    int (*is_jit)(const char *dso, size_t n), void *arg)
{
	p->pp_jit = fn;
	p->pp_is_jit = is_jit;
	p->pp_jit_arg = arg;
}

int
perf_parser_feed(struct perf_parser *p, const char *buf, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t n;

		if (nl == NULL) {
			perf_keep(p, buf, len);
			break;
		}
		n = (size_t)(nl - buf);
		if (p->pp_len == 0 && !p->pp_long) {
			perf_line(p, buf, n > PERF_MAX_LINE ? PERF_MAX_LINE : n,
				  n > PERF_MAX_LINE);
		} else {
			perf_keep(p, buf, n);
			perf_line(p, p->pp_line, p->pp_len, p->pp_long);
			p->pp_len = 0;
			p->pp_long = 0;
		}
		buf = nl + 1;
		len -= n + 1;
	}
	return 0;
}

/* Handles a last line that has no newline: its sample is truncated. */
static void
perf_tail(struct perf_parser *p)
{
	const char *s = p->pp_line;
	size_t n = p->pp_len;

	if (!p->pp_long && perf_blank(s, n))
		perf_line(p, s, n, 0);
	else if (!(p->pp_state == PERF_IDLE && s[0] == '#') &&
		 p->pp_state != PERF_BAD)
		perf_skip(p);
	p->pp_len = 0;
	p->pp_long = 0;
}

int
perf_parser_finish(struct perf_parser *p)
{
	if (p->pp_len > 0 || p->pp_long)
		perf_tail(p);
	if (p->pp_state == PERF_SAMPLE)
		perf_end(p);
	p->pp_state = PERF_IDLE;
	return 0;
}

void
perf_parser_stats(const struct perf_parser *p, struct perf_parse_stats *st)
{
	*st = p->pp_stats;
}

void
perf_parser_free(struct perf_parser *p)
{
	if (p == NULL)
		return;
	free(p->pp_line);
	free(p->pp_name);
	free(p->pp_frames);
	free(p->pp_cache);
	free(p);
}
