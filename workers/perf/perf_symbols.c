/* Kernel and ELF symbols for the native engine. */
#include "config.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "perf_symbols.h"
#include "procfs.h"

/* ---- kernel symbols ---------------------------------------------------- */

struct perf_ksym {
	uint64_t ks_addr;
	uint32_t ks_name; /* offset in kt_names */
	uint32_t ks_mod;  /* offset of the module name, 0 for the kernel */
};

struct perf_ksyms {
	struct perf_ksym *kt_syms;
	size_t kt_n, kt_cap;
	char *kt_names; /* "\0" then names and module names */
	size_t kt_len, kt_namecap;
	uint32_t kt_lastmod; /* the last module name added, to share it */
};

/* Appends s[0..n) and a NUL to the names; its offset, or 0 when full. */
static uint32_t
ksyms_name(struct perf_ksyms *k, const char *s, size_t n)
{
	uint32_t off = (uint32_t)k->kt_len;

	if (k->kt_len + n + 1 > k->kt_namecap) {
		size_t cap = k->kt_namecap * 2 + n + 1;
		char *p;

		if (cap > PERF_KSYMS_MAX_BYTES ||
		    (p = realloc(k->kt_names, cap)) == NULL)
			return 0;
		k->kt_names = p;
		k->kt_namecap = cap;
	}
	memcpy(k->kt_names + off, s, n);
	k->kt_names[off + n] = '\0';
	k->kt_len += n + 1;
	return off;
}

/* Adds one line "addr type name [module]" if it is a text symbol. */
static int
ksyms_line(struct perf_ksyms *k, char *line)
{
	char *end, *name, *mod;
	uint64_t addr = strtoull(line, &end, 16);
	struct perf_ksym *s;

	if (end[0] != ' ' || strchr("tTwW", end[1]) == NULL || end[2] != ' ')
		return 0;
	name = end + 3;
	name[strcspn(name, "\t\n")] = '\0';
	mod = name + strlen(name) + 1;
	if (k->kt_n == k->kt_cap) {
		size_t cap = k->kt_cap ? k->kt_cap * 2 : 4096;

		if (cap > PERF_KSYMS_MAX ||
		    (s = realloc(k->kt_syms, cap * sizeof(*s))) == NULL)
			return -1;
		k->kt_syms = s;
		k->kt_cap = cap;
	}
	s = &k->kt_syms[k->kt_n];
	s->ks_addr = addr;
	s->ks_mod = 0;
	if (*mod == '[') {
		mod[strcspn(mod, "]")] = '\0';
		mod++;
		if (k->kt_lastmod == 0 ||
		    strcmp(k->kt_names + k->kt_lastmod, mod) != 0)
			k->kt_lastmod = ksyms_name(k, mod, strlen(mod));
		s->ks_mod = k->kt_lastmod;
	}
	if ((s->ks_name = ksyms_name(k, name, strlen(name))) == 0)
		return -1;
	k->kt_n++;
	return addr != 0;
}

static int
ksyms_cmp(const void *a, const void *b)
{
	const struct perf_ksym *x = a, *y = b;

	return x->ks_addr < y->ks_addr ? -1 : x->ks_addr > y->ks_addr;
}

struct perf_ksyms *
perf_ksyms_load(void)
{
	struct perf_ksyms *k = calloc(1, sizeof(*k));
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];
	size_t nonzero = 0;
	int rv = 0;

	if (k == NULL || f == NULL || ksyms_name(k, "", 0) != 0) {
		log_warn("cannot read /proc/kallsyms: kernel frames unnamed");
		goto fail;
	}
	while (rv != -1 && fgets(line, sizeof(line), f) != NULL)
		if ((rv = ksyms_line(k, line)) == 1)
			nonzero++;
	if (nonzero == 0) {
		log_warn("/proc/kallsyms shows no addresses (CAP_SYSLOG?): "
			 "kernel frames unnamed");
		goto fail;
	}
	if (rv == -1)
		log_warn("/proc/kallsyms: the first %zu symbols kept", k->kt_n);
	qsort(k->kt_syms, k->kt_n, sizeof(*k->kt_syms), ksyms_cmp);
	fclose(f);
	return k;
fail:
	if (f != NULL)
		fclose(f);
	perf_ksyms_free(k);
	return NULL;
}

void
perf_ksyms_free(struct perf_ksyms *k)
{
	if (k == NULL)
		return;
	free(k->kt_syms);
	free(k->kt_names);
	free(k);
}

const char *
perf_ksyms_lookup(const struct perf_ksyms *k, uint64_t addr,
		  const char **module)
{
	size_t lo = 0, hi;

	*module = NULL;
	if (k == NULL || k->kt_n == 0 || addr < k->kt_syms[0].ks_addr)
		return NULL;
	hi = k->kt_n;
	while (hi - lo > 1) { /* the last symbol at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (k->kt_syms[mid].ks_addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Past the last symbol of the kernel is not the kernel's. */
	if (lo == k->kt_n - 1 && addr - k->kt_syms[lo].ks_addr > (1u << 20))
		return NULL;
	if (k->kt_syms[lo].ks_mod != 0)
		*module = k->kt_names + k->kt_syms[lo].ks_mod;
	return k->kt_names + k->kt_syms[lo].ks_name;
}

size_t
perf_ksyms_count(const struct perf_ksyms *k)
{
	return k == NULL ? 0 : k->kt_n;
}

/* ---- ELF files --------------------------------------------------------- */

#define SYMS_BASE_BYTES (64u << 10) /* estimated per open file */

/* One function symbol, its name in the file's string table. */
struct perf_sym {
	uint64_t sy_addr, sy_size; /* module addresses */
	const char *sy_name;
	int sy_rank; /* among symbols at the same address: the highest wins */
};

struct perf_symfile {
	uint64_t sf_dev, sf_ino;
	Dwfl *sf_dwfl; /* NULL: the file could not be read */
	Dwfl_Module *sf_mod;
	struct perf_sym *sf_syms; /* sorted by address, built at first use */
	size_t sf_nsyms;
	int sf_indexed;
	size_t sf_bytes;  /* estimated */
	uint64_t sf_used; /* last use, for eviction */
	struct perf_symfile *sf_next;
};

struct perf_symcache {
	struct perf_symfile *sc_files;
	size_t sc_n, sc_bytes;
	uint64_t sc_clock;
};

/* Every file is reported with its fd: there is nothing to find. */
static int
syms_no_elf(Dwfl_Module *mod, void **userdata, const char *modname,
	    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)modname, (void)base;
	*file_name = NULL;
	*elfp = NULL;
	return -1;
}

/* Separate debug files by build-id under /usr/lib/debug/.build-id only:
 * libdwfl's standard search would also load its debuginfod client (and
 * with it an HTTP stack) into a worker that has no network. */
static const Dwfl_Callbacks syms_callbacks = {
    .find_elf = syms_no_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
};

struct perf_symcache *
perf_symcache_new(void)
{
	return calloc(1, sizeof(struct perf_symcache));
}

static void
symfile_free(struct perf_symfile *f)
{
	if (f->sf_dwfl != NULL)
		dwfl_end(f->sf_dwfl);
	free(f->sf_syms);
	free(f);
}

void
perf_symcache_free(struct perf_symcache *c)
{
	if (c == NULL)
		return;
	while (c->sc_files != NULL) {
		struct perf_symfile *f = c->sc_files;

		c->sc_files = f->sf_next;
		symfile_free(f);
	}
	free(c);
}

void
perf_symcache_usage(const struct perf_symcache *c, size_t *files, size_t *bytes)
{
	*files = c->sc_n;
	*bytes = c->sc_bytes;
}

/* Drops the least recently used file. */
static void
symcache_evict(struct perf_symcache *c)
{
	struct perf_symfile **pp, **old = NULL;

	for (pp = &c->sc_files; *pp != NULL; pp = &(*pp)->sf_next)
		if (old == NULL || (*pp)->sf_used < (*old)->sf_used)
			old = pp;
	if (old == NULL)
		return;
	struct perf_symfile *f = *old;

	*old = f->sf_next;
	c->sc_n--;
	c->sc_bytes -= f->sf_bytes;
	symfile_free(f);
}

/* Opens path as pid sees it; when pid is gone, the host's file of that
 * path if it is the same file (dev, ino). */
static int
symfile_open(uint32_t pid, const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;
	int fd;

	if (path[0] != '/')
		return -1;
	if ((fd = procfs_open_in_root((pid_t)pid, NULL, path, 0)) != -1)
		return fd;
	if ((fd = procfs_open_regular(path)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_dev != dev || st.st_ino != ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the file's ELF headers; its symbols are read at the first lookup. */
static void
symfile_load(struct perf_symfile *f, uint32_t pid, const char *path)
{
	int fd = symfile_open(pid, path, f->sf_dev, f->sf_ino);

	f->sf_bytes = SYMS_BASE_BYTES;
	if (fd == -1)
		return;
	/* libdwfl's mmap of the file needs it blocking. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((f->sf_dwfl = dwfl_begin(&syms_callbacks)) == NULL) {
		close(fd);
		return;
	}
	dwfl_report_begin(f->sf_dwfl);
	f->sf_mod = dwfl_report_elf(f->sf_dwfl, path, path, fd, 0, false);
	dwfl_report_end(f->sf_dwfl, NULL, NULL);
	if (f->sf_mod == NULL) {
		close(fd);
		dwfl_end(f->sf_dwfl);
		f->sf_dwfl = NULL;
		return;
	}
}

/* Returns the cached file (dev, ino), loading it; NULL without memory. */
static struct perf_symfile *
symcache_file(struct perf_symcache *c, uint32_t pid, const char *path,
	      uint64_t dev, uint64_t ino)
{
	struct perf_symfile *f;

	for (f = c->sc_files; f != NULL; f = f->sf_next)
		if (f->sf_dev == dev && f->sf_ino == ino)
			break;
	if (f == NULL) {
		while (c->sc_n > 0 && (c->sc_n >= PERF_SYMS_MAX_FILES ||
				       c->sc_bytes >= PERF_SYMS_MAX_BYTES))
			symcache_evict(c);
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return NULL;
		f->sf_dev = dev;
		f->sf_ino = ino;
		symfile_load(f, pid, path);
		f->sf_next = c->sc_files;
		c->sc_files = f;
		c->sc_n++;
		c->sc_bytes += f->sf_bytes;
	}
	f->sf_used = ++c->sc_clock;
	return f;
}

/* Turns a file offset into the module's address through the PT_LOAD
 * segment holding it; 0 when none does. */
static int
symfile_addr(struct perf_symfile *f, uint64_t off, Dwarf_Addr *addr)
{
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(f->sf_mod, &bias);
	size_t n;

	if (elf == NULL || elf_getphdrnum(elf, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD || off < ph.p_offset ||
		    off >= ph.p_offset + ph.p_filesz)
			continue;
		*addr = off - ph.p_offset + ph.p_vaddr + bias;
		return 1;
	}
	return 0;
}

static int
sym_cmp(const void *a, const void *b)
{
	const struct perf_sym *x = a, *y = b;

	if (x->sy_addr != y->sy_addr)
		return x->sy_addr < y->sy_addr ? -1 : 1;
	return (x->sy_rank > y->sy_rank) - (x->sy_rank < y->sy_rank);
}

/* Ranks a symbol among others at its address, as a name for it: a sized
 * global function first, a local one last. */
static int
sym_rank(const GElf_Sym *s)
{
	int bind = GELF_ST_BIND(s->st_info);

	return (s->st_size != 0) * 4 + (bind == STB_GLOBAL ? 2
					: bind == STB_WEAK ? 1
							   : 0);
}

/* Reads the file's function symbols (.symtab, else .dynsym; libdwfl takes
 * them from a separate debug file when it has them) into one sorted array:
 * libdwfl's own lookup walks every symbol on each call. */
static void
symfile_index(struct perf_symfile *f)
{
	int n = dwfl_module_getsymtab(f->sf_mod);
	size_t k = 0;

	f->sf_indexed = 1;
	if (n <= 0 ||
	    (f->sf_syms = calloc((size_t)n, sizeof(*f->sf_syms))) == NULL)
		return;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(
		    f->sf_mod, i, &sym, &addr, NULL, NULL, NULL);

		if (name == NULL || name[0] == '\0' ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		     GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC) ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		f->sf_syms[k++] =
		    (struct perf_sym){addr, sym.st_size, name, sym_rank(&sym)};
	}
	f->sf_nsyms = k;
	qsort(f->sf_syms, k, sizeof(*f->sf_syms), sym_cmp);
	log_debug("symbols: %s: %d in its table, %zu functions; RSS %lld kB",
		  dwfl_module_info(f->sf_mod, NULL, NULL, NULL, NULL, NULL,
				   NULL, NULL),
		  n, k, (long long)(procfs_rss(getpid()) >> 10));
	f->sf_bytes += k * sizeof(*f->sf_syms);
}

/* Returns the symbol containing addr: the last one starting at or before
 * it, if it has no size or addr is inside it. */
static const char *
symfile_find(const struct perf_symfile *f, uint64_t addr)
{
	size_t lo = 0, hi = f->sf_nsyms;
	const struct perf_sym *s;

	if (hi == 0 || addr < f->sf_syms[0].sy_addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->sf_syms[mid].sy_addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	s = &f->sf_syms[lo];
	if (s->sy_size != 0 && addr - s->sy_addr >= s->sy_size)
		return NULL;
	return s->sy_name;
}

const char *
perf_symcache_lookup(struct perf_symcache *c, uint32_t pid, const char *path,
		     uint64_t dev, uint64_t ino, uint64_t off)
{
	struct perf_symfile *f = symcache_file(c, pid, path, dev, ino);
	Dwarf_Addr addr;

	if (f == NULL || f->sf_mod == NULL || !symfile_addr(f, off, &addr))
		return NULL;
	if (!f->sf_indexed) {
		c->sc_bytes -= f->sf_bytes;
		symfile_index(f);
		c->sc_bytes += f->sf_bytes;
	}
	return symfile_find(f, addr);
}
