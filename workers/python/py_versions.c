/*
 * CPython layouts. Offsets measured with offsetof() against the headers of
 * each pyenv build (x86-64, default build with the GIL) and confirmed by
 * walking live processes; see tests/test_python_standalone.sh.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "py_mem.h"
#include "py_versions.h"

/* Fields common to a group of versions. */
#define LAYOUT_38_310                                                          \
	.pl_walk = PYWALK_FRAMEOBJ, .pl_gil = PYGIL_TSTATE_CURRENT,            \
	.pl_rt_interp_head = 32, .pl_is_threads_head = 8, .pl_ts_next = 8,     \
	.pl_ts_interp = 16, .pl_ts_frame = 24, .pl_ts_thread_id = 176,         \
	.pl_ts_size = 184, .pl_fr_back = 24, .pl_fr_code = 32,                 \
	.pl_co_firstlineno = 40, .pl_co_filename = 104, .pl_co_name = 112,     \
	.pl_co_linetable = 120, .pl_co_size = 128, .pl_str_ascii = 48,         \
	.pl_str_compact = 72, .pl_bytes_size = 16, .pl_bytes_data = 32

static const struct py_layout py_table[] = {
    {
	.pl_version = PYVER(3, 8),
	LAYOUT_38_310,
	.pl_lines = PYLINES_LNOTAB,
	.pl_rt_tstate_current = 1368,
	.pl_fr_lasti = 104,
	.pl_fr_size = 112,
    },
    {
	.pl_version = PYVER(3, 9),
	LAYOUT_38_310,
	.pl_lines = PYLINES_LNOTAB,
	.pl_rt_tstate_current = 568,
	.pl_fr_lasti = 104,
	.pl_fr_size = 112,
    },
    {
	.pl_version = PYVER(3, 10),
	LAYOUT_38_310,
	.pl_lines = PYLINES_LINES310,
	.pl_rt_tstate_current = 568,
	.pl_fr_lasti = 96,
	.pl_fr_size = 104,
    },
    {
	.pl_version = PYVER(3, 11),
	.pl_walk = PYWALK_CFRAME,
	.pl_lines = PYLINES_LOCATIONS,
	.pl_gil = PYGIL_TSTATE_CURRENT,
	.pl_rt_interp_head = 40,
	.pl_rt_tstate_current = 576,
	.pl_is_threads_head = 16,
	.pl_ts_next = 8,
	.pl_ts_interp = 16,
	.pl_ts_frame = 56,
	.pl_cf_current = 8,
	.pl_ts_thread_id = 152,
	.pl_ts_native_tid = 160,
	.pl_ts_size = 168,
	.pl_fr_back = 48,
	.pl_fr_code = 32,
	.pl_fr_lasti = 56,
	.pl_fr_owner = 69,
	.pl_fr_size = 72,
	.pl_co_firstlineno = 72,
	.pl_co_filename = 112,
	.pl_co_name = 120,
	.pl_co_qualname = 128,
	.pl_co_linetable = 136,
	.pl_co_code = 184,
	.pl_co_size = 184,
	.pl_str_ascii = 48,
	.pl_str_compact = 72,
	.pl_bytes_size = 16,
	.pl_bytes_data = 32,
    },
    {
	.pl_version = PYVER(3, 12),
	.pl_walk = PYWALK_CFRAME,
	.pl_lines = PYLINES_LOCATIONS,
	.pl_gil = PYGIL_INTERP,
	.pl_rt_interp_head = 40,
	.pl_is_threads_head = 72,
	.pl_is_gil = 384,
	.pl_gil_locked = 16,
	.pl_gil_holder = 8,
	.pl_ts_next = 8,
	.pl_ts_interp = 16,
	.pl_ts_frame = 56,
	.pl_cf_current = 0,
	.pl_ts_thread_id = 136,
	.pl_ts_native_tid = 144,
	.pl_ts_size = 152,
	.pl_fr_back = 8,
	.pl_fr_code = 0,
	.pl_fr_lasti = 56,
	.pl_fr_owner = 70,
	.pl_fr_size = 72,
	.pl_co_firstlineno = 68,
	.pl_co_filename = 112,
	.pl_co_name = 120,
	.pl_co_qualname = 128,
	.pl_co_linetable = 136,
	.pl_co_code = 192,
	.pl_co_size = 192,
	.pl_str_ascii = 40,
	.pl_str_compact = 56,
	.pl_bytes_size = 16,
	.pl_bytes_data = 32,
    },
};

/*
 * Where each offset we use sits inside _Py_DebugOffsets (bytes from its
 * start), for each group of versions sharing that block's layout. The
 * values found there are offsets into the runtime's own structures.
 */
struct py_debug_group {
	uint32_t dg_first, dg_last; /* versions covered, inclusive */
	uint32_t dg_rt_interp_head;
	uint32_t dg_is_threads_head, dg_is_gil, dg_is_gil_state;
	uint32_t dg_is_gil_locked, dg_is_gil_holder;
	uint32_t dg_ts_next, dg_ts_interp, dg_ts_frame, dg_ts_thread_id;
	uint32_t dg_ts_native_tid;
	uint32_t dg_fr_back, dg_fr_code, dg_fr_ip, dg_fr_owner;
	uint32_t dg_co_filename, dg_co_name, dg_co_qualname, dg_co_linetable;
	uint32_t dg_co_firstlineno, dg_co_code;
	uint32_t dg_bytes_size, dg_bytes_data, dg_str_ascii;
	uint32_t dg_size; /* bytes of _Py_DebugOffsets */
};

static const struct py_debug_group py_debug_groups[] = {
    {
	.dg_first = PYVER(3, 13),
	.dg_last = PYVER(3, 13),
	.dg_rt_interp_head = 40,
	.dg_is_threads_head = 72,
	.dg_is_gil = 112,
	.dg_is_gil_state = 120,
	.dg_is_gil_locked = 136,
	.dg_is_gil_holder = 144,
	.dg_ts_next = 168,
	.dg_ts_interp = 176,
	.dg_ts_frame = 184,
	.dg_ts_thread_id = 192,
	.dg_ts_native_tid = 200,
	.dg_fr_back = 232,
	.dg_fr_code = 240,
	.dg_fr_ip = 248,
	.dg_fr_owner = 264,
	.dg_co_filename = 280,
	.dg_co_name = 288,
	.dg_co_qualname = 296,
	.dg_co_linetable = 304,
	.dg_co_firstlineno = 312,
	.dg_co_code = 344,
	.dg_bytes_size = 520,
	.dg_bytes_data = 528,
	.dg_str_ascii = 560,
	.dg_size = 584,
    },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_OFF	 65536 /* no structure field we read lies further */

const struct py_layout *
pyver_table(uint32_t v)
{
	for (size_t i = 0; i < NELEM(py_table); i++)
		if (py_table[i].pl_version == PYVER_MINOR(v))
			return &py_table[i];
	return NULL;
}

uint32_t
pyver_from_hex(uint64_t hex)
{
	return (uint32_t)((hex >> 8) & 0xffffffu);
}

void
pyver_name(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff);
}

static const struct py_debug_group *
pyver_group(uint32_t v)
{
	for (size_t i = 0; i < NELEM(py_debug_groups); i++)
		if (PYVER_MINOR(v) >= py_debug_groups[i].dg_first &&
		    PYVER_MINOR(v) <= py_debug_groups[i].dg_last)
			return &py_debug_groups[i];
	return NULL;
}

/* Reads the offset at position pos of the block; -1 when absurd. */
static int
debug_off(const uint8_t *buf, uint32_t pos, uint32_t *out)
{
	uint64_t v = pymem_u64(buf, pos);

	if (v >= MAX_OFF)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
debug_fill(const uint8_t *b, const struct py_debug_group *g,
	   struct py_layout *l)
{
	uint32_t gil_state = 0, locked = 0, holder = 0;
	int bad = 0;

	bad |= debug_off(b, g->dg_rt_interp_head, &l->pl_rt_interp_head);
	bad |= debug_off(b, g->dg_is_threads_head, &l->pl_is_threads_head);
	bad |= debug_off(b, g->dg_is_gil, &l->pl_is_gil);
	bad |= debug_off(b, g->dg_is_gil_state, &gil_state);
	bad |= debug_off(b, g->dg_is_gil_locked, &locked);
	bad |= debug_off(b, g->dg_is_gil_holder, &holder);
	bad |= debug_off(b, g->dg_ts_next, &l->pl_ts_next);
	bad |= debug_off(b, g->dg_ts_interp, &l->pl_ts_interp);
	bad |= debug_off(b, g->dg_ts_frame, &l->pl_ts_frame);
	bad |= debug_off(b, g->dg_ts_thread_id, &l->pl_ts_thread_id);
	bad |= debug_off(b, g->dg_ts_native_tid, &l->pl_ts_native_tid);
	bad |= debug_off(b, g->dg_fr_back, &l->pl_fr_back);
	bad |= debug_off(b, g->dg_fr_code, &l->pl_fr_code);
	bad |= debug_off(b, g->dg_fr_ip, &l->pl_fr_lasti);
	bad |= debug_off(b, g->dg_fr_owner, &l->pl_fr_owner);
	bad |= debug_off(b, g->dg_co_filename, &l->pl_co_filename);
	bad |= debug_off(b, g->dg_co_name, &l->pl_co_name);
	bad |= debug_off(b, g->dg_co_qualname, &l->pl_co_qualname);
	bad |= debug_off(b, g->dg_co_linetable, &l->pl_co_linetable);
	bad |= debug_off(b, g->dg_co_firstlineno, &l->pl_co_firstlineno);
	bad |= debug_off(b, g->dg_co_code, &l->pl_co_code);
	bad |= debug_off(b, g->dg_bytes_size, &l->pl_bytes_size);
	bad |= debug_off(b, g->dg_bytes_data, &l->pl_bytes_data);
	bad |= debug_off(b, g->dg_str_ascii, &l->pl_str_ascii);
	if (bad || locked < gil_state || holder < gil_state)
		return -1;
	l->pl_gil_locked = locked - gil_state;
	l->pl_gil_holder = holder - gil_state;
	return 0;
}

/* The sizes we read of each structure: past the furthest field used. */
static int
debug_sizes(struct py_layout *l)
{
	uint32_t ts = l->pl_ts_native_tid > l->pl_ts_frame ? l->pl_ts_native_tid
							   : l->pl_ts_frame;
	uint32_t fr = l->pl_fr_back;
	uint32_t co = l->pl_co_code;

	if (l->pl_ts_next > ts)
		ts = l->pl_ts_next;
	if (l->pl_ts_thread_id > ts)
		ts = l->pl_ts_thread_id;
	if (l->pl_ts_interp > ts)
		ts = l->pl_ts_interp;
	if (l->pl_fr_code > fr)
		fr = l->pl_fr_code;
	if (l->pl_fr_lasti > fr)
		fr = l->pl_fr_lasti;
	if (l->pl_fr_owner > fr)
		fr = l->pl_fr_owner;
	l->pl_ts_size = ts + 8;
	l->pl_fr_size = fr + 8;
	l->pl_co_size = co;
	l->pl_str_compact = l->pl_str_ascii + 16;
	/* Every field of the code object read lies below co_code_adaptive,
	 * its type too; a str's header (type, length, state) below its
	 * ASCII data. */
	return co >= 16 && l->pl_str_ascii >= 40 &&
		       l->pl_co_filename + 8 <= co && l->pl_co_name + 8 <= co &&
		       l->pl_co_qualname + 8 <= co &&
		       l->pl_co_linetable + 8 <= co &&
		       l->pl_co_firstlineno + 4 <= co &&
		       l->pl_ts_size <= 4096 && l->pl_fr_size <= 4096 &&
		       co <= 4096
		   ? 0
		   : -1;
}

int
pyver_from_debug(const uint8_t *buf, size_t len, struct py_layout *l)
{
	const struct py_debug_group *g;
	uint32_t v;

	if (len < 24 || memcmp(buf, PY_DEBUG_COOKIE, 8) != 0)
		return -1;
	v = pyver_from_hex(pymem_u64(buf, 8));
	if ((g = pyver_group(v)) == NULL || len < g->dg_size ||
	    pymem_u64(buf, 16) != 0) /* free-threaded builds: not yet */
		return -1;
	memset(l, 0, sizeof(*l));
	l->pl_version = v;
	l->pl_walk = PYWALK_IFRAME;
	l->pl_lines = PYLINES_LOCATIONS;
	l->pl_gil = PYGIL_INTERP;
	if (debug_fill(buf, g, l) == -1 || debug_sizes(l) == -1)
		return -1;
	return 0;
}
