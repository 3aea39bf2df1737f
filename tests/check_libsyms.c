/* Unit tests of the agent's .symtab reader for other libraries
 * (workers/java/agent/agent_libsyms.c): names of static functions, what
 * is not a function, the bounds the man page states (64 libraries, 16 MiB
 * of symbols and of names read per library, 32 MiB kept in all),
 * malformed files, paths that are not libraries. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "check_main.h"

/* A static function: in the test's .symtab, not in its .dynsym. */
__attribute__((noinline)) static int
libsyms_target(int x)
{
	return x * 3 + 1;
}

/* The test program's load bias (dladdr cannot name libsyms_target). */
static uintptr_t
self_bias(void)
{
	struct link_map *lm = NULL;
	Dl_info di;

	ck_assert_int_ne(
	    dladdr1((void *)libsyms_target, &di, (void **)&lm, RTLD_DL_LINKMAP),
	    0);
	ck_assert_ptr_null(di.dli_sname);
	ck_assert_ptr_nonnull(lm);
	return (uintptr_t)lm->l_addr;
}

START_TEST(test_static_function)
{
	uintptr_t fn = (uintptr_t)libsyms_target, start = 0;
	const char *name;

	ck_assert_int_eq(libsyms_target(1), 4);
	name =
	    agent_libsyms_find("/proc/self/exe", self_bias(), fn + 1, &start);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "libsyms_target");
	ck_assert_uint_eq(start, fn);
	/* Below every function of the file: nothing. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/exe", self_bias(), 1, NULL));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_library_slots)
{
	uintptr_t fn = (uintptr_t)libsyms_target;

	for (uintptr_t b = 1; b <= 64; b++)
		ck_assert_ptr_null(agent_libsyms_find("/nonexistent/lib.so",
						      b << 12, 0x10000, NULL));
	/* The table is full: the 65th library is not read. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/exe", self_bias(), fn, NULL));
	agent_libsyms_free();
	ck_assert_ptr_nonnull(
	    agent_libsyms_find("/proc/self/exe", self_bias(), fn, NULL));
	/* The same bias from another file is another library. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/status", self_bias(), fn, NULL));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_paths)
{
	char dir[] = "/tmp/check_libsyms.XXXXXX", fifo[64];
	uintptr_t fn = (uintptr_t)libsyms_target;

	/* dladdr gives argv[0] for the program and a bare name for the
	 * vdso: never opened relative to the working directory. */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(symlink("/proc/self/exe", "prog"), 0);
	ck_assert_ptr_null(agent_libsyms_find("prog", self_bias(), fn, NULL));
	/* A FIFO where a library was: not waited on (Check's timeout). */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_ptr_null(agent_libsyms_find(fifo, 0x1000, 0x2000, NULL));
	agent_libsyms_free();
	unlink(fifo);
	unlink("prog");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(dir);
}
END_TEST

/* A small ELF file's make-up: symbols at 1024, strings at 512 (moved
 * past the symbols when they are over 2 KiB), each section claiming the
 * size given (zeros after what is written: a sparse file). A field left
 * 0 gives the usual file: big_fn, a function of 0x100 bytes at 0x1000. */
struct elf_spec {
	uint64_t es_symsz;  /* .symtab's size (else its entries') */
	uint64_t es_strsz;  /* its strings' size (else "\0big_fn\0") */
	uint32_t es_name;   /* big_fn's name offset (else 1) */
	uint32_t es_link;   /* .symtab's sh_link (else 2) */
	int es_object;	    /* big_fn is data, not a function */
	int es_label;	    /* a function of size 0 (a label) in big_fn */
	uint32_t es_nfuncs; /* functions after big_fn, 1 byte each */
};

#define SPEC(...) ((struct elf_spec){__VA_ARGS__})

/* Writes the file of spec e; returns its path (static). */
static const char *
write_elf(const struct elf_spec *e)
{
	static char path[32];
	static const char strs[] = "\0big_fn";
	uint64_t nsym = 2 + e->es_nfuncs + (e->es_label ? 1 : 0);
	uint64_t symsz = e->es_symsz ? e->es_symsz : nsym * sizeof(Elf64_Sym);
	uint64_t strsz = e->es_strsz ? e->es_strsz : sizeof(strs);
	uint64_t stroff = symsz > 2048 ? 1024 + symsz : 512;
	Elf64_Ehdr eh;
	Elf64_Shdr sh[3];
	Elf64_Sym *sym;
	int fd;

	strcpy(path, "/tmp/check_libsyms.XXXXXX");
	ck_assert_int_ge(fd = mkostemp(path, O_CLOEXEC), 0);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_shoff = 64;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	memset(sh, 0, sizeof(sh));
	sh[1].sh_type = SHT_SYMTAB;
	sh[1].sh_link = e->es_link ? e->es_link : 2;
	sh[1].sh_offset = 1024;
	sh[1].sh_size = symsz;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = stroff;
	sh[2].sh_size = strsz;
	ck_assert_ptr_nonnull(sym = calloc(nsym, sizeof(*sym)));
	sym[1].st_name = e->es_name ? e->es_name : 1;
	sym[1].st_info =
	    ELF64_ST_INFO(STB_LOCAL, e->es_object ? STT_OBJECT : STT_FUNC);
	sym[1].st_value = 0x1000;
	sym[1].st_size = 0x100;
	for (uint64_t i = 2; i < 2 + e->es_nfuncs; i++) {
		sym[i].st_name = 1;
		sym[i].st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC);
		sym[i].st_value = 0x100000 + i;
		sym[i].st_size = 1;
	}
	if (e->es_label) {
		sym[nsym - 1].st_name = 2; /* "ig_fn" */
		sym[nsym - 1].st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC);
		sym[nsym - 1].st_value = 0x1008;
	}
	ck_assert_int_eq(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
	ck_assert_int_eq(pwrite(fd, sh, sizeof(sh), 64), sizeof(sh));
	/* Without the NUL of the C string: the reader adds its own. */
	ck_assert_int_eq(pwrite(fd, strs, sizeof(strs) - 1, (off_t)stroff),
			 sizeof(strs) - 1);
	ck_assert_int_eq(pwrite(fd, sym, nsym * sizeof(*sym), 1024),
			 (ssize_t)(nsym * sizeof(*sym)));
	free(sym);
	ck_assert_int_eq(ftruncate(fd, (off_t)(stroff + strsz > 1024 + symsz
						   ? stroff + strsz
						   : 1024 + symsz)),
			 0);
	close(fd);
	return path;
}

/* big_fn's name (looked up at bias + off) in the file of spec e, or
 * NULL; the file is gone afterwards, its table kept. */
static const char *
find_in(const struct elf_spec *e, uintptr_t bias, uintptr_t off)
{
	const char *path = write_elf(e), *name;
	uintptr_t start = 0;

	name = agent_libsyms_find(path, bias, bias + off, &start);
	unlink(path);
	if (name != NULL)
		ck_assert_uint_eq(start, bias + 0x1000);
	return name;
}

#define BIAS 0x7f0000000000u

static const char *
find_big(const struct elf_spec *e)
{
	return find_in(e, BIAS, 0x1010);
}

START_TEST(test_functions_only)
{
	const char *name;

	/* Its strings end without a NUL: the name still ends. */
	ck_assert_ptr_nonnull(name = find_big(&SPEC(.es_strsz = 7)));
	ck_assert_str_eq(name, "big_fn");
	agent_libsyms_free();
	/* Past the function's end, before it: nothing. */
	ck_assert_ptr_null(find_in(&SPEC(.es_label = 0), BIAS, 0x1100));
	agent_libsyms_free();
	ck_assert_ptr_null(find_in(&SPEC(.es_label = 0), BIAS, 0xfff));
	agent_libsyms_free();
	/* Data is not a function. */
	ck_assert_ptr_null(find_big(&SPEC(.es_object = 1)));
	agent_libsyms_free();
	/* A label inside a function does not hide it. */
	ck_assert_ptr_nonnull(name = find_big(&SPEC(.es_label = 1)));
	ck_assert_str_eq(name, "big_fn");
	agent_libsyms_free();
}
END_TEST

START_TEST(test_read_bounds)
{
	/* 1 MiB and 16 MiB of symbols, 16 MiB of names: read. */
	ck_assert_ptr_nonnull(find_big(&SPEC(.es_symsz = 1u << 20)));
	agent_libsyms_free();
	ck_assert_ptr_nonnull(find_big(&SPEC(.es_symsz = 16u << 20)));
	agent_libsyms_free();
	ck_assert_ptr_nonnull(find_big(&SPEC(.es_strsz = 16u << 20)));
	agent_libsyms_free();
	/* More of either: not read at all. */
	ck_assert_ptr_null(
	    find_big(&SPEC(.es_symsz = (16u << 20) + sizeof(Elf64_Sym))));
	agent_libsyms_free();
	ck_assert_ptr_null(find_big(&SPEC(.es_strsz = (16u << 20) + 1)));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_keep_bound)
{
	/* 600 000 functions: about 18 MiB kept for a library; a second
	 * one does not fit in 32 MiB, and fits again after a free. */
	struct elf_spec e = SPEC(.es_nfuncs = 600000);

	ck_assert_ptr_nonnull(find_in(&e, BIAS, 0x1010));
	ck_assert_ptr_null(find_in(&e, BIAS + (1u << 30), 0x1010));
	agent_libsyms_free();
	ck_assert_ptr_nonnull(find_in(&e, BIAS + (1u << 30), 0x1010));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_malformed)
{
	char path[] = "/tmp/check_libsyms.XXXXXX";
	Elf64_Ehdr eh;
	int fd;

	/* A name past the strings, a link past the sections. */
	ck_assert_ptr_null(find_big(&SPEC(.es_name = 100)));
	agent_libsyms_free();
	ck_assert_ptr_null(find_big(&SPEC(.es_link = 7)));
	agent_libsyms_free();
	/* Not an ELF file; section headers past the file's end. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/status", 0x1000, 0x2000, NULL));
	ck_assert_int_ge(fd = mkostemp(path, O_CLOEXEC), 0);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_shoff = 1u << 30;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	ck_assert_int_eq(write(fd, &eh, sizeof(eh)), sizeof(eh));
	close(fd);
	ck_assert_ptr_null(agent_libsyms_find(path, 0x1000, 0x2000, NULL));
	unlink(path);
	agent_libsyms_free();
}
END_TEST

CHECK_MAIN(CHECK_SUITE("libsyms", test_static_function, test_library_slots,
		       test_paths, test_functions_only, test_read_bounds,
		       test_keep_bound, test_malformed))
