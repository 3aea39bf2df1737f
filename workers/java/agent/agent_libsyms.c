/* Names of functions that other libraries keep only in their .symtab
 * (static functions, such as libjava's readBytes or handleOpen, which
 * dladdr cannot name): the table is read from the library's file the
 * first time one of its PCs is named, with pread into memory of our own
 * (a file changed under a mapping would kill the JVM with SIGBUS), and
 * only its functions and their names are kept, for the agent's life.
 * Bounded: LIB_MAX libraries, LIB_TABLE_MAX bytes of symbols and of
 * names read per library, LIB_KEEP_MAX bytes kept for all of them. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define LIB_MAX	      64
#define LIB_TABLE_MAX (16u << 20)
#define LIB_KEEP_MAX  (32u << 20)

struct lsym {
	uintptr_t ls_addr;
	uint64_t ls_size;
	uint32_t ls_name; /* offset in the library's kept names */
};

struct lib {
	uintptr_t lb_bias; /* where it is loaded: with lb_path, its key */
	char *lb_path;
	struct lsym *lb_syms;
	size_t lb_n;
	char *lb_names;
};

static struct lib libs[LIB_MAX];
static size_t nlibs;
static size_t kept; /* bytes of symbols and names of every library */

/* Reads len bytes at off of fd into a new buffer, NUL-terminated; NULL
 * on any short read or a length over LIB_TABLE_MAX. */
static void *
lib_pread(int fd, uint64_t off, uint64_t len)
{
	char *buf;
	size_t got = 0;
	ssize_t n;

	if (len == 0 || len > LIB_TABLE_MAX || (buf = malloc(len + 1)) == NULL)
		return NULL;
	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	buf[len] = '\0'; /* a last name without its NUL ends here */
	return buf;
}

static int
lsym_cmp(const void *a, const void *b)
{
	const struct lsym *x = a, *y = b;

	return x->ls_addr < y->ls_addr ? -1 : x->ls_addr > y->ls_addr;
}

/* A function with an address, a size and a name inside strs' strsz
 * bytes (symbols of size 0 are labels inside functions). */
static int
lib_is_func(const Elf64_Sym *s, uint64_t strsz)
{
	return ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_value != 0 &&
	       s->st_size != 0 && s->st_name < strsz;
}

/* Keeps the functions of the n symbols s, with copies of their names
 * from strs (strsz bytes and a NUL), within LIB_KEEP_MAX. */
static int
lib_keep(struct lib *l, const Elf64_Sym *s, size_t n, const char *strs,
	 uint64_t strsz)
{
	size_t nf = 0, namelen = 0, off = 0;

	for (size_t i = 0; i < n; i++)
		if (lib_is_func(&s[i], strsz)) {
			nf++;
			namelen += strlen(strs + s[i].st_name) + 1;
		}
	if (nf == 0 || namelen > UINT32_MAX ||
	    nf * sizeof(*l->lb_syms) + namelen > LIB_KEEP_MAX - kept)
		return -1;
	if ((l->lb_syms = calloc(nf, sizeof(*l->lb_syms))) == NULL ||
	    (l->lb_names = malloc(namelen)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!lib_is_func(&s[i], strsz))
			continue;
		len = strlen(strs + s[i].st_name) + 1;
		memcpy(l->lb_names + off, strs + s[i].st_name, len);
		l->lb_syms[l->lb_n].ls_addr = l->lb_bias + s[i].st_value;
		l->lb_syms[l->lb_n].ls_size = s[i].st_size;
		l->lb_syms[l->lb_n].ls_name = (uint32_t)off;
		l->lb_n++;
		off += len;
	}
	qsort(l->lb_syms, l->lb_n, sizeof(*l->lb_syms), lsym_cmp);
	kept += nf * sizeof(*l->lb_syms) + namelen;
	return 0;
}

/* The functions of the .symtab of the ELF file on fd into l; -1 when it
 * has none or it does not hold together. */
static int
lib_read(struct lib *l, int fd)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, *st = NULL;
	Elf64_Sym *s = NULL;
	char *strs = NULL;
	int rv = -1;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
	    (sh = lib_pread(fd, eh.e_shoff,
			    (uint64_t)eh.e_shnum * sizeof(*sh))) == NULL)
		return -1;
	for (int i = 0; i < eh.e_shnum && st == NULL; i++)
		if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh.e_shnum)
			st = &sh[i];
	if (st != NULL &&
	    (s = lib_pread(fd, st->sh_offset, st->sh_size)) != NULL &&
	    (strs = lib_pread(fd, sh[st->sh_link].sh_offset,
			      sh[st->sh_link].sh_size)) != NULL)
		rv = lib_keep(l, s, st->sh_size / sizeof(*s), strs,
			      sh[st->sh_link].sh_size);
	free(strs);
	free(s);
	free(sh);
	return rv;
}

/* The library loaded with bias from path, read on first use; NULL when
 * the table of libraries is full. One that cannot be read is kept empty,
 * so that it is tried once. */
static struct lib *
lib_get(const char *path, uintptr_t bias)
{
	struct lib *l;
	int fd;

	for (size_t i = 0; i < nlibs; i++)
		if (libs[i].lb_bias == bias && libs[i].lb_path != NULL &&
		    strcmp(libs[i].lb_path, path) == 0)
			return &libs[i];
	if (nlibs == LIB_MAX)
		return NULL;
	l = &libs[nlibs];
	memset(l, 0, sizeof(*l));
	if ((l->lb_path = strdup(path)) == NULL)
		return NULL;
	l->lb_bias = bias;
	nlibs++;
	/* Non-blocking: a FIFO put where a library was must not hold us. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return l;
	if (lib_read(l, fd) == -1) {
		free(l->lb_syms);
		free(l->lb_names);
		l->lb_syms = NULL;
		l->lb_names = NULL;
		l->lb_n = 0;
	}
	close(fd);
	return l;
}

const char *
agent_libsyms_find(const char *path, uintptr_t bias, uintptr_t pc,
		   uintptr_t *start)
{
	struct lib *l;
	size_t lo = 0, hi;
	const struct lsym *s;

	if (path == NULL || path[0] != '/' || strlen(path) >= 4096 ||
	    (l = lib_get(path, bias)) == NULL)
		return NULL;
	hi = l->lb_n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->lb_syms[mid].ls_addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &l->lb_syms[lo - 1];
	if (pc - s->ls_addr >= s->ls_size)
		return NULL;
	if (start != NULL)
		*start = s->ls_addr;
	return l->lb_names + s->ls_name;
}

void
agent_libsyms_free(void)
{
	for (size_t i = 0; i < nlibs; i++) {
		free(libs[i].lb_path);
		free(libs[i].lb_syms);
		free(libs[i].lb_names);
	}
	memset(libs, 0, sizeof(libs));
	nlibs = 0;
	kept = 0;
}
