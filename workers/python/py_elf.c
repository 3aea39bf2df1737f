/* Reading symbols and sections of an ELF file, with bounded reads. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "py_elf.h"

#define MAX_SHDRS 4096
#define MAX_PHDRS 256
#define SYM_CHUNK 1024 /* symbols read at once */

static const char *const pyelf_names[PYSYM_COUNT] = {
    [PYSYM_RUNTIME] = "_PyRuntime",
    [PYSYM_VERSION] = "Py_Version",
    [PYSYM_CODE_TYPE] = "PyCode_Type",
    [PYSYM_STR_TYPE] = "PyUnicode_Type",
};

static int
pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = ENOEXEC;
	return -1;
}

static int
pyelf_header(int fd, Elf64_Ehdr *h)
{
	if (pread_all(fd, h, sizeof(*h), 0) == -1)
		return -1;
	if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 ||
	    h->e_ident[EI_CLASS] != ELFCLASS64 ||
	    h->e_ident[EI_DATA] != ELFDATA2LSB ||
	    h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phnum > MAX_PHDRS ||
	    (h->e_shnum > 0 && h->e_shentsize != sizeof(Elf64_Shdr)) ||
	    h->e_shnum > MAX_SHDRS || h->e_shstrndx >= h->e_shnum) {
		errno = ENOEXEC;
		return -1;
	}
	return 0;
}

static int
pyelf_bias(int fd, const Elf64_Ehdr *h, struct pyelf *e)
{
	Elf64_Phdr ph;

	for (unsigned i = 0; i < h->e_phnum; i++) {
		if (pread_all(fd, &ph, sizeof(ph),
			      h->e_phoff + (uint64_t)i * sizeof(ph)) == -1)
			return -1;
		if (ph.p_type == PT_LOAD) {
			uint64_t align = ph.p_align ? ph.p_align : 1;

			e->pe_load_bias = ph.p_vaddr & ~(align - 1);
			return 0;
		}
	}
	errno = ENOEXEC;
	return -1;
}

/* Reads the string table of section link; caller frees. */
static char *
pyelf_strtab(int fd, const Elf64_Shdr *sh, size_t *len)
{
	char *s;

	if (sh->sh_size == 0 || sh->sh_size > PYELF_MAX_STRTAB) {
		errno = E2BIG;
		return NULL;
	}
	if ((s = malloc(sh->sh_size + 1)) == NULL)
		return NULL;
	if (pread_all(fd, s, sh->sh_size, sh->sh_offset) == -1) {
		free(s);
		return NULL;
	}
	s[sh->sh_size] = '\0';
	*len = sh->sh_size;
	return s;
}

static void
pyelf_match(struct pyelf *e, const Elf64_Sym *sym, const char *str,
	    size_t strlen_)
{
	const char *name;

	if (sym->st_name >= strlen_ || sym->st_value == 0 ||
	    sym->st_shndx == SHN_UNDEF)
		return;
	name = str + sym->st_name;
	for (int i = 0; i < PYSYM_COUNT; i++)
		if (e->pe_sym[i] == 0 && strcmp(name, pyelf_names[i]) == 0)
			e->pe_sym[i] = sym->st_value;
}

/* Looks the wanted names up in symbol section sh (linked to strings). */
static int
pyelf_symbols(int fd, const Elf64_Shdr *sh, const Elf64_Shdr *strsh,
	      struct pyelf *e)
{
	Elf64_Sym syms[SYM_CHUNK];
	uint64_t n = sh->sh_size / sizeof(Elf64_Sym), done = 0;
	size_t slen;
	char *str;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || n > PYELF_MAX_SYMS ||
	    (str = pyelf_strtab(fd, strsh, &slen)) == NULL)
		return -1;
	while (done < n) {
		size_t k =
		    n - done < SYM_CHUNK ? (size_t)(n - done) : SYM_CHUNK;

		if (pread_all(fd, syms, k * sizeof(Elf64_Sym),
			      sh->sh_offset + done * sizeof(Elf64_Sym)) == -1)
			break;
		for (size_t i = 0; i < k; i++)
			pyelf_match(e, &syms[i], str, slen);
		done += k;
	}
	free(str);
	return 0;
}

static void
pyelf_section(struct pyelf *e, const char *name, const Elf64_Shdr *sh)
{
	struct pyelf_range *r = NULL;

	if (strcmp(name, ".PyRuntime") == 0)
		r = &e->pe_pyruntime;
	else if (strcmp(name, ".data") == 0)
		r = &e->pe_data;
	else if (strcmp(name, ".bss") == 0)
		r = &e->pe_bss;
	if (r != NULL) {
		r->er_addr = sh->sh_addr;
		r->er_size = sh->sh_size;
	}
}

static int
pyelf_sections(int fd, const Elf64_Ehdr *h, struct pyelf *e)
{
	Elf64_Shdr *sh;
	size_t nlen;
	char *names;

	if (h->e_shnum == 0)
		return 0; /* no sections: only the scan can help */
	if ((sh = calloc(h->e_shnum, sizeof(*sh))) == NULL)
		return -1;
	if (pread_all(fd, sh, h->e_shnum * sizeof(*sh), h->e_shoff) == -1 ||
	    (names = pyelf_strtab(fd, &sh[h->e_shstrndx], &nlen)) == NULL) {
		free(sh);
		return -1;
	}
	for (unsigned i = 0; i < h->e_shnum; i++) {
		if (sh[i].sh_name < nlen)
			pyelf_section(e, names + sh[i].sh_name, &sh[i]);
		if ((sh[i].sh_type == SHT_DYNSYM ||
		     sh[i].sh_type == SHT_SYMTAB) &&
		    sh[i].sh_link < h->e_shnum)
			pyelf_symbols(fd, &sh[i], &sh[sh[i].sh_link], e);
	}
	free(names);
	free(sh);
	return 0;
}

int
pyelf_read(int fd, struct pyelf *e)
{
	Elf64_Ehdr h;

	memset(e, 0, sizeof(*e));
	if (pyelf_header(fd, &h) == 0 && pyelf_bias(fd, &h, e) == 0 &&
	    pyelf_sections(fd, &h, e) == 0)
		return 0;
	return -1;
}
