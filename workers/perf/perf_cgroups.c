/* Choosing the cgroups perf record profiles (--perf-use-cgroups). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "perf_cgroups.h"

#define CG_DOCKER_ID  64 /* hex digits of a docker container id */
#define CG_READ_MAX   4096
#define CG_POPULATED  0x1u /* the cgroup or one below holds processes */
#define CG_HAS_DOCKER 0x2u /* it is, or holds, a docker container */
#define CG_IN_DOCKER  0x4u /* it is below a docker container */
#define CG_IS_DOCKER  0x8u

/* --- the hierarchies --------------------------------------------------- */

/* Undoes the octal escapes (\040 for a space) of a mounts file field. */
static void
cg_unescape(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Whether the comma-separated mount options opts hold the word w. */
static int
cg_has_opt(const char *opts, const char *w)
{
	size_t len = strlen(w);

	for (const char *p = opts; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, w, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

static void
cg_set_root(char *dst, const char *mnt)
{
	if (dst[0] == '\0')
		snprintf(dst, PATH_MAX, "%s", mnt);
}

/* Takes one line of the mounts file into r; v2 gets the first cgroup2. */
static void
cg_mount_line(char *line, struct perf_cg_roots *r, char *v2)
{
	char *save = NULL, *mnt, *type, *opts;

	if (strtok_r(line, " \n", &save) == NULL ||
	    (mnt = strtok_r(NULL, " \n", &save)) == NULL ||
	    (type = strtok_r(NULL, " \n", &save)) == NULL ||
	    (opts = strtok_r(NULL, " \n", &save)) == NULL)
		return;
	cg_unescape(mnt);
	if (mnt[0] != '/' || strlen(mnt) >= PATH_MAX)
		return;
	if (strcmp(type, "cgroup2") == 0) {
		cg_set_root(v2, mnt);
		return;
	}
	if (strcmp(type, "cgroup") != 0)
		return;
	if (cg_has_opt(opts, "perf_event"))
		cg_set_root(r->cr_perf, mnt);
	if (cg_has_opt(opts, "cpuacct"))
		cg_set_root(r->cr_cpuacct, mnt);
	if (cg_has_opt(opts, "memory"))
		cg_set_root(r->cr_memory, mnt);
}

int
perf_cg_roots(const char *mounts, struct perf_cg_roots *r)
{
	char line[PERF_CG_LINE_MAX], v2[PATH_MAX] = "";
	int whole = 1;
	FILE *f;

	memset(r, 0, sizeof(*r));
	if ((f = fopen(mounts, "re")) == NULL) {
		log_error("cannot read %s: %s", mounts, strerror(errno));
		return -1;
	}
	for (unsigned i = 0;
	     i < PERF_CG_MOUNTS_MAX && fgets(line, sizeof(line), f) != NULL;
	     i++) {
		/* The tail of an over-long line is not a line of its own. */
		int was_whole = whole;

		whole = strchr(line, '\n') != NULL;
		if (was_whole && whole)
			cg_mount_line(line, r, v2);
	}
	fclose(f);
	if (r->cr_perf[0] == '\0' && v2[0] != '\0') {
		snprintf(r->cr_perf, sizeof(r->cr_perf), "%s", v2);
		r->cr_perf_v2 = 1;
	}
	return r->cr_perf[0] != '\0' ? 0 : -1;
}

/* --- counters ---------------------------------------------------------- */

enum cg_root { CG_ROOT_PERF_V2, CG_ROOT_CPUACCT, CG_ROOT_MEMORY };

struct cg_counter {
	enum cg_root ct_root;
	const char *ct_file;
	const char *ct_key; /* "key value" line, or NULL: the whole file */
	uint64_t ct_scale;  /* to ns or bytes */
};

/* Where CPU time and memory are read, first found first used. */
static const struct cg_counter cg_cpu_counters[] = {
    {CG_ROOT_PERF_V2, "cpu.stat", "usage_usec", 1000},
    {CG_ROOT_CPUACCT, "cpuacct.usage", NULL, 1},
};
static const struct cg_counter cg_mem_counters[] = {
    {CG_ROOT_PERF_V2, "memory.current", NULL, 1},
    {CG_ROOT_MEMORY, "memory.usage_in_bytes", NULL, 1},
};

/* Reads up to size - 1 bytes of root/name/file; -1 if it is missing. */
static ssize_t
cg_read(const char *root, const char *name, const char *file, char *buf,
	size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s/%s", root, name, file) >=
		(int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	while ((n = read(fd, buf, size - 1)) == -1 && errno == EINTR)
		;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Parses a decimal number ending at a newline or the end; 0 or -1. */
static int
cg_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -1;
		v = v * 10 + d;
	}
	if (*s != '\0' && *s != '\n')
		return -1;
	*out = v;
	return 0;
}

/* Finds "key value" on a line of s; 0 or -1. */
static int
cg_keyed(const char *s, const char *key, uint64_t *out)
{
	size_t len = strlen(key);

	for (const char *p = s; p != NULL && *p != '\0';
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, len) == 0 && p[len] == ' ')
			return cg_number(p + len + 1, out);
	return -1;
}

static const char *
cg_root_of(const struct perf_cg_roots *r, enum cg_root which)
{
	switch (which) {
	case CG_ROOT_PERF_V2:
		return r->cr_perf_v2 ? r->cr_perf : "";
	case CG_ROOT_CPUACCT:
		return r->cr_cpuacct;
	case CG_ROOT_MEMORY:
		return r->cr_memory;
	}
	return "";
}

/* The first readable counter of the table, scaled; 0 when none is. */
static uint64_t
cg_counter(const struct perf_cg_roots *r, const char *name,
	   const struct cg_counter *tab, size_t n)
{
	char buf[CG_READ_MAX];
	uint64_t v;

	for (size_t i = 0; i < n; i++) {
		const char *root = cg_root_of(r, tab[i].ct_root);

		if (root[0] == '\0' ||
		    cg_read(root, name, tab[i].ct_file, buf, sizeof(buf)) <= 0)
			continue;
		if ((tab[i].ct_key ? cg_keyed(buf, tab[i].ct_key, &v)
				   : cg_number(buf, &v)) == -1)
			continue;
		return v > UINT64_MAX / tab[i].ct_scale ? UINT64_MAX
							: v * tab[i].ct_scale;
	}
	return 0;
}

/* --- the scan ---------------------------------------------------------- */

struct cg_ent {
	char *ce_name;
	uint64_t ce_cpu_ns;
	uint64_t ce_mem;
	unsigned ce_flags;
	double ce_score;
};

struct cg_scan {
	const struct perf_cg_roots *cs_roots;
	struct cg_ent *cs_ents;
	size_t cs_n;
	size_t cs_cap;
	unsigned cs_seen;
	int cs_full; /* PERF_CG_SCAN_MAX reached: the scan stopped */
	int cs_deep; /* a subtree below PERF_CG_DEPTH_MAX was skipped */
	int cs_nomem;
};

static int
cg_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
perf_cg_is_docker(const char *name)
{
	const char *base = strrchr(name, '/');
	size_t blen, dlen = sizeof("docker") - 1;

	base = base ? base + 1 : name;
	blen = strlen(base);
	/* systemd driver: docker-<id>.scope */
	if (blen == dlen + 1 + CG_DOCKER_ID + 6 &&
	    strncmp(base, "docker-", dlen + 1) == 0 &&
	    strcmp(base + dlen + 1 + CG_DOCKER_ID, ".scope") == 0)
		return cg_is_hex(base + dlen + 1, CG_DOCKER_ID);
	/* cgroupfs driver: docker/<id> */
	return blen == CG_DOCKER_ID && cg_is_hex(base, CG_DOCKER_ID) &&
	       base - name >= (ptrdiff_t)dlen + 1 &&
	       strncmp(base - dlen - 1, "docker/", dlen + 1) == 0 &&
	       (base - name == (ptrdiff_t)dlen + 1 || base[-dlen - 2] == '/');
}

/* Printable, no comma (perf splits -G on commas), not "." or "..". */
static int
cg_name_ok(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == ',')
			return 0;
	return 1;
}

/* Whether name holds processes itself (its cgroup.procs is not empty). */
static int
cg_holds_procs(const struct cg_scan *s, const char *name)
{
	char buf[16];

	return cg_read(s->cs_roots->cr_perf, name, "cgroup.procs", buf,
		       sizeof(buf)) > 0;
}

static void
cg_add(struct cg_scan *s, const char *name, unsigned flags)
{
	struct cg_ent *e;

	if (s->cs_n == s->cs_cap) {
		size_t cap = s->cs_cap ? s->cs_cap * 2 : 64;

		if ((e = realloc(s->cs_ents, cap * sizeof(*e))) == NULL) {
			s->cs_nomem = 1;
			return;
		}
		s->cs_ents = e;
		s->cs_cap = cap;
	}
	e = &s->cs_ents[s->cs_n];
	if ((e->ce_name = strdup(name)) == NULL) {
		s->cs_nomem = 1;
		return;
	}
	e->ce_flags = flags;
	e->ce_cpu_ns =
	    cg_counter(s->cs_roots, name, cg_cpu_counters,
		       sizeof(cg_cpu_counters) / sizeof(cg_cpu_counters[0]));
	e->ce_mem =
	    cg_counter(s->cs_roots, name, cg_mem_counters,
		       sizeof(cg_mem_counters) / sizeof(cg_mem_counters[0]));
	e->ce_score = (double)e->ce_cpu_ns / 1e9 * 10 +
		      (double)e->ce_mem / (1024.0 * 1024.0);
	s->cs_n++;
}

static int
cg_is_dir(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

static unsigned cg_visit(struct cg_scan *s, const char *name, unsigned depth,
			 unsigned inherited);

/* Visits the cgroups below name; returns their CG_POPULATED and
 * CG_HAS_DOCKER bits. */
static unsigned
cg_walk(struct cg_scan *s, const char *name, unsigned depth, unsigned inherited)
{
	char path[PATH_MAX], child[PERF_CG_NAME_MAX];
	struct dirent *de;
	unsigned below = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/%s", s->cs_roots->cr_perf, name) >=
		(int)sizeof(path) ||
	    (d = opendir(path)) == NULL)
		return 0;
	while (!s->cs_full && !s->cs_nomem && (de = readdir(d)) != NULL) {
		if (!cg_is_dir(d, de) || !cg_name_ok(de->d_name))
			continue;
		if (depth >= PERF_CG_DEPTH_MAX) {
			s->cs_deep = 1;
			break;
		}
		if (snprintf(child, sizeof(child), "%s%s%s", name,
			     name[0] ? "/" : "",
			     de->d_name) >= (int)sizeof(child)) {
			log_debug("cgroup name too long under %s", name);
			continue;
		}
		if (s->cs_seen >= PERF_CG_SCAN_MAX) {
			s->cs_full = 1;
			break;
		}
		s->cs_seen++;
		below |= cg_visit(s, child, depth + 1, inherited);
	}
	closedir(d);
	return below;
}

/* Visits cgroup name, then those below it; keeps it if it holds
 * processes (a container: if anything below it does). */
static unsigned
cg_visit(struct cg_scan *s, const char *name, unsigned depth,
	 unsigned inherited)
{
	unsigned self = inherited, below = 0;

	if (perf_cg_is_docker(name))
		self |= CG_IS_DOCKER | CG_HAS_DOCKER;
	if (cg_holds_procs(s, name))
		self |= CG_POPULATED;
	below = cg_walk(s, name, depth,
			inherited | (self & CG_IS_DOCKER ? CG_IN_DOCKER : 0));
	if ((self & CG_POPULATED) ||
	    ((self & CG_IS_DOCKER) && (below & CG_POPULATED)))
		cg_add(s, name, self | (below & CG_HAS_DOCKER));
	return ((self | below) & (CG_POPULATED | CG_HAS_DOCKER));
}

/* --- the choice -------------------------------------------------------- */

static int
cg_by_score(const void *a, const void *b)
{
	const struct cg_ent *x = *(struct cg_ent *const *)a;
	const struct cg_ent *y = *(struct cg_ent *const *)b;

	if (x->ce_score != y->ce_score)
		return x->ce_score < y->ce_score ? 1 : -1;
	return strcmp(x->ce_name, y->ce_name);
}

static int
cg_by_cpu(const void *a, const void *b)
{
	const struct cg_ent *x = *(struct cg_ent *const *)a;
	const struct cg_ent *y = *(struct cg_ent *const *)b;

	if (x->ce_cpu_ns != y->ce_cpu_ns)
		return x->ce_cpu_ns < y->ce_cpu_ns ? 1 : -1;
	if (x->ce_mem != y->ce_mem)
		return x->ce_mem < y->ce_mem ? 1 : -1;
	return strcmp(x->ce_name, y->ce_name);
}

/* Whether a and b are the same cgroup or one is below the other: perf
 * would then count a process of the inner one twice. */
static int
cg_nested(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t l = la < lb ? la : lb;

	if (strncmp(a, b, l) != 0)
		return 0;
	return la == lb || (la < lb ? b[la] : a[lb]) == '/';
}

/* Appends e to the choice unless it nests with one already there or the
 * list is full; 1 if taken. */
static int
cg_take(struct perf_cg_choice *c, struct cg_ent **taken, const struct cg_ent *e)
{
	size_t used = strlen(c->cc_arg), len = strlen(e->ce_name);

	for (unsigned i = 0; i < c->cc_n; i++)
		if (cg_nested(taken[i]->ce_name, e->ce_name))
			return 0;
	if (used + (used ? 1 : 0) + len >= sizeof(c->cc_arg)) {
		c->cc_truncated = 1;
		return 0;
	}
	snprintf(c->cc_arg + used, sizeof(c->cc_arg) - used, "%s%s",
		 used ? "," : "", e->ce_name);
	taken[c->cc_n++] = (struct cg_ent *)e;
	if (e->ce_flags & CG_IS_DOCKER)
		c->cc_docker++;
	return 1;
}

static void
cg_pick(struct cg_scan *s, struct cg_ent **order, unsigned max,
	unsigned max_docker, struct perf_cg_choice *c)
{
	struct cg_ent **taken = order + s->cs_n;
	unsigned want;

	if (max_docker > 0) {
		qsort(order, s->cs_n, sizeof(*order), cg_by_cpu);
		for (size_t i = 0; i < s->cs_n && c->cc_n < max_docker; i++)
			if (order[i]->ce_flags & CG_IS_DOCKER)
				cg_take(c, taken, order[i]);
	}
	want = c->cc_n + (max > c->cc_n ? max - c->cc_n : 0);
	qsort(order, s->cs_n, sizeof(*order), cg_by_score);
	for (size_t i = 0; i < s->cs_n && c->cc_n < want; i++) {
		/* With --perf-max-docker-containers, containers are profiled
		 * only as chosen above, never through a parent. */
		if (max_docker > 0 &&
		    (order[i]->ce_flags & (CG_HAS_DOCKER | CG_IN_DOCKER)))
			continue;
		cg_take(c, taken, order[i]);
	}
}

int
perf_cg_choose(const struct perf_cg_roots *r, unsigned max, unsigned max_docker,
	       struct perf_cg_choice *c)
{
	struct cg_scan s = {.cs_roots = r};
	struct cg_ent **order = NULL;
	int rv = -1;

	memset(c, 0, sizeof(*c));
	cg_walk(&s, "", 0, 0);
	c->cc_seen = s.cs_seen;
	c->cc_candidates = (unsigned)s.cs_n;
	c->cc_truncated = s.cs_full || s.cs_deep;
	if (s.cs_nomem ||
	    (s.cs_n > 0 &&
	     (order = calloc(s.cs_n * 2, sizeof(*order))) == NULL)) {
		log_error("out of memory ranking cgroups");
		goto out;
	}
	for (size_t i = 0; i < s.cs_n; i++)
		order[i] = &s.cs_ents[i];
	if (s.cs_n > 0)
		cg_pick(&s, order, max, max_docker, c);
	rv = (int)c->cc_n;
out:
	free(order);
	for (size_t i = 0; i < s.cs_n; i++)
		free(s.cs_ents[i].ce_name);
	free(s.cs_ents);
	return rv;
}
