/*
 * CPython layouts: every per-version offset in one table (py_versions.c).
 * 3.8 to 3.12 come from measured tables; 3.13 and later are read from the
 * _Py_DebugOffsets block at the start of _PyRuntime, whose own layout is
 * one entry per group of versions.
 */
#ifndef PROFD_PY_VERSIONS_H
#define PROFD_PY_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

/* How frames are chained. */
enum py_walk {
	PYWALK_FRAMEOBJ, /* 3.8-3.10: tstate->frame, PyFrameObject.f_back */
	PYWALK_CFRAME,	 /* 3.11-3.12: tstate->cframe->current_frame */
	PYWALK_IFRAME,	 /* 3.13+: tstate->current_frame */
};

/* How line numbers are encoded. */
enum py_lines {
	PYLINES_LNOTAB,	   /* 3.8-3.9: co_lnotab, f_lasti in bytes */
	PYLINES_LINES310,  /* 3.10: co_linetable pairs, f_lasti in units */
	PYLINES_LOCATIONS, /* 3.11+: co_linetable location entries */
};

/* Where the GIL holder is found. */
enum py_gil {
	PYGIL_TSTATE_CURRENT, /* _PyRuntime.gilstate.tstate_current */
	PYGIL_INTERP,	      /* interp->ceval.gil -> locked, last_holder */
};

struct py_layout {
	uint32_t pl_version; /* 0x030800 etc.: major, minor, patch bytes */
	enum py_walk pl_walk;
	enum py_lines pl_lines;
	enum py_gil pl_gil;
	/* _PyRuntime */
	uint32_t pl_rt_interp_head;
	uint32_t pl_rt_tstate_current; /* PYGIL_TSTATE_CURRENT */
	/* PyInterpreterState */
	uint32_t pl_is_threads_head;
	uint32_t pl_is_gil;	/* PYGIL_INTERP: the gil pointer */
	uint32_t pl_gil_locked; /* in _gil_runtime_state */
	uint32_t pl_gil_holder; /* in _gil_runtime_state */
	/* PyThreadState */
	uint32_t pl_ts_next;
	uint32_t pl_ts_interp;
	uint32_t pl_ts_frame;	   /* frame, cframe or current_frame */
	uint32_t pl_cf_current;	   /* _PyCFrame.current_frame */
	uint32_t pl_ts_thread_id;  /* pthread_t */
	uint32_t pl_ts_native_tid; /* 0: absent (before 3.11) */
	uint32_t pl_ts_size;	   /* bytes read of a thread state */
	/* Frames: PyFrameObject or _PyInterpreterFrame */
	uint32_t pl_fr_back;
	uint32_t pl_fr_code;
	uint32_t pl_fr_lasti; /* int f_lasti, or the instruction pointer */
	uint32_t pl_fr_owner; /* 0: no owner field */
	uint32_t pl_fr_size;  /* bytes read of a frame */
	/* PyCodeObject */
	uint32_t pl_co_firstlineno;
	uint32_t pl_co_filename;
	uint32_t pl_co_name;
	uint32_t pl_co_qualname; /* 0: absent (before 3.11) */
	uint32_t pl_co_linetable;
	uint32_t pl_co_code; /* co_code_adaptive; 0 before 3.11 */
	uint32_t pl_co_size; /* bytes read of a code object */
	/* str and bytes */
	uint32_t pl_str_ascii;	 /* sizeof(PyASCIIObject) */
	uint32_t pl_str_compact; /* sizeof(PyCompactUnicodeObject) */
	uint32_t pl_bytes_size;	 /* ob_size */
	uint32_t pl_bytes_data;	 /* ob_sval */
};

#define PYVER(maj, min) (((uint32_t)(maj) << 16) | ((uint32_t)(min) << 8))
#define PYVER_MINOR(v)	((v)&0xffff00u)
#define PY_DEBUG_COOKIE "xdebugpy"
#define PY_DEBUG_MAX	1024 /* bytes of _Py_DebugOffsets read */

/* Returns the table layout for version v (patch ignored), or NULL. 3.13
 * and later are not in the table: see pyver_from_debug. */
const struct py_layout *pyver_table(uint32_t v);
/* Fills *l from a _Py_DebugOffsets block buf[0..len) (3.13+). 0, or -1
 * when the cookie, version or any offset is wrong. */
int pyver_from_debug(const uint8_t *buf, size_t len, struct py_layout *l);
/* Converts PY_VERSION_HEX (0x030d00f0) into our form (0x030d00). */
uint32_t pyver_from_hex(uint64_t hex);
/* Formats version v as "3.13" into buf. */
void pyver_name(uint32_t v, char *buf, size_t len);

#endif
