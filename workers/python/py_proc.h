/*
 * A Python process: where its runtime is, which layout it uses, and how
 * its threads map to host thread ids. Found from /proc/PID/maps and the
 * ELF symbols of libpython or the executable, with a validated scan of
 * the data sections for stripped binaries.
 */
#ifndef PROFD_PY_PROC_H
#define PROFD_PY_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "py_mem.h"
#include "py_versions.h"

#define PYPROC_ERR_MAX	   128
#define PYPROC_MAX_TASKS   1024	       /* threads mapped per process */
#define PYPROC_MAX_MAPS	   65536       /* lines of /proc/PID/maps read */
#define PYPROC_SCAN_BYTES  (16u << 20) /* data scanned for the runtime */
#define PYPROC_SCAN_PROBES 4096	       /* candidates validated by the scan */

struct pytask {
	pid_t pt_nstid; /* thread id in the process's namespace */
	pid_t pt_tid;	/* on the host */
};

struct pyproc {
	pid_t pp_pid;	   /* host PID (what process_vm_readv takes) */
	pid_t pp_nspid;	   /* PID in its own namespace */
	uint64_t pp_start; /* start time in clock ticks (PID reuse) */
	uint32_t pp_gen;   /* unique per attach: cache keys */
	char pp_comm[32];
	char pp_container[64];
	char pp_appid[256];
	struct py_layout pp_layout;
	uint64_t pp_runtime;   /* address of _PyRuntime */
	uint64_t pp_code_type; /* address of PyCode_Type; 0 unknown */
	uint64_t pp_str_type;  /* address of PyUnicode_Type; 0 unknown */
	struct pymem pp_mem;
	int pp_tid_off;		 /* TID in glibc's struct pthread: -1 unknown */
	struct pytask *pp_tasks; /* ns TID -> host TID, containers only */
	size_t pp_ntasks;
	int64_t pp_tasks_ms; /* when pp_tasks was read */
};

/* Returns 1 when the maps of pid show a CPython (libpython3.x or a
 * python3 executable), else 0. */
int pyproc_is_python(pid_t pid);
/* Attaches to pid: finds the runtime and its layout. 0, or -1 with a
 * short reason in err ("not a Python process", "unsupported Python
 * version 3.7", ...). The process is never stopped. */
int pyproc_attach(struct pyproc *p, pid_t pid, char *err, size_t errlen);
/* Releases what attach allocated. */
void pyproc_detach(struct pyproc *p);
/* Returns 1 if the attached process still runs (same start time). */
int pyproc_alive(const struct pyproc *p);
/* Host TID of the thread whose native (namespace) TID is nstid, or -1. */
pid_t pyproc_host_tid(struct pyproc *p, pid_t nstid);
/* Returns 1 when host thread tid belongs to p, else 0. */
int pyproc_tid_exists(const struct pyproc *p, pid_t tid);
/* Returns 1 when thread tid of p is running (state R), else 0. */
int pyproc_running(const struct pyproc *p, pid_t tid);
/* Reads the CPU time of pid in clock ticks (utime + stime); 0 or -1. */
int pyproc_cpu(pid_t pid, uint64_t *cpu);
/* Validates that runtime address rt leads through an interpreter to a
 * thread state pointing back at it. 1 yes, 0 no. */
int pyproc_valid_runtime(struct pyproc *p, uint64_t rt);

#endif
