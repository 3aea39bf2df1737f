/* Kernel and ELF symbols for the native engine. */
#include "config.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

#include "log.h"
#include "perf_symbols.h"
#include "procfs.h"
#include "stacks.h"

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
	if (k->kt_n > 0)
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

/* ---- ELF files --------------------------------------------------------- */

/*
 * A file's function symbols are read once with libelf (ELF_C_READ: the
 * sections read are freed at elf_end, nothing of the file stays mapped)
 * into one sorted array of 16-byte entries; the names stay in the file and
 * are read with pread(2) for the addresses looked up, once per window
 * each. The table is the file's .symtab, else the .symtab of its separate
 * debug file (/usr/lib/debug/.build-id/xx/yyyy.debug), else its .dynsym.
 */

#define SYMS_BASE_BYTES (4u << 10) /* estimated per file beyond its index */
#define SYMS_MAX_LOADS	16	   /* PT_LOAD segments kept per file */
#define SYMS_DEBUG_DIR	"/usr/lib/debug/.build-id/"

struct perf_sym {
	uint64_t sy_addr;
	uint32_t sy_size; /* 0: up to the next symbol */
	uint32_t sy_name; /* offset in the string table */
};

struct perf_load {
	uint64_t pl_off, pl_filesz, pl_vaddr;
};

struct perf_symfile {
	uint64_t sf_dev, sf_ino;
	int sf_fd;	    /* the file holding the table, -1: no symbols */
	uint64_t sf_stroff; /* its string table's offset and size */
	uint64_t sf_strsize;
	struct perf_load sf_loads[SYMS_MAX_LOADS];
	size_t sf_nloads;
	struct perf_sym *sf_syms; /* sorted by address */
	size_t sf_nsyms;
	size_t sf_bytes;    /* estimated */
	uint64_t sf_used;   /* last use, for eviction */
	uint64_t sf_window; /* the window it was last looked up in */
	int64_t sf_seen_ms; /* the end of that window */
	struct perf_symfile *sf_next;
	char sf_name[1024];
};

struct perf_symcache {
	struct perf_symfile *sc_files;
	size_t sc_n, sc_bytes;
	uint64_t sc_clock;
	uint64_t sc_window; /* windows ended */
};

struct perf_symcache *
perf_symcache_new(void)
{
	static int init;

	if (!init && elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	init = 1;
	return calloc(1, sizeof(struct perf_symcache));
}

static void
symfile_free(struct perf_symfile *f)
{
	if (f->sf_fd != -1)
		close(f->sf_fd);
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

/* Unlinks and frees *pp. */
static void
symcache_drop(struct perf_symcache *c, struct perf_symfile **pp)
{
	struct perf_symfile *f = *pp;

	*pp = f->sf_next;
	c->sc_n--;
	c->sc_bytes -= f->sf_bytes;
	symfile_free(f);
}

size_t
perf_symcache_window(struct perf_symcache *c, int64_t now)
{
	struct perf_symfile **pp = &c->sc_files;
	size_t dropped = 0;

	while (*pp != NULL) {
		struct perf_symfile *f = *pp;

		if (f->sf_window == c->sc_window)
			f->sf_seen_ms = now;
		if (c->sc_window - f->sf_window >= PERF_SYMS_IDLE_WINDOWS &&
		    now - f->sf_seen_ms >= PERF_SYMS_IDLE_MS) {
			symcache_drop(c, pp);
			dropped++;
			continue;
		}
		pp = &f->sf_next;
	}
	c->sc_window++;
	return dropped;
}

/* Drops the least recently used file. */
static void
symcache_evict(struct perf_symcache *c)
{
	struct perf_symfile **pp, **old = NULL;

	for (pp = &c->sc_files; *pp != NULL; pp = &(*pp)->sf_next)
		if (old == NULL || (*pp)->sf_used < (*old)->sf_used)
			old = pp;
	if (old != NULL)
		symcache_drop(c, old);
}

/* Whether fd, opened at a mapping's path, is still the mapped file: the
 * same inode number (a file replaced at its path, as by a package upgrade,
 * has another). The device is not compared: btrfs and overlayfs give stat
 * another device than the mapping's; overlayfs may give another inode
 * number too (xino), so its files are taken as found. */
static int
symfile_same(int fd, uint64_t ino)
{
	struct statfs sf;
	struct stat st;

	if (fstat(fd, &st) == -1)
		return 0;
	if ((uint64_t)st.st_ino == ino)
		return 1;
	return fstatfs(fd, &sf) == 0 &&
	       (unsigned long)sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

/* Opens path as pid sees it, if it is still the file mapped (ino); when
 * pid is gone, the host's file of that path if it is the same file (dev,
 * ino). Blocking, close-on-exec. */
static int
symfile_open(uint32_t pid, const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;
	int fd;

	if (path[0] != '/')
		return -1;
	if ((fd = procfs_open_in_root((pid_t)pid, NULL, path, 0)) != -1 &&
	    !symfile_same(fd, ino)) {
		close(fd);
		return -1;
	}
	if (fd == -1) {
		if ((fd = procfs_open_regular(path)) == -1)
			return -1;
		if (fstat(fd, &st) == -1 || st.st_dev != dev ||
		    st.st_ino != ino) {
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Keeps the PT_LOAD segments of elf, to turn file offsets into
 * addresses. */
static void
symfile_loads(struct perf_symfile *f, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && f->sf_nloads < SYMS_MAX_LOADS; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) != NULL &&
		    ph.p_type == PT_LOAD)
			f->sf_loads[f->sf_nloads++] = (struct perf_load){
			    ph.p_offset, ph.p_filesz, ph.p_vaddr};
	}
}

/* Returns the section of elf of type type, or NULL. */
static Elf_Scn *
symfile_section(Elf *elf, GElf_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, sh) != NULL && sh->sh_type == type &&
		    sh->sh_entsize != 0)
			return scn;
	return NULL;
}

static int
sym_cmp(const void *a, const void *b)
{
	const struct perf_sym *x = a, *y = b;

	if (x->sy_addr != y->sy_addr)
		return x->sy_addr < y->sy_addr ? -1 : 1;
	/* at one address, the sized symbol last: it is the one found */
	return (x->sy_size > y->sy_size) - (x->sy_size < y->sy_size);
}

/* Reads the function symbols of table scn of elf into f; 0 or -1. */
static int
symfile_read_table(struct perf_symfile *f, Elf *elf, Elf_Scn *scn,
		   const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_size / sh->sh_entsize, k = 0;
	Elf_Scn *str = elf_getscn(elf, sh->sh_link);
	GElf_Shdr ssh;

	if (d == NULL || str == NULL || gelf_getshdr(str, &ssh) == NULL ||
	    n == 0 || (f->sf_syms = calloc(n, sizeof(*f->sf_syms))) == NULL)
		return -1;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		int type;

		if (gelf_getsym(d, (int)i, &sym) == NULL)
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    sym.st_shndx == SHN_UNDEF || sym.st_name == 0 ||
		    sym.st_name >= ssh.sh_size)
			continue;
		f->sf_syms[k++] = (struct perf_sym){sym.st_value,
						    sym.st_size > UINT32_MAX
							? UINT32_MAX
							: (uint32_t)sym.st_size,
						    sym.st_name};
	}
	f->sf_nsyms = k;
	if (k > 0) /* sf_syms may be NULL without symbols */
		qsort(f->sf_syms, k, sizeof(*f->sf_syms), sym_cmp);
	f->sf_stroff = ssh.sh_offset;
	f->sf_strsize = ssh.sh_size;
	return 0;
}

/* Opens the separate debug file of elf by its build-id; fd or -1. */
static int
symfile_debug_fd(Elf *elf)
{
	const void *id;
	const unsigned char *b;
	char path[sizeof(SYMS_DEBUG_DIR) + 2 * 64 + 8];
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	size_t len;

	if (n < 2 || n > 64)
		return -1;
	b = id;
	len = (size_t)snprintf(path, sizeof(path), "%s%02x/", SYMS_DEBUG_DIR,
			       b[0]);
	for (ssize_t i = 1; i < n; i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "%02x",
					b[i]);
	snprintf(path + len, sizeof(path) - len, ".debug");
	return procfs_open_regular(path);
}

/* Reads a .symtab from fd, if it has one; 1 if read, 0 if none, -1. */
static int
symfile_try_symtab(struct perf_symfile *f, int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Shdr sh;
	Elf_Scn *scn;
	int rv = 0;

	if (elf == NULL)
		return -1;
	if ((scn = symfile_section(elf, SHT_SYMTAB, &sh)) != NULL)
		rv = symfile_read_table(f, elf, scn, &sh) == 0 ? 1 : -1;
	elf_end(elf);
	return rv;
}

/* Finds and reads the file's symbols; f->sf_fd holds the file they came
 * from, or -1 when there are none. */
static void
symfile_load(struct perf_symfile *f, int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Shdr sh;
	Elf_Scn *scn;
	int dfd;

	if (elf == NULL || elf_kind(elf) != ELF_K_ELF) {
		if (elf != NULL)
			elf_end(elf);
		close(fd);
		return;
	}
	symfile_loads(f, elf);
	if ((scn = symfile_section(elf, SHT_SYMTAB, &sh)) == NULL &&
	    (dfd = symfile_debug_fd(elf)) != -1) {
		if (symfile_try_symtab(f, dfd) == 1) {
			elf_end(elf);
			close(fd);
			f->sf_fd = dfd;
			return;
		}
		close(dfd);
	}
	if (scn == NULL)
		scn = symfile_section(elf, SHT_DYNSYM, &sh);
	if (scn != NULL && symfile_read_table(f, elf, scn, &sh) == 0)
		f->sf_fd = fd;
	else
		close(fd);
	elf_end(elf);
}

/* Returns the cached file (dev, ino), reading it; NULL without memory. */
static struct perf_symfile *
symcache_file(struct perf_symcache *c, uint32_t pid, const char *path,
	      uint64_t dev, uint64_t ino)
{
	struct perf_symfile *f;
	int fd;

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
		f->sf_fd = -1;
		if ((fd = symfile_open(pid, path, dev, ino)) != -1)
			symfile_load(f, fd);
		f->sf_bytes =
		    SYMS_BASE_BYTES + f->sf_nsyms * sizeof(*f->sf_syms);
		f->sf_next = c->sc_files;
		c->sc_files = f;
		c->sc_n++;
		c->sc_bytes += f->sf_bytes;
	}
	f->sf_used = ++c->sc_clock;
	f->sf_window = c->sc_window;
	return f;
}

/* Turns a file offset into an address through the PT_LOAD segment
 * holding it; 0 when none does. */
static int
symfile_addr(const struct perf_symfile *f, uint64_t off, uint64_t *addr)
{
	for (size_t i = 0; i < f->sf_nloads; i++) {
		const struct perf_load *l = &f->sf_loads[i];

		if (off >= l->pl_off && off - l->pl_off < l->pl_filesz) {
			*addr = off - l->pl_off + l->pl_vaddr;
			return 1;
		}
	}
	return 0;
}

/* Returns the symbol containing addr: the last one starting at or before
 * it, if it has no size or addr is inside it. */
static const struct perf_sym *
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
	return s;
}

/* Reads the name of s from the file's string table into f->sf_name. */
static const char *
symfile_name(struct perf_symfile *f, const struct perf_sym *s)
{
	size_t want = sizeof(f->sf_name) - 1;
	ssize_t n;

	if (s->sy_name + want > f->sf_strsize)
		want = f->sf_strsize - s->sy_name;
	n = pread(f->sf_fd, f->sf_name, want,
		  (off_t)(f->sf_stroff + s->sy_name));
	if (n <= 0)
		return NULL;
	f->sf_name[n] = '\0';
	return f->sf_name[0] != '\0' ? f->sf_name : NULL;
}

const char *
perf_symcache_lookup(struct perf_symcache *c, uint32_t pid, const char *path,
		     uint64_t dev, uint64_t ino, uint64_t off)
{
	struct perf_symfile *f = symcache_file(c, pid, path, dev, ino);
	const struct perf_sym *s;
	uint64_t addr;

	if (f == NULL || f->sf_fd == -1 || !symfile_addr(f, off, &addr) ||
	    (s = symfile_find(f, addr)) == NULL)
		return NULL;
	return symfile_name(f, s);
}
