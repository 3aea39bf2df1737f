/*
 * DWARF unwinding of sampled user stacks with libdwfl.
 *
 * Each followed process that has a sample unwound gets a Dwfl whose
 * modules are its file-backed executable mappings, reported by address
 * only: a file is opened (through the process's root, and only if it is
 * still the file mapped) the first time the unwinder needs its CFI, and
 * libdw keeps what it parsed for the Dwfl's life. The thread callbacks
 * serve the one sampled thread: its registers and its copied stack; a read
 * outside the copy falls back to the bytes of the mapped file.
 */
#include "config.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <asm/perf_regs.h>
#endif

#include "log.h"
#include "perf_unwind.h"
#include "procfs.h"

/* A file a module of a Dwfl stands for: opened by find_elf. */
struct uw_file {
	uint32_t uf_pid;
	uint64_t uf_dev, uf_ino;
	char uf_path[];
};

/* One process's Dwfl. */
struct uw_proc {
	uint32_t up_pid; /* 0: a free slot */
	uint64_t up_gen; /* of the mappings it was built from */
	uint64_t up_used;
	Dwfl *up_dwfl;
	struct uw_file **up_files;
	size_t up_nfiles;
	struct perf_unwind *up_u;
};

struct perf_unwind {
	struct uw_proc uw_procs[PERF_UNWIND_MAX_PROCS];
	uint64_t uw_tick;
	Elf *uw_arch; /* an ELF header of this machine, for the backend */
	char uw_ehdr[sizeof(Elf64_Ehdr)];
	const struct perf_unwind_sample *uw_cur; /* during one unwind */
	uint64_t *uw_ips;
	size_t uw_n, uw_max;
	int uw_missed; /* a read neither the copy nor a file could serve */
	struct perf_unwind_stats uw_st;
};

#if defined(__x86_64__)
#define UW_NREGS   17 /* DWARF registers 0..16 of x86_64 */
#define UW_MACHINE EM_X86_64
/* The sample's registers come in the order of their bits in the mask:
 * ax bx cx dx si di bp sp ip r8..r15; DWARF numbers them ax dx cx bx si
 * di bp sp r8..r15 and the return address (ip) as 16. */
static const uint8_t uw_dwarf_from_sample[UW_NREGS] = {
    0, 3, 2, 1, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 8};
#define UW_SAMPLE_SP 7
#define UW_SAMPLE_IP 8

uint64_t
perf_unwind_regs_mask(void)
{
	uint64_t m = 0;

	for (int r = PERF_REG_X86_AX; r <= PERF_REG_X86_IP; r++)
		m |= 1ull << r;
	for (int r = PERF_REG_X86_R8; r <= PERF_REG_X86_R15; r++)
		m |= 1ull << r;
	return m;
}
#else
#define UW_NREGS     1
#define UW_MACHINE   EM_NONE
#define UW_SAMPLE_SP 0
#define UW_SAMPLE_IP 0
static const uint8_t uw_dwarf_from_sample[UW_NREGS] = {0};

uint64_t
perf_unwind_regs_mask(void)
{
	return 0;
}
#endif

size_t
perf_unwind_nregs(void)
{
	return UW_NREGS;
}

static uint64_t
uw_reg(const struct perf_unwind_sample *s, size_t i)
{
	uint64_t v;

	memcpy(&v, s->us_regs + i * 8, 8);
	return v;
}

/* ---- files ------------------------------------------------------------- */

/* Opens f as its process sees it if it is still the file mapped, else the
 * host's file of that path if that is the same (dev, ino). */
static int
uw_open(const struct uw_file *f)
{
	struct stat st;
	int fd;

	if ((fd = procfs_open_in_root((pid_t)f->uf_pid, NULL, f->uf_path, 0)) !=
	    -1) {
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == f->uf_ino)
			return fd;
		close(fd);
		return -1;
	}
	if ((fd = procfs_open_regular(f->uf_path)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == f->uf_dev &&
	    (uint64_t)st.st_ino == f->uf_ino)
		return fd;
	close(fd);
	return -1;
}

/* libdwfl's find_elf: the module's file, mapped whole by libelf so that
 * its fd is closed at once (no fd is held per module). */
static int
uw_find_elf(Dwfl_Module *mod, void **userdata, const char *name,
	    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	const struct uw_file *f = *userdata;
	int fd;

	(void)mod;
	(void)name;
	(void)base;
	(void)file_name;
	*elfp = NULL;
	if (f == NULL || (fd = uw_open(f)) == -1)
		return -1;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (*elfp != NULL && elf_cntl(*elfp, ELF_C_FDREAD) != 0) {
		elf_end(*elfp);
		*elfp = NULL;
	}
	close(fd);
	return -1;
}

/* No separate debug files: the CFI of .eh_frame (or .debug_frame in the
 * file itself) is what unwinding uses. */
static int
uw_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name,
		  Dwarf_Addr base, const char *file_name, const char *debuglink,
		  GElf_Word crc, char **debug_name)
{
	(void)mod;
	(void)userdata;
	(void)name;
	(void)base;
	(void)file_name;
	(void)debuglink;
	(void)crc;
	(void)debug_name;
	return -1;
}

static const Dwfl_Callbacks uw_callbacks = {
    .find_elf = uw_find_elf,
    .find_debuginfo = uw_find_debuginfo,
};

/* ---- thread callbacks: the sampled thread only ------------------------- */

static pid_t
uw_next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	struct uw_proc *p = arg;

	(void)dwfl;
	if (*thread_arg != NULL)
		return 0;
	*thread_arg = p;
	return (pid_t)p->up_u->uw_cur->us_tid;
}

static bool
uw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	struct uw_proc *p = arg;

	(void)dwfl;
	*thread_arg = p;
	return (uint32_t)tid == p->up_u->uw_cur->us_tid;
}

/* A word of the mapped file at addr, for what is outside the stack copy. */
static bool
uw_read_file(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
	Dwarf_Addr bias;
	Elf *elf = mod != NULL ? dwfl_module_getelf(mod, &bias) : NULL;
	size_t nph, size;
	char *raw = elf != NULL ? elf_rawfile(elf, &size) : NULL;

	if (raw == NULL || elf_getphdrnum(elf, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint64_t va = addr - bias;

		if (gelf_getphdr(elf, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD || va < ph.p_vaddr ||
		    va + 8 > ph.p_vaddr + ph.p_filesz ||
		    ph.p_offset + (va - ph.p_vaddr) + 8 > size)
			continue;
		memcpy(result, raw + ph.p_offset + (va - ph.p_vaddr), 8);
		return true;
	}
	return false;
}

static bool
uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct uw_proc *p = arg;
	const struct perf_unwind_sample *s = p->up_u->uw_cur;
	uint64_t sp = uw_reg(s, UW_SAMPLE_SP);

	if (addr >= sp && addr - sp <= s->us_len &&
	    s->us_len - (addr - sp) >= 8) {
		memcpy(result, s->us_stack + (addr - sp), 8);
		return true;
	}
	if (uw_read_file(dwfl, addr, result))
		return true;
	p->up_u->uw_missed = 1;
	return false;
}

static bool
uw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct uw_proc *p = arg;
	const struct perf_unwind_sample *s = p->up_u->uw_cur;
	Dwarf_Word regs[UW_NREGS];

	for (size_t i = 0; i < UW_NREGS; i++)
		regs[i] = uw_reg(s, uw_dwarf_from_sample[i]);
	if (!dwfl_thread_state_registers(thread, 0, UW_NREGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, uw_reg(s, UW_SAMPLE_IP));
	return true;
}

static const Dwfl_Thread_Callbacks uw_thread_callbacks = {
    .next_thread = uw_next_thread,
    .get_thread = uw_get_thread,
    .memory_read = uw_memory_read,
    .set_initial_registers = uw_set_initial_registers,
};

/* ---- per-process Dwfls -------------------------------------------------- */

static void
uw_proc_drop(struct uw_proc *p)
{
	if (p->up_dwfl != NULL)
		dwfl_end(p->up_dwfl);
	for (size_t i = 0; i < p->up_nfiles; i++)
		free(p->up_files[i]);
	free(p->up_files);
	memset(p, 0, sizeof(*p));
}

/* Reports mapping m as a module (its first page at start - pgoff). */
static int
uw_report(struct uw_proc *p, const struct perf_unwind_map *m)
{
	size_t len = strlen(m->um_path);
	struct uw_file *f, **a;
	Dwfl_Module *mod;
	void **ud;

	if (m->um_path[0] != '/' || m->um_pgoff > m->um_start)
		return 0;
	if ((a = realloc(p->up_files, (p->up_nfiles + 1) * sizeof(*a))) == NULL)
		return -1;
	p->up_files = a;
	if ((f = malloc(sizeof(*f) + len + 1)) == NULL)
		return -1;
	*f = (struct uw_file){p->up_pid, m->um_dev, m->um_ino};
	memcpy(f->uf_path, m->um_path, len + 1);
	p->up_files[p->up_nfiles++] = f;
	mod = dwfl_report_module(p->up_dwfl, m->um_path,
				 m->um_start - m->um_pgoff, m->um_end);
	if (mod != NULL &&
	    dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL) !=
		NULL &&
	    *ud == NULL)
		*ud = f;
	return 0;
}

/* A new Dwfl for p over its mappings, attached to its sampled thread. */
static int
uw_proc_build(struct perf_unwind *u, struct uw_proc *p, uint32_t pid,
	      uint64_t gen, perf_unwind_map_fn maps, void *arg)
{
	struct perf_unwind_map m;

	uw_proc_drop(p);
	p->up_pid = pid;
	p->up_gen = gen;
	p->up_u = u;
	u->uw_st.ust_builds++;
	if ((p->up_dwfl = dwfl_begin(&uw_callbacks)) == NULL)
		return -1;
	dwfl_report_begin(p->up_dwfl);
	for (size_t i = 0; maps(arg, i, &m) == 0; i++)
		if (uw_report(p, &m) == -1)
			break;
	if (dwfl_report_end(p->up_dwfl, NULL, NULL) != 0 ||
	    !dwfl_attach_state(p->up_dwfl, u->uw_arch, (pid_t)pid,
			       &uw_thread_callbacks, p))
		return -1;
	return 0;
}

/* Returns pid's Dwfl, built (again) if its mappings changed; the least
 * recently used one makes room. */
static struct uw_proc *
uw_proc_get(struct perf_unwind *u, uint32_t pid, uint64_t gen,
	    perf_unwind_map_fn maps, void *arg)
{
	struct uw_proc *p = NULL, *lru = &u->uw_procs[0];

	for (size_t i = 0; i < PERF_UNWIND_MAX_PROCS; i++) {
		struct uw_proc *q = &u->uw_procs[i];

		if (q->up_pid == pid && q->up_dwfl != NULL) {
			p = q;
			break;
		}
		if (q->up_used < lru->up_used)
			lru = q;
	}
	if (p == NULL || p->up_gen != gen) {
		if (p == NULL)
			p = lru;
		if (uw_proc_build(u, p, pid, gen, maps, arg) == -1) {
			uw_proc_drop(p);
			return NULL;
		}
	}
	p->up_used = ++u->uw_tick;
	return p;
}

/* ---- unwinding ---------------------------------------------------------- */

static int
uw_frame(Dwfl_Frame *state, void *arg)
{
	struct perf_unwind *u = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL))
		return DWARF_CB_ABORT;
	u->uw_ips[u->uw_n++] = pc;
	return u->uw_n < u->uw_max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t
perf_unwind_sample(struct perf_unwind *u, const struct perf_unwind_sample *s,
		   uint64_t gen, perf_unwind_map_fn maps, void *arg,
		   uint64_t *ips, size_t max)
{
	struct uw_proc *p;
	int rv;

	if (max == 0 || s->us_regs == NULL)
		return 0;
	u->uw_st.ust_samples++;
	u->uw_cur = s;
	u->uw_ips = ips;
	u->uw_n = 0;
	u->uw_max = max;
	u->uw_missed = 0;
	p = uw_proc_get(u, s->us_pid, gen, maps, arg);
	rv = p != NULL ? dwfl_getthread_frames(p->up_dwfl, (pid_t)s->us_tid,
					       uw_frame, u)
		       : -1;
	/* A chain that stops early (an error, or libdwfl ended it at a read
	 * past the copy) keeps what it has: at least the sampled address. */
	if (u->uw_n == 0)
		ips[u->uw_n++] = uw_reg(s, UW_SAMPLE_IP);
	if ((rv == -1 || u->uw_missed) && u->uw_n < max)
		u->uw_st.ust_early++;
	u->uw_cur = NULL;
	return u->uw_n;
}

/* An ELF header of this machine (no sections, no segments): the backend
 * libdwfl picks for the thread state, without opening any file. */
static int
uw_arch_elf(struct perf_unwind *u)
{
	Elf64_Ehdr e = {0};

	if (UW_MACHINE == EM_NONE || elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOTSUP;
		return -1;
	}
	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS64;
	e.e_ident[EI_DATA] = ELFDATA2LSB;
	e.e_ident[EI_VERSION] = EV_CURRENT;
	e.e_type = ET_DYN;
	e.e_machine = UW_MACHINE;
	e.e_version = EV_CURRENT;
	e.e_ehsize = sizeof(e);
	memcpy(u->uw_ehdr, &e, sizeof(e));
	if ((u->uw_arch = elf_memory(u->uw_ehdr, sizeof(u->uw_ehdr))) == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

struct perf_unwind *
perf_unwind_new(void)
{
	struct perf_unwind *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	if (uw_arch_elf(u) == -1) {
		free(u);
		return NULL;
	}
	return u;
}

void
perf_unwind_free(struct perf_unwind *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < PERF_UNWIND_MAX_PROCS; i++)
		uw_proc_drop(&u->uw_procs[i]);
	elf_end(u->uw_arch);
	free(u);
}

void
perf_unwind_forget(struct perf_unwind *u, uint32_t pid)
{
	for (size_t i = 0; u != NULL && i < PERF_UNWIND_MAX_PROCS; i++)
		if (u->uw_procs[i].up_pid == pid)
			uw_proc_drop(&u->uw_procs[i]);
}

void
perf_unwind_stats(struct perf_unwind *u, struct perf_unwind_stats *st)
{
	*st = u->uw_st;
	st->ust_procs = 0;
	for (size_t i = 0; i < PERF_UNWIND_MAX_PROCS; i++)
		st->ust_procs += u->uw_procs[i].up_dwfl != NULL;
	memset(&u->uw_st, 0, sizeof(u->uw_st));
}
