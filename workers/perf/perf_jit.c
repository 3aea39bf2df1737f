/* JIT symbols from /tmp/perf-PID.map, read through /proc/PID/root. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "perf_jit.h"
#include "util.h"
#include "procfs.h"

/* One symbol: [js_start, js_start + js_size) is named by js_name. */
struct jit_sym {
	uint64_t js_start;
	uint32_t js_size;
	uint32_t js_name; /* offset in the map's text */
	uint32_t js_seq;  /* line number: a later line wins */
	uint16_t js_len;
};

/* The map of one process; jm_text NULL when it has none. */
struct jit_map {
	uint32_t jm_pid;
	struct jit_sym *jm_syms;
	size_t jm_n;
	char *jm_text;
	size_t jm_bytes; /* held for this map */
};

struct perf_jit {
	struct jit_map *pj_maps; /* sorted by pid */
	size_t pj_n, pj_cap;
	size_t pj_bytes;
	int pj_warned;
};

struct perf_jit *
perf_jit_new(void)
{
	return calloc(1, sizeof(struct perf_jit));
}

void
perf_jit_free(struct perf_jit *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->pj_n; i++) {
		free(j->pj_maps[i].jm_syms);
		free(j->pj_maps[i].jm_text);
	}
	free(j->pj_maps);
	free(j);
}

static int
jit_prefix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);

	return n >= pn && memcmp(s, p, pn) == 0;
}

/* Reads N of "/tmp/perf-N.map"; 0 if dso is not that. */
static uint32_t
jit_dso_pid(const char *dso, size_t n)
{
	uint64_t v = 0;
	size_t i = 10;

	if (!jit_prefix(dso, n, "/tmp/perf-") || n < 15 ||
	    memcmp(dso + n - 4, ".map", 4) != 0)
		return 0;
	for (; i < n - 4 && dso[i] >= '0' && dso[i] <= '9' && v < PROFD_PID_MAX;
	     i++)
		v = v * 10 + (uint64_t)(dso[i] - '0');
	return i == n - 4 && v > 0 && v <= PROFD_PID_MAX ? (uint32_t)v : 0;
}

int
perf_jit_dso(const char *dso, size_t n)
{
	return jit_dso_pid(dso, n) != 0 || jit_prefix(dso, n, "//anon") ||
	       (n == 4 && memcmp(dso, "anon", 4) == 0) ||
	       jit_prefix(dso, n, "[JIT]");
}

/* Opens /tmp/perf-NSPID.map as pid sees it, following no symbolic link:
 * a process must not make profd-perf read a file of the host. */
static int
jit_open(uint32_t pid, uint32_t nspid)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/perf-%u.map", nspid);
	return procfs_open_in_root((pid_t)pid, NULL, path, 1);
}

/* Reads the last PERF_JIT_MAX_FILE bytes of a regular file, NUL-ended;
 * *skip_first is set when the read starts inside a line. */
static char *
jit_read(int fd, size_t *len, int *skip_first)
{
	struct stat st;
	size_t want, got = 0;
	char *buf;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return NULL;
	want = (size_t)st.st_size > PERF_JIT_MAX_FILE ? PERF_JIT_MAX_FILE
						      : (size_t)st.st_size;
	*skip_first = (size_t)st.st_size > want;
	if ((buf = malloc(want + 1)) == NULL)
		return NULL;
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got,
				  st.st_size - (off_t)want + (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Reads a hex number with an optional 0x at s; returns the end or NULL. */
static char *
jit_hex(char *s, uint64_t *v)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
	      (*s >= 'A' && *s <= 'F')))
		return NULL;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno == 0 && *end == ' ' ? end + 1 : NULL;
}

/* Parses one "START SIZE name" line at text+off into s; 0 or -1. */
static int
jit_line(char *text, size_t off, size_t len, struct jit_sym *s)
{
	char *p = text + off, *name;
	uint64_t start, size;

	if ((p = jit_hex(p, &start)) == NULL || (p = jit_hex(p, &size)) == NULL)
		return -1;
	name = p;
	if ((size_t)(name - text) >= off + len || size > UINT32_MAX)
		return -1;
	s->js_start = start;
	s->js_size = size ? (uint32_t)size : 1;
	s->js_name = (uint32_t)(name - text);
	len -= (size_t)(name - (text + off));
	s->js_len =
	    (uint16_t)(len > PERF_JIT_MAX_NAME ? PERF_JIT_MAX_NAME : len);
	return 0;
}

static int
jit_cmp(const void *a, const void *b)
{
	const struct jit_sym *x = a, *y = b;

	if (x->js_start != y->js_start)
		return x->js_start < y->js_start ? -1 : 1;
	return x->js_seq < y->js_seq ? -1 : x->js_seq > y->js_seq;
}

/* Splits text into sorted symbols; of equal starts the last line wins. */
static int
jit_parse(struct jit_map *m, size_t len, int skip_first)
{
	size_t off = 0, n = 0, cap = 0, k = 0;

	if (skip_first)
		off = strcspn(m->jm_text, "\n") + 1;
	while (off < len) {
		size_t l = strcspn(m->jm_text + off, "\n");

		if (n == cap) {
			struct jit_sym *s;

			cap = cap ? cap * 2 : 256;
			if ((s = realloc(m->jm_syms, cap * sizeof(*s))) == NULL)
				return -1;
			m->jm_syms = s;
		}
		m->jm_syms[n].js_seq = (uint32_t)n;
		if (jit_line(m->jm_text, off, l, &m->jm_syms[n]) == 0)
			n++;
		off += l + 1;
	}
	if (n == 0)
		return 0;
	qsort(m->jm_syms, n, sizeof(*m->jm_syms), jit_cmp);
	for (size_t i = 1; i < n; i++) {
		if (m->jm_syms[i].js_start != m->jm_syms[k].js_start)
			k++;
		m->jm_syms[k] = m->jm_syms[i];
	}
	m->jm_n = k + 1;
	m->jm_bytes = len + cap * sizeof(struct jit_sym);
	return 0;
}

/* Makes text[0..len) (malloc'd, NUL-ended) the symbols of m, or frees it
 * when it holds none. */
static void
jit_take(struct perf_jit *j, struct jit_map *m, char *text, size_t len,
	 int skip)
{
	m->jm_text = text;
	if (jit_parse(m, len, skip) == -1 || m->jm_n == 0) {
		free(m->jm_syms);
		free(m->jm_text);
		m->jm_syms = NULL;
		m->jm_text = NULL;
		m->jm_n = 0;
		return;
	}
	j->pj_bytes += m->jm_bytes;
}

/* Loads pid's map into m, within what is left of the budget. */
static void
jit_load(struct perf_jit *j, struct jit_map *m)
{
	/* perf names the region with the host PID; inside the process's
	 * namespace the file is named with the PID the process sees. */
	int64_t ns = procfs_nspid((pid_t)m->jm_pid);
	size_t len = 0;
	int fd, skip = 0;
	char *text;

	if (ns <= 0 || (fd = jit_open(m->jm_pid, (uint32_t)ns)) == -1)
		return;
	text = j->pj_bytes + PERF_JIT_MAX_FILE <= PERF_JIT_MAX_BYTES
		   ? jit_read(fd, &len, &skip)
		   : NULL;
	close(fd);
	if (text == NULL) {
		if (!j->pj_warned++ && j->pj_bytes > 0)
			log_warn("perf maps of more processes than %u MB hold: "
				 "their JIT frames stay unnamed",
				 PERF_JIT_MAX_BYTES >> 20);
		return;
	}
	jit_take(j, m, text, len, skip);
}

/* Returns pid's map, a new empty one (*fresh set) the first time; NULL
 * past the limits. */
static struct jit_map *
jit_slot(struct perf_jit *j, uint32_t pid, int *fresh)
{
	size_t lo = 0, hi = j->pj_n;

	*fresh = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (j->pj_maps[mid].jm_pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < j->pj_n && j->pj_maps[lo].jm_pid == pid)
		return &j->pj_maps[lo];
	if (j->pj_n >= PERF_JIT_MAX_PIDS)
		return NULL;
	if (j->pj_n == j->pj_cap) {
		size_t cap = j->pj_cap ? j->pj_cap * 2 : 16;
		struct jit_map *m = realloc(j->pj_maps, cap * sizeof(*m));

		if (m == NULL)
			return NULL;
		j->pj_maps = m;
		j->pj_cap = cap;
	}
	memmove(&j->pj_maps[lo + 1], &j->pj_maps[lo],
		(j->pj_n - lo) * sizeof(*j->pj_maps));
	j->pj_n++;
	j->pj_maps[lo] = (struct jit_map){.jm_pid = pid};
	*fresh = 1;
	return &j->pj_maps[lo];
}

/* Returns pid's map, loading it the first time; NULL past the limits. */
static struct jit_map *
jit_map(struct perf_jit *j, uint32_t pid)
{
	int fresh;
	struct jit_map *m = jit_slot(j, pid, &fresh);

	if (m != NULL && fresh)
		jit_load(j, m);
	return m;
}

int
perf_jit_load_text(struct perf_jit *j, uint32_t pid, const char *text,
		   size_t len, int skip_first)
{
	int fresh;
	struct jit_map *m = jit_slot(j, pid, &fresh);
	char *copy;

	if (m == NULL || !fresh || (copy = malloc(len + 1)) == NULL)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	jit_take(j, m, copy, len, skip_first);
	return 0;
}

const char *
perf_jit_lookup(void *arg, uint32_t pid, uint64_t addr, const char *dso,
		size_t dlen, size_t *len)
{
	struct perf_jit *j = arg;
	struct jit_map *m = jit_map(j, pid);
	size_t lo = 0, hi;

	(void)dso;
	(void)dlen;
	if (m == NULL || m->jm_n == 0)
		return NULL;
	hi = m->jm_n;
	while (lo < hi) { /* first symbol starting after addr */
		size_t mid = (lo + hi) / 2;

		if (m->jm_syms[mid].js_start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 ||
	    addr - m->jm_syms[lo - 1].js_start >= m->jm_syms[lo - 1].js_size)
		return NULL;
	*len = m->jm_syms[lo - 1].js_len;
	return m->jm_text + m->jm_syms[lo - 1].js_name;
}
