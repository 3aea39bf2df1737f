/* The few ELF facts needed to find CPython's runtime in a binary. */
#ifndef PROFD_PY_ELF_H
#define PROFD_PY_ELF_H

#include <stdint.h>

#define PYELF_MAX_STRTAB (8u << 20) /* bytes of a string table read */
#define PYELF_MAX_SYMS	 (1u << 21) /* symbols examined in one table */

enum pyelf_sym {
	PYSYM_RUNTIME,	 /* _PyRuntime */
	PYSYM_VERSION,	 /* Py_Version (3.11+) */
	PYSYM_CODE_TYPE, /* PyCode_Type */
	PYSYM_STR_TYPE,	 /* PyUnicode_Type */
	PYSYM_COUNT,
};

struct pyelf_range {
	uint64_t er_addr; /* link-time address; 0 when absent */
	uint64_t er_size;
};

struct pyelf {
	uint64_t pe_load_bias;	      /* first PT_LOAD's p_vaddr aligned down */
	uint64_t pe_sym[PYSYM_COUNT]; /* link-time addresses; 0: absent */
	struct pyelf_range pe_pyruntime; /* section .PyRuntime */
	struct pyelf_range pe_data;	 /* section .data */
	struct pyelf_range pe_bss;	 /* section .bss */
};

/* Reads the ELF file open on fd (a regular file; the caller opens it, see
 * procfs_open_in_root, and closes it): load bias, the symbols of enum
 * pyelf_sym from .dynsym and .symtab, and the sections used by the fallback
 * scan. 0, or -1 with errno (ENOEXEC: not a 64-bit little-endian ELF). */
int pyelf_read(int fd, struct pyelf *e);

#endif
