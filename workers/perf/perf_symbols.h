/*
 * Symbols for the native engine: kernel symbols from /proc/kallsyms in one
 * sorted array, and the function symbols of ELF files read with elfutils'
 * libelf (.symtab, else that of the separate debug file found by build-id
 * with libdw's dwelf, else .dynsym) in a cache keyed by the file's
 * (device, inode), shared by every process that maps it.
 */
#ifndef PROFD_PERF_SYMBOLS_H
#define PROFD_PERF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#define PERF_KSYMS_MAX	     (1u << 20)	 /* kernel symbols kept */
#define PERF_KSYMS_MAX_BYTES (32u << 20) /* bytes of their names */
#define PERF_SYMS_MAX_FILES  128	 /* ELF files held open */
#define PERF_SYMS_MAX_BYTES  (32u << 20) /* bytes of their symbol indexes */
/* A file not looked up in this many windows, nor for this long, is
 * dropped: the cache follows the files in use, not every file the host
 * ever ran. */
#define PERF_SYMS_IDLE_WINDOWS 3
#define PERF_SYMS_IDLE_MS      30000

struct perf_ksyms;
struct perf_symcache;

/* Loads the text symbols of /proc/kallsyms; NULL (logged once) when it
 * cannot be read or shows only zero addresses (no CAP_SYSLOG). */
struct perf_ksyms *perf_ksyms_load(void);
/* Frees the table; NULL is allowed. */
void perf_ksyms_free(struct perf_ksyms *k);
/* Returns the kernel symbol containing addr, or NULL; *module is set to
 * its module's name, or NULL for the kernel image. */
const char *perf_ksyms_lookup(const struct perf_ksyms *k, uint64_t addr,
			      const char **module);

/* Returns an empty cache bounded by PERF_SYMS_MAX_FILES and
 * PERF_SYMS_MAX_BYTES, or NULL. */
struct perf_symcache *perf_symcache_new(void);
/* Frees the cache and closes its files; NULL is allowed. */
void perf_symcache_free(struct perf_symcache *c);
/* Returns the name of the symbol at file offset off of the file (dev, ino)
 * mapped by pid as path, opening it through pid's root the first time (the
 * host's path when pid is gone and the file there is the same); NULL when
 * there is no symbol there or the file cannot be read. The name is valid
 * until the next call. */
const char *perf_symcache_lookup(struct perf_symcache *c, uint32_t pid,
				 const char *path, uint64_t dev, uint64_t ino,
				 uint64_t off);
/* Ends a window at time now (ms): drops the files idle for
 * PERF_SYMS_IDLE_WINDOWS windows and PERF_SYMS_IDLE_MS; returns how many. */
size_t perf_symcache_window(struct perf_symcache *c, int64_t now);
/* Returns the files held and their estimated bytes. */
void perf_symcache_usage(const struct perf_symcache *c, size_t *files,
			 size_t *bytes);

#endif
