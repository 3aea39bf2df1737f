/* Unit tests of the agent's .symtab reader for other libraries
 * (workers/java/agent/agent_libsyms.c): names of static functions, the
 * bounds the man page states (16 libraries, 16 MiB of table), malformed
 * files. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "check_main.h"

/* A static function: in the test's .symtab, not in its .dynsym. */
__attribute__((noinline)) static int
libsyms_target(int x)
{
	return x * 3 + 1;
}

static uintptr_t
self_base(void)
{
	Dl_info di;

	ck_assert_int_ne(dladdr((void *)libsyms_target, &di), 0);
	ck_assert_ptr_null(di.dli_sname); /* what dladdr cannot name */
	return (uintptr_t)di.dli_fbase;
}

START_TEST(test_static_function)
{
	uintptr_t fn = (uintptr_t)libsyms_target, start = 0;
	const char *name;

	ck_assert_int_eq(libsyms_target(1), 4);
	name =
	    agent_libsyms_find("/proc/self/exe", self_base(), fn + 1, &start);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "libsyms_target");
	ck_assert_uint_eq(start, fn);
	/* Below every function of the file: nothing. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/exe", self_base(), 1, NULL));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_sixteen_libraries)
{
	uintptr_t fn = (uintptr_t)libsyms_target;

	for (uintptr_t b = 1; b <= 16; b++)
		ck_assert_ptr_null(agent_libsyms_find("/nonexistent/lib.so",
						      b << 12, 0x10000, NULL));
	/* The table is full: the 17th library is not read. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/exe", self_base(), fn, NULL));
	agent_libsyms_free();
	ck_assert_ptr_nonnull(
	    agent_libsyms_find("/proc/self/exe", self_base(), fn, NULL));
	agent_libsyms_free();
}
END_TEST

/* Writes a small ELF file: one function "big_fn" at 0x1000 (0x100 bytes)
 * whose .symtab claims symtab_size bytes (the rest zeros, a sparse file)
 * and whose name is at name_off in its strings; returns its path. */
static const char *
write_elf(uint64_t symtab_size, uint32_t name_off, uint32_t link)
{
	static char path[] = "/tmp/check_libsyms.XXXXXX";
	static const char strs[] = "\0big_fn";
	Elf64_Ehdr eh;
	Elf64_Shdr sh[3];
	Elf64_Sym sym[2];
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
	sh[1].sh_link = link;
	sh[1].sh_offset = 1024;
	sh[1].sh_size = symtab_size;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = 512;
	sh[2].sh_size = sizeof(strs);
	memset(sym, 0, sizeof(sym));
	sym[1].st_name = name_off;
	sym[1].st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC);
	sym[1].st_value = 0x1000;
	sym[1].st_size = 0x100;
	ck_assert_int_eq(pwrite(fd, &eh, sizeof(eh), 0), sizeof(eh));
	ck_assert_int_eq(pwrite(fd, sh, sizeof(sh), 64), sizeof(sh));
	ck_assert_int_eq(pwrite(fd, strs, sizeof(strs), 512), sizeof(strs));
	ck_assert_int_eq(pwrite(fd, sym, sizeof(sym), 1024), sizeof(sym));
	ck_assert_int_eq(ftruncate(fd, 1024 + (off_t)symtab_size), 0);
	close(fd);
	return path;
}

/* big_fn's name in a file written by write_elf, or NULL. */
static const char *
find_big(uint64_t symtab_size, uint32_t name_off, uint32_t link)
{
	const char *path = write_elf(symtab_size, name_off, link), *name;
	uintptr_t base = 0x7f0000000000, start = 0;

	name = agent_libsyms_find(path, base, base + 0x1010, &start);
	unlink(path);
	if (name != NULL)
		ck_assert_uint_eq(start, base + 0x1000);
	return name;
}

START_TEST(test_table_bound)
{
	const char *name;

	name = find_big(1u << 20, 1, 2); /* 1 MiB: read */
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "big_fn");
	agent_libsyms_free();
	name = find_big(16u << 20, 1, 2); /* 16 MiB: still read */
	ck_assert_ptr_nonnull(name);
	agent_libsyms_free();
	/* Over 16 MiB: not read at all. */
	ck_assert_ptr_null(find_big((16u << 20) + sizeof(Elf64_Sym), 1, 2));
	agent_libsyms_free();
}
END_TEST

START_TEST(test_malformed)
{
	/* A name past the strings, a link past the sections. */
	ck_assert_ptr_null(find_big(2 * sizeof(Elf64_Sym), 100, 2));
	agent_libsyms_free();
	ck_assert_ptr_null(find_big(2 * sizeof(Elf64_Sym), 1, 7));
	agent_libsyms_free();
	/* Not an ELF file; a file cut short of its section headers. */
	ck_assert_ptr_null(
	    agent_libsyms_find("/proc/self/status", 0x1000, 0x2000, NULL));
	agent_libsyms_free();
	{
		char path[] = "/tmp/check_libsyms.XXXXXX";
		int fd = mkostemp(path, O_CLOEXEC);
		Elf64_Ehdr eh;

		ck_assert_int_ge(fd, 0);
		memset(&eh, 0, sizeof(eh));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_shoff = 1u << 30;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 3;
		ck_assert_int_eq(write(fd, &eh, sizeof(eh)), sizeof(eh));
		close(fd);
		ck_assert_ptr_null(
		    agent_libsyms_find(path, 0x1000, 0x2000, NULL));
		unlink(path);
	}
	agent_libsyms_free();
}
END_TEST

CHECK_MAIN(CHECK_SUITE("libsyms", test_static_function, test_sixteen_libraries,
		       test_table_bound, test_malformed))
