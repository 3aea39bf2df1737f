/* Finding CPython's runtime in a process, and its threads. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appid.h"
#include "procfs.h"
#include "py_elf.h"
#include "py_proc.h"
#include "util.h"

#define SCAN_CHUNK	 65536
#define TASKS_REFRESH_MS 1000

/* One mapped object that may hold the runtime. */
struct pyobj {
	char po_path[512]; /* as in /proc/PID/maps */
	uint64_t po_base;  /* start of its mapping at file offset 0 */
	int po_found;
};

static uint32_t pyproc_next_gen;

/* Parses "python3.NN" out of a file name; 0 when absent. */
static uint32_t
pyproc_name_version(const char *path)
{
	const char *base = strrchr(path, '/'), *s;
	unsigned long minor;
	char *end;

	base = base ? base + 1 : path;
	if ((s = strstr(base, "python3.")) == NULL)
		return 0;
	minor = strtoul(s + 8, &end, 10);
	if (end == s + 8 || minor > 99)
		return 0;
	return PYVER(3, minor);
}

static int
pyproc_is_libpython(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "libpython3.", 11) == 0 &&
	       strstr(base, ".so") != NULL;
}

/* Reads the exe's path; " (deleted)" is kept as maps shows it. */
static int
pyproc_exe(pid_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	if ((n = readlink(link, buf, len - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Parses one maps line into its start, file offset and path. */
static int
pyproc_map_line(char *line, uint64_t *start, uint64_t *off, char **path)
{
	unsigned long long s, e, o;
	int pos = 0;
	char *nl;

	if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &s, &e, &o, &pos) <
		3 ||
	    pos == 0)
		return -1;
	if ((nl = strchr(line + pos, '\n')) != NULL)
		*nl = '\0';
	*start = s;
	*off = o;
	*path = line + pos;
	return 0;
}

static void
pyproc_note(struct pyobj *o, const char *path, uint64_t start, uint64_t off)
{
	if (o->po_found || off != 0)
		return;
	snprintf(o->po_path, sizeof(o->po_path), "%s", path);
	o->po_base = start;
	o->po_found = 1;
}

/* Finds libpython and the executable in the maps of pid. */
static int
pyproc_maps(pid_t pid, struct pyobj *lib, struct pyobj *exe)
{
	char path[64], line[1024], exepath[512];
	uint64_t start, off;
	size_t n = 0;
	char *mpath;
	FILE *f;

	memset(lib, 0, sizeof(*lib));
	memset(exe, 0, sizeof(*exe));
	if (pyproc_exe(pid, exepath, sizeof(exepath)) == -1)
		exepath[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (n++ < PYPROC_MAX_MAPS && fgets(line, sizeof(line), f) != NULL) {
		if (pyproc_map_line(line, &start, &off, &mpath) == -1 ||
		    mpath[0] != '/')
			continue;
		if (pyproc_is_libpython(mpath))
			pyproc_note(lib, mpath, start, off);
		else if (exepath[0] && strcmp(mpath, exepath) == 0)
			pyproc_note(exe, mpath, start, off);
	}
	fclose(f);
	return 0;
}

int
pyproc_is_python(pid_t pid)
{
	struct pyobj lib, exe;

	if (pyproc_maps(pid, &lib, &exe) == -1)
		return 0;
	return lib.po_found ||
	       (exe.po_found && pyproc_name_version(exe.po_path) != 0);
}

int
pyproc_cpu(pid_t pid, uint64_t *cpu)
{
	unsigned long long ut = 0, st = 0;
	char buf[1024], *p;

	if (procfs_read_pid(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* After ") ": state(3) ... utime(14) stime(15). */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return -1;
	*cpu = ut + st;
	return 0;
}

/* The last number of the NSpid line of a status file; -1 if absent. */
static pid_t
pyproc_nspid(const char *status_path)
{
	char buf[4096], *line, *tok, *save = NULL;
	long v = -1;

	if (procfs_read(status_path, buf, sizeof(buf)) <= 0 ||
	    (line = strstr(buf, "\nNSpid:")) == NULL)
		return -1;
	line += 7;
	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save))
		v = strtol(tok, NULL, 10);
	return v > 0 ? (pid_t)v : -1;
}

int
pyproc_valid_runtime(struct pyproc *p, uint64_t rt)
{
	const struct py_layout *l = &p->pp_layout;
	uint64_t interp, ts, back;

	if (pymem_ptr(&p->pp_mem, rt + l->pl_rt_interp_head, &interp) == -1 ||
	    interp == 0 || (interp & 7) != 0 ||
	    pymem_ptr(&p->pp_mem, interp + l->pl_is_threads_head, &ts) == -1 ||
	    ts == 0 || (ts & 7) != 0 ||
	    pymem_ptr(&p->pp_mem, ts + l->pl_ts_interp, &back) == -1)
		return 0;
	return back == interp;
}

/* The layout of a runtime at rt: _Py_DebugOffsets, Py_Version, or the
 * version in the file name. */
static int
pyproc_layout(struct pyproc *p, uint64_t rt, uint64_t verp, uint32_t namev,
	      char *err, size_t errlen)
{
	const struct py_layout *t;
	uint8_t dbg[PY_DEBUG_MAX];
	uint64_t hex;
	uint32_t v = namev;
	char name[16];

	if (rt != 0 && pymem_read(&p->pp_mem, rt, dbg, sizeof(dbg)) == 0 &&
	    memcmp(dbg, PY_DEBUG_COOKIE, 8) == 0) {
		if (pyver_from_debug(dbg, sizeof(dbg), &p->pp_layout) == 0)
			return 0;
		v = pyver_from_hex(pymem_u64(dbg, 8));
	} else if (verp != 0 && pymem_ptr(&p->pp_mem, verp, &hex) == 0 &&
		   (hex >> 24) == 3) {
		v = pyver_from_hex(hex);
	}
	if ((t = pyver_table(v)) != NULL) {
		p->pp_layout = *t;
		return 0;
	}
	if (v == 0)
		snprintf(err, errlen, "unknown Python version");
	else {
		pyver_name(v, name, sizeof(name));
		snprintf(err, errlen, "unsupported Python version %s", name);
	}
	return -1;
}

/* Scans one data range of the object for the runtime; 1 found. */
static int
pyproc_scan_range(struct pyproc *p, uint64_t lo, uint64_t size, size_t *budget,
		  size_t *probes)
{
	static uint64_t chunk[SCAN_CHUNK / 8];
	const struct py_layout *l = &p->pp_layout;

	for (uint64_t off = 0; off<size && * budget> 0; off += SCAN_CHUNK) {
		size_t len =
		    size - off < SCAN_CHUNK ? (size_t)(size - off) : SCAN_CHUNK;

		len &= ~(size_t)7;
		if (len == 0 || pymem_read(&p->pp_mem, lo + off, chunk, len))
			continue;
		*budget -= len < *budget ? len : *budget;
		for (size_t i = 0; i < len / 8; i++) {
			uint64_t w = chunk[i], at = lo + off + i * 8;

			if (w < 0x10000 || (w & 7) || w >= (1ULL << 47) ||
			    at < l->pl_rt_interp_head)
				continue;
			if ((*probes)++ >= PYPROC_SCAN_PROBES)
				return 0;
			if (pyproc_valid_runtime(p,
						 at - l->pl_rt_interp_head)) {
				p->pp_runtime = at - l->pl_rt_interp_head;
				return 1;
			}
		}
	}
	return 0;
}

/* Stripped binaries: a validated scan of .PyRuntime, .data and .bss. */
static int
pyproc_scan(struct pyproc *p, const struct pyelf *e, uint64_t base)
{
	const struct pyelf_range *r[] = {&e->pe_pyruntime, &e->pe_data,
					 &e->pe_bss};
	size_t budget = PYPROC_SCAN_BYTES, probes = 0;

	for (size_t i = 0; i < 3; i++)
		if (r[i]->er_addr != 0 &&
		    pyproc_scan_range(p, base + r[i]->er_addr - e->pe_load_bias,
				      r[i]->er_size, &budget, &probes))
			return 0;
	return -1;
}

static uint64_t
pyproc_addr(const struct pyelf *e, const struct pyobj *o, int sym)
{
	if (e->pe_sym[sym] == 0)
		return 0;
	return o->po_base + e->pe_sym[sym] - e->pe_load_bias;
}

/* Opens a mapped object as the process sees it: the exe through its
 * /proc link, any other through /proc/PID/root without leaving that root;
 * only a regular file, never blocking (a FIFO planted in its place). */
static int
pyproc_open_obj(const struct pyproc *p, const struct pyobj *o, int is_exe)
{
	char path[64];

	if (!is_exe)
		return procfs_open_in_root(p->pp_pid, NULL, o->po_path, 0);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pp_pid);
	return procfs_open_regular(path);
}

/* Reads the ELF facts of one mapped object; 0, or -1 with err set. */
static int
pyproc_read_elf(const struct pyproc *p, const struct pyobj *o, int is_exe,
		struct pyelf *e, char *err, size_t errlen)
{
	int fd, rv;

	if ((fd = pyproc_open_obj(p, o, is_exe)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", o->po_path,
			 errno == EINVAL ? "not a regular file"
					 : strerror(errno));
		return -1;
	}
	if ((rv = pyelf_read(fd, e)) == -1)
		snprintf(err, errlen, "cannot read %s: %s", o->po_path,
			 strerror(errno));
	close(fd);
	return rv;
}

/* Tries one mapped object; 0 found, -1 with err set. */
static int
pyproc_try(struct pyproc *p, const struct pyobj *o, int is_exe, char *err,
	   size_t errlen)
{
	uint32_t namev = pyproc_name_version(o->po_path);
	struct pyelf e;
	uint64_t rt;

	if (pyproc_read_elf(p, o, is_exe, &e, err, errlen) == -1)
		return -1;
	rt = pyproc_addr(&e, o, PYSYM_RUNTIME);
	p->pp_code_type = pyproc_addr(&e, o, PYSYM_CODE_TYPE);
	p->pp_str_type = pyproc_addr(&e, o, PYSYM_STR_TYPE);
	if (pyproc_layout(p, rt, pyproc_addr(&e, o, PYSYM_VERSION), namev, err,
			  errlen) == -1)
		return -1;
	if (rt != 0)
		p->pp_runtime = rt;
	else if (pyproc_scan(p, &e, o->po_base) == -1) {
		snprintf(err, errlen, "no Python runtime found in %s",
			 o->po_path);
		return -1;
	}
	return 0;
}

static void
pyproc_identity(struct pyproc *p)
{
	char status[64];

	snprintf(status, sizeof(status), "/proc/%d/status", (int)p->pp_pid);
	if ((p->pp_nspid = pyproc_nspid(status)) == -1)
		p->pp_nspid = p->pp_pid;
	if (procfs_comm(p->pp_pid, p->pp_comm, sizeof(p->pp_comm)) == -1)
		snprintf(p->pp_comm, sizeof(p->pp_comm), "python");
	if (appid_container(p->pp_pid, p->pp_container,
			    sizeof(p->pp_container)) == -1)
		p->pp_container[0] = '\0';
	if (appid_of_pid(p->pp_pid, p->pp_appid, sizeof(p->pp_appid)) == -1)
		p->pp_appid[0] = '\0';
}

int
pyproc_attach(struct pyproc *p, pid_t pid, char *err, size_t errlen)
{
	struct pyobj lib, exe;
	char exerr[256];
	int rv = -1;

	memset(p, 0, sizeof(*p));
	p->pp_pid = pid;
	p->pp_gen = ++pyproc_next_gen;
	p->pp_tid_off = -1;
	pymem_init_pid(&p->pp_mem, &p->pp_pid);
	if ((p->pp_start = procfs_start_time(pid)) == 0 ||
	    pyproc_maps(pid, &lib, &exe) == -1) {
		snprintf(err, errlen, "no such process");
		return -1;
	}
	pyproc_identity(p);
	if (lib.po_found)
		rv = pyproc_try(p, &lib, 0, err, errlen);
	/* The exe's error is told only when there is no libpython's. */
	if (rv == -1 && exe.po_found &&
	    (lib.po_found || pyproc_name_version(exe.po_path) != 0))
		rv = pyproc_try(p, &exe, 1, lib.po_found ? exerr : err,
				lib.po_found ? sizeof(exerr) : errlen);
	else if (rv == -1 && !lib.po_found)
		snprintf(err, errlen, "not a Python process");
	if (rv == 0 && !pyproc_valid_runtime(p, p->pp_runtime)) {
		snprintf(err, errlen, "cannot read the Python runtime: %s",
			 errno == EPERM || errno == ESRCH ? strerror(errno)
							  : "no thread state");
		rv = -1;
	}
	return rv;
}

void
pyproc_detach(struct pyproc *p)
{
	free(p->pp_tasks);
	p->pp_tasks = NULL;
	p->pp_ntasks = 0;
}

int
pyproc_alive(const struct pyproc *p)
{
	uint64_t start = procfs_start_time(p->pp_pid);

	return start != 0 && start == p->pp_start;
}

/* Rereads the ns TID -> host TID map of a process in a container. */
static void
pyproc_read_tasks(struct pyproc *p)
{
	char dir[64], status[96];
	struct dirent *d;
	DIR *dp;

	p->pp_ntasks = 0;
	p->pp_tasks_ms = now_ms();
	if (p->pp_tasks == NULL &&
	    (p->pp_tasks = calloc(PYPROC_MAX_TASKS, sizeof(*p->pp_tasks))) ==
		NULL)
		return;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)p->pp_pid);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL && p->pp_ntasks < PYPROC_MAX_TASKS) {
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10), ns;

		if (tid <= 0)
			continue;
		snprintf(status, sizeof(status), "%s/%d/status", dir, (int)tid);
		if ((ns = pyproc_nspid(status)) > 0)
			p->pp_tasks[p->pp_ntasks++] =
			    (struct pytask){.pt_nstid = ns, .pt_tid = tid};
	}
	closedir(dp);
}

pid_t
pyproc_host_tid(struct pyproc *p, pid_t nstid)
{
	if (p->pp_nspid == p->pp_pid)
		return nstid; /* same namespace */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->pp_ntasks; i++)
			if (p->pp_tasks[i].pt_nstid == nstid)
				return p->pp_tasks[i].pt_tid;
		if (pass == 0 && now_ms() - p->pp_tasks_ms < TASKS_REFRESH_MS &&
		    p->pp_tasks != NULL)
			return -1;
		if (pass == 0)
			pyproc_read_tasks(p);
	}
	return -1;
}

int
pyproc_tid_exists(const struct pyproc *p, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)p->pp_pid,
		 (int)tid);
	return access(path, F_OK) == 0;
}

int
pyproc_running(const struct pyproc *p, pid_t tid)
{
	char path[64], buf[512], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)p->pp_pid,
		 (int)tid);
	if (procfs_read(path, buf, sizeof(buf)) <= 0 ||
	    (s = strrchr(buf, ')')) == NULL)
		return 0;
	while (*++s == ' ')
		;
	return *s == 'R';
}
