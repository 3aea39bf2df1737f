/* Names of native code: libjvm's own .symtab (HotSpot exports almost
 * nothing through .dynsym), read from the library file the JVM mapped;
 * other libraries through dladdr, then their .symtab (agent_libsyms.c). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"

#define SYMS_MAX (1u << 20)

struct sym {
	uintptr_t sy_addr;
	uint64_t sy_size;
	const char *sy_name; /* inside the mapping */
};

static struct sym *syms;
static size_t nsyms;
static void *map;
static size_t maplen;
static uintptr_t jvm_lo, jvm_hi; /* libjvm's text, roughly */
static uintptr_t jvm_bias;	 /* libjvm's load bias */

/* dladdr, and the load bias of pc's object (its link map's l_addr: the
 * first segment's address less its vaddr); -1 when pc is in none. */
static int
syms_dladdr(uintptr_t pc, Dl_info *di, uintptr_t *bias)
{
	struct link_map *lm = NULL;

	if (dladdr1((void *)pc, di, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
	    di->dli_fname == NULL || lm == NULL)
		return -1;
	*bias = (uintptr_t)lm->l_addr;
	return 0;
}

/* pc's function from its library's .symtab, not libjvm's (read whole at
 * the start: a PC it does not name, in a PLT stub say, stays unnamed). */
static const char *
syms_other(const Dl_info *di, uintptr_t bias, uintptr_t pc, uintptr_t *start)
{
	if (jvm_bias != 0 && bias == jvm_bias)
		return NULL;
	return agent_libsyms_find(di->dli_fname, bias, pc, start);
}

static int
sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->sy_addr < y->sy_addr ? -1 : x->sy_addr > y->sy_addr;
}

/* The symbol table section of the mapped ELF file (.symtab, else
 * .dynsym), checked against the file's size. */
static const Elf64_Shdr *
syms_section(const Elf64_Ehdr *eh, const Elf64_Shdr **strs)
{
	const Elf64_Shdr *sh, *best = NULL;

	if (maplen < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > maplen ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > maplen - eh->e_shoff)
		return NULL;
	sh = (const Elf64_Shdr *)((const char *)map + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB ||
		    (sh[i].sh_type == SHT_DYNSYM && best == NULL))
			best = &sh[i];
	if (best == NULL || best->sh_link >= eh->e_shnum ||
	    best->sh_offset > maplen ||
	    best->sh_size > maplen - best->sh_offset)
		return NULL;
	*strs = &sh[best->sh_link];
	if ((*strs)->sh_offset > maplen ||
	    (*strs)->sh_size > maplen - (*strs)->sh_offset)
		return NULL;
	return best;
}

static int
syms_collect(uintptr_t base)
{
	const Elf64_Shdr *st, *strs;
	const Elf64_Sym *s;
	const char *names;
	size_t n;

	if ((st = syms_section(map, &strs)) == NULL)
		return -1;
	s = (const Elf64_Sym *)((const char *)map + st->sh_offset);
	names = (const char *)map + strs->sh_offset;
	n = st->sh_size / sizeof(*s);
	if (n > SYMS_MAX)
		n = SYMS_MAX;
	if ((syms = calloc(n ? n : 1, sizeof(*syms))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ELF64_ST_TYPE(s[i].st_info) != STT_FUNC ||
		    s[i].st_value == 0 || s[i].st_name >= strs->sh_size ||
		    memchr(names + s[i].st_name, '\0',
			   strs->sh_size - s[i].st_name) == NULL)
			continue;
		syms[nsyms].sy_addr = base + s[i].st_value;
		syms[nsyms].sy_size = s[i].st_size;
		syms[nsyms].sy_name = names + s[i].st_name;
		if (syms[nsyms].sy_addr + s[i].st_size > jvm_hi)
			jvm_hi = syms[nsyms].sy_addr + s[i].st_size;
		nsyms++;
	}
	qsort(syms, nsyms, sizeof(*syms), sym_cmp);
	jvm_lo = nsyms ? syms[0].sy_addr : 0;
	return 0;
}

int
agent_syms_load(void)
{
	uintptr_t bias;
	Dl_info di;
	off_t size;
	int fd;

	if (syms != NULL)
		return 0;
	if (agent.as_agct == NULL ||
	    syms_dladdr((uintptr_t)agent.as_agct, &di, &bias) == -1)
		return -1;
	if ((fd = open(di.dli_fname, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	/* lseek, not fstat: fstat's default version is too new for the
	 * old libcs of some containers. */
	if ((size = lseek(fd, 0, SEEK_END)) < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -1;
	}
	maplen = (size_t)size;
	map = mmap(NULL, maplen, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		map = NULL;
		return -1;
	}
	if (syms_collect(bias) == -1) {
		agent_syms_free();
		return -1;
	}
	jvm_bias = bias;
	return 0;
}

void
agent_syms_free(void)
{
	free(syms);
	syms = NULL;
	nsyms = 0;
	if (map != NULL)
		munmap(map, maplen);
	map = NULL;
	jvm_lo = jvm_hi = jvm_bias = 0;
	agent_libsyms_free();
}

static const struct sym *
syms_find(uintptr_t pc)
{
	size_t lo = 0, hi = nsyms;

	if (pc < jvm_lo || pc >= jvm_hi)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (syms[mid].sy_addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	lo--;
	if (pc >=
	    syms[lo].sy_addr + (syms[lo].sy_size ? syms[lo].sy_size : 4096))
		return NULL;
	return &syms[lo];
}

uintptr_t
agent_syms_start(uintptr_t pc)
{
	const struct sym *s = syms_find(pc);
	uintptr_t start = pc, bias;
	Dl_info di;

	if (s != NULL)
		return s->sy_addr;
	if (syms_dladdr(pc, &di, &bias) == -1)
		return pc;
	if (di.dli_saddr != NULL)
		return (uintptr_t)di.dli_saddr;
	syms_other(&di, bias, pc, &start);
	return start;
}

/* "_ZN3Foo3barEv" -> "Foo::bar"; plain nested names only, else -1. */
static int
demangle(const char *m, char *out, size_t len)
{
	const char *p = m + 3, *last = NULL;
	size_t o = 0, lastlen = 0;

	if (strncmp(m, "_ZL", 3) == 0 ||
	    (m[0] == '_' && m[1] == 'Z' && m[2] >= '1' && m[2] <= '9')) {
		unsigned long n =
		    strtoul(m + 2 + (m[2] == 'L'), (char **)&p, 10);

		if (n == 0 || n >= len || strnlen(p, n) < n)
			return -1;
		snprintf(out, len, "%.*s", (int)n, p);
		return 0;
	}
	if (strncmp(m, "_ZN", 3) != 0)
		return -1;
	while (*p == 'K' || *p == 'V' || *p == 'r')
		p++;
	while (*p != 'E') {
		unsigned long n;
		char *end;

		if ((*p == 'C' || *p == 'D') && last != NULL && p[1] >= '0' &&
		    p[1] <= '9') {
			if (o + lastlen + 4 >= len)
				return -1;
			o += (size_t)snprintf(
			    out + o, len - o, "%s%s%.*s", o ? "::" : "",
			    *p == 'D' ? "~" : "", (int)lastlen, last);
			p += 2;
			continue;
		}
		if (*p < '1' || *p > '9')
			return -1;
		n = strtoul(p, &end, 10);
		if (n == 0 || n > 512 || strnlen(end, n) < n ||
		    o + n + 3 >= len)
			return -1;
		o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? "::" : "",
				      (int)n, end);
		last = end;
		lastlen = n;
		p = end + n;
	}
	return o > 0 ? 0 : -1;
}

/* Copies a symbol name, ';' and controls as '_' (collapsed syntax). */
static const char *
sym_copy(const char *s, char *buf, size_t len)
{
	if (demangle(s, buf, len) == -1)
		snprintf(buf, len, "%s", s);
	for (char *o = buf; *o; o++)
		if (*o == ';' || *o == ' ' || (unsigned char)*o < 0x20)
			*o = '_';
	return buf;
}

const char *
agent_syms_name(uintptr_t pc, char *buf, size_t len)
{
	const struct sym *s = syms_find(pc);
	const char *lib, *name;
	uintptr_t bias;
	Dl_info di;

	if (s != NULL)
		return sym_copy(s->sy_name, buf, len);
	if (syms_dladdr(pc, &di, &bias) == -1) {
		snprintf(buf, len, "[unknown]");
		return buf;
	}
	if (di.dli_sname != NULL)
		return sym_copy(di.dli_sname, buf, len);
	if ((name = syms_other(&di, bias, pc, NULL)) != NULL)
		return sym_copy(name, buf, len);
	lib = strrchr(di.dli_fname, '/');
	snprintf(buf, len, "[%s+0x%lx]", lib ? lib + 1 : di.dli_fname,
		 (unsigned long)(pc - (uintptr_t)di.dli_fbase));
	for (char *o = buf; *o; o++)
		if (*o == ';' || *o == ' ' || (unsigned char)*o < 0x20)
			*o = '_';
	return buf;
}
