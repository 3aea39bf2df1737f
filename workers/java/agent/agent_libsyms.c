/* Names of functions that other libraries keep only in their .symtab
 * (static functions, such as libjava's readBytes or handleOpen, which
 * dladdr cannot name): the table is read from the library's file the
 * first time one of its PCs is named, into memory of our own (a file
 * changed under a mapping would kill the JVM with SIGBUS), and kept for
 * the agent's life. At most LIB_MAX libraries, each bounded in size. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define LIB_MAX	      16
#define LIB_TABLE_MAX (16u << 20) /* bytes of .symtab or of its strings */

struct lsym {
	uintptr_t ls_addr;
	uint64_t ls_size;
	uint32_t ls_name; /* offset in the library's strings */
};

struct lib {
	uintptr_t lb_base; /* where it is loaded: its key */
	struct lsym *lb_syms;
	size_t lb_n;
	char *lb_names;
};

static struct lib libs[LIB_MAX];
static size_t nlibs;

/* Reads len bytes at off of fd into a new buffer; NULL on any short read
 * or a length over LIB_TABLE_MAX. */
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

/* Keeps the functions of the n symbols s (names strsz bytes long). */
static int
lib_keep(struct lib *l, const Elf64_Sym *s, size_t n, uint64_t strsz)
{
	if ((l->lb_syms = calloc(n ? n : 1, sizeof(*l->lb_syms))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ELF64_ST_TYPE(s[i].st_info) != STT_FUNC ||
		    s[i].st_value == 0 || s[i].st_name >= strsz)
			continue;
		l->lb_syms[l->lb_n].ls_addr = l->lb_base + s[i].st_value;
		l->lb_syms[l->lb_n].ls_size = s[i].st_size;
		l->lb_syms[l->lb_n].ls_name = s[i].st_name;
		l->lb_n++;
	}
	qsort(l->lb_syms, l->lb_n, sizeof(*l->lb_syms), lsym_cmp);
	return 0;
}

/* The .symtab of the ELF file on fd and its strings into l; -1 when it
 * has none or it does not hold together. */
static int
lib_read(struct lib *l, int fd)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, *st = NULL;
	Elf64_Sym *s = NULL;
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
	    (l->lb_names = lib_pread(fd, sh[st->sh_link].sh_offset,
				     sh[st->sh_link].sh_size)) != NULL)
		rv = lib_keep(l, s, st->sh_size / sizeof(*s),
			      sh[st->sh_link].sh_size);
	free(s);
	free(sh);
	return rv;
}

/* The library loaded at base from path, read on first use; NULL when
 * the table of libraries is full. One that cannot be read is kept
 * empty, so that it is tried once. */
static struct lib *
lib_get(const char *path, uintptr_t base)
{
	struct lib *l;
	int fd;

	for (size_t i = 0; i < nlibs; i++)
		if (libs[i].lb_base == base)
			return &libs[i];
	if (nlibs == LIB_MAX)
		return NULL;
	l = &libs[nlibs++];
	memset(l, 0, sizeof(*l));
	l->lb_base = base;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
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
agent_libsyms_find(const char *path, uintptr_t base, uintptr_t pc,
		   uintptr_t *start)
{
	struct lib *l = lib_get(path, base);
	size_t lo = 0, hi;
	const struct lsym *s;

	if (l == NULL)
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
	if (pc >= s->ls_addr + (s->ls_size ? s->ls_size : 1))
		return NULL;
	if (start != NULL)
		*start = s->ls_addr;
	return l->lb_names + s->ls_name;
}

void
agent_libsyms_free(void)
{
	for (size_t i = 0; i < nlibs; i++) {
		free(libs[i].lb_syms);
		free(libs[i].lb_names);
	}
	memset(libs, 0, sizeof(libs));
	nlibs = 0;
}
