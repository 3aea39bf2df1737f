/*
 * libFuzzer target: the CPython reader against synthetic memory images,
 * built by tests/pyimage.c as for tests/check_pyreader.c (<module> ->
 * main -> leaf for each supported layout). Bits 0-1 of byte 0 pick the mode:
 *   0, 1: walk the image of version ((byte0 >> 2) & 7) % NVERS after the
 *         rest of the input patched it: records of region (1 byte),
 *         offset (2 bytes, little-endian), length-1 (low 4 bits of 1
 *         byte) and that many bytes. Bit 5 of byte 0 trusts every type
 *         (as a reader without type checks would), bit 6 samples only the
 *         GIL holder;
 *   2:    the rest is a _Py_DebugOffsets block (3.13+): a layout it
 *         yields walks the 3.13 image;
 *   3:    the rest is a line table for each decoder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "py_code.h"
#include "py_sample.h"
#include "py_versions.h"
#include "pyimage.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REGION_LEN (64u << 10) /* an offset of the input reaches all */

/* Two threads: <module> -> main -> leaf, and main alone. */
static void
mk_image(const struct py_layout *l)
{
	uint64_t f0 = PYIMG_FR_BASE + 0x100, f1 = PYIMG_FR_BASE + 0x400,
		 f2 = PYIMG_FR_BASE + 0x800, f3 = PYIMG_FR_BASE + 0x1000,
		 ts2 = PYIMG_TSTATE + 0x1000;
	uint64_t co_main;

	pyimg_reset(REGION_LEN);
	co_main = pyimg_code(l, "main");
	pyimg_frame(l, f0, pyimg_code(l, "<module>"), 20, 0);
	pyimg_frame(l, f1, co_main, 12, f0);
	pyimg_frame(l, f2, pyimg_code(l, "leaf"), 16, f1);
	pyimg_frame(l, f3, co_main, 3, 0);
	pyimg_thread(l, PYIMG_TSTATE, f2, ts2);
	pyimg_thread(l, ts2, f3, 0);
}

/* Copies the image to or from b[PYIMG_NREG * REGION_LEN]. */
static void
img_copy(uint8_t *b, int save)
{
	for (size_t i = 0; i < PYIMG_NREG; i++)
		if (save)
			memcpy(b + i * REGION_LEN, pyimg[i].r_buf, REGION_LEN);
		else
			memcpy(pyimg[i].r_buf, b + i * REGION_LEN, REGION_LEN);
}

/* --- the versions, their images built once ---------------------------- */

#define NVERS 6 /* 3.8 .. 3.12 from the table, 3.13 from debug offsets */

static struct py_layout layouts[NVERS];
static uint8_t *pristine[NVERS];
static uint64_t start_time;
static int ready;

static void
init(void)
{
	static const uint32_t vers[NVERS - 1] = {
	    PYVER(3, 8), PYVER(3, 9), PYVER(3, 10), PYVER(3, 11), PYVER(3, 12)};
	uint8_t dbg[PY_DEBUG_MAX];

	for (size_t i = 0; i < NVERS - 1; i++) {
		if (pyver_table(vers[i]) == NULL)
			abort();
		layouts[i] = *pyver_table(vers[i]);
	}
	pyimg_debug(dbg, 0x030d00f0);
	if (pyver_from_debug(dbg, sizeof(dbg), &layouts[NVERS - 1]) != 0)
		abort();
	for (size_t i = 0; i < NVERS; i++) {
		mk_image(&layouts[i]);
		if ((pristine[i] = malloc(PYIMG_NREG * REGION_LEN)) == NULL)
			abort();
		img_copy(pristine[i], 1);
	}
	start_time = procfs_start_time(getpid());
	ready = 1;
}

/* Samples the image as a process with layout l, a few times. */
static void
walk(const struct py_layout *l, int trust_all, int gil)
{
	struct pyopts o = {.po_idle = 1, .po_gil = gil};
	struct pysampler s;
	struct pyproc *p;
	struct stack_table *t;

	if (pysampler_init(&s, &o) != 0 ||
	    (s.ps_targets = calloc(1, sizeof(*s.ps_targets))) == NULL ||
	    (t = stacks_new(16u << 20)) == NULL)
		abort();
	s.ps_ntargets = 1;
	s.ps_targets[0].pt_attached = 1;
	p = &s.ps_targets[0].pt_proc;
	p->pp_pid = p->pp_nspid = getpid();
	p->pp_start = start_time;
	p->pp_gen = 1;
	p->pp_layout = *l;
	p->pp_runtime = PYIMG_RT_BASE;
	p->pp_code_type = trust_all ? 0 : PYIMG_CODE_TYPE;
	p->pp_str_type = trust_all ? 0 : PYIMG_STR_TYPE;
	p->pp_tid_off = -2;
	snprintf(p->pp_comm, sizeof(p->pp_comm), "fake");
	p->pp_mem.pm_read = pyimg_read;
	for (int i = 0; i < 3; i++) /* the later ones hit the code cache */
		pysampler_tick(&s, t);
	pysampler_window_end(&s, t);
	pysampler_free(&s);
	stacks_free(t);
}

static void
patch_and_walk(const uint8_t *d, size_t n, unsigned v, int trust_all, int gil)
{
	img_copy(pristine[v], 0);
	while (n >= 4) {
		size_t r = d[0] % PYIMG_NREG,
		       off = (size_t)d[1] | (size_t)d[2] << 8,
		       len = (size_t)(d[3] & 15) + 1;

		d += 4, n -= 4;
		if (len > n)
			len = n;
		if (off + len > REGION_LEN)
			len = REGION_LEN - off;
		memcpy(pyimg[r].r_buf + off, d, len);
		d += len, n -= len;
	}
	walk(&layouts[v], trust_all, gil);
}

static void
debug_offsets(const uint8_t *d, size_t n)
{
	struct py_layout l;

	if (pyver_from_debug(d, n, &l) != 0)
		return;
	img_copy(pristine[NVERS - 1], 0);
	walk(&l, 0, 0);
}

static void
line_tables(const uint8_t *d, size_t n)
{
	int first;
	int64_t off;

	if (n < 4)
		return;
	first = (int)(d[0] | d[1] << 8) - 1000;
	off = (int64_t)(d[2] | d[3] << 8) - 100;
	pycode_line_lnotab(d + 4, n - 4, first, off);
	pycode_line_310(d + 4, n - 4, first, off);
	pycode_line_311(d + 4, n - 4, first, off);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		init();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
	case 1:
		patch_and_walk(data + 1, size - 1, ((data[0] >> 2) & 7) % NVERS,
			       (data[0] >> 5) & 1, (data[0] >> 6) & 1);
		break;
	case 2:
		debug_offsets(data + 1, size - 1);
		break;
	case 3:
		line_tables(data + 1, size - 1);
		break;
	}
	return 0;
}
