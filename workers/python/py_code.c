/* Code objects, strings and line tables of a remote CPython. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "py_code.h"

#define STR_HDR_MAX 128 /* bytes of a str header read */

/* --- strings --------------------------------------------------------- */

static size_t
utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	if (c > 0x10ffff)
		c = 0xfffd;
	if (c > 0xffff && c <= 0x10ffff) {
		out[0] = (char)(0xf0 | (c >> 18));
		out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[3] = (char)(0x80 | (c & 0x3f));
		return 4;
	}
	return utf8_put(out, c);
}

/* Converts n characters of kind (1, 2 or 4 bytes) to UTF-8 in buf. */
static void
str_to_utf8(const uint8_t *raw, size_t n, unsigned kind, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < len; i++) {
		uint32_t c = kind == 1	 ? raw[i]
			     : kind == 2 ? (uint32_t)raw[2 * i] |
					       (uint32_t)raw[2 * i + 1] << 8
					 : pymem_u32(raw, 4 * i);

		if (c < 0x20)
			c = '?'; /* no control characters in frame names */
		o += utf8_put(buf + o, c);
	}
	buf[o] = '\0';
}

int
pycode_string(struct pyproc *p, uint64_t addr, char *buf, size_t len,
	      size_t max)
{
	const struct py_layout *l = &p->pp_layout;
	uint8_t hdr[STR_HDR_MAX], *raw;
	uint32_t state, kind;
	uint64_t n;
	size_t data;

	if (len == 0 || l->pl_str_compact > sizeof(hdr) ||
	    pymem_read(&p->pp_mem, addr, hdr, l->pl_str_ascii) == -1)
		return -1;
	if (p->pp_str_type != 0 && pymem_u64(hdr, 8) != p->pp_str_type)
		return -1;
	state = pymem_u32(hdr, 32);
	kind = (state >> 2) & 7;
	n = pymem_u64(hdr, 16);
	if (!(state & (1u << 5)) || (kind != 1 && kind != 2 && kind != 4) ||
	    n > (1u << 30) || ((state & (1u << 6)) && kind != 1))
		return -1;
	data = (state & (1u << 6)) ? l->pl_str_ascii : l->pl_str_compact;
	if (n > max)
		n = max;
	if (n == 0) {
		buf[0] = '\0';
		return 0;
	}
	if ((raw = malloc(n * kind)) == NULL)
		return -1;
	if (pymem_read(&p->pp_mem, addr + data, raw, n * kind) == -1) {
		free(raw);
		return -1;
	}
	str_to_utf8(raw, n, kind, buf, len);
	free(raw);
	return 0;
}

/* --- line tables ----------------------------------------------------- */

#define LINE_MAX_ABS 100000000 /* garbage tables stay in range */

static int
line_add(int line, int delta)
{
	int64_t v = (int64_t)line + delta;

	return v > LINE_MAX_ABS	   ? LINE_MAX_ABS
	       : v < -LINE_MAX_ABS ? -LINE_MAX_ABS
				   : (int)v;
}

int
pycode_line_lnotab(const uint8_t *t, size_t n, int first, int64_t off)
{
	int64_t addr = 0;
	int line = first;

	for (size_t i = 0; i + 1 < n; i += 2) {
		addr += t[i];
		if (addr > off)
			break;
		line = line_add(line, (int8_t)t[i + 1]);
	}
	return line;
}

int
pycode_line_310(const uint8_t *t, size_t n, int first, int64_t off)
{
	int64_t start = 0, end;
	int line = first;

	if (off < 0)
		return first;
	for (size_t i = 0; i + 1 < n; i += 2) {
		end = start + t[i];
		if ((int8_t)t[i + 1] != -128)
			line = line_add(line, (int8_t)t[i + 1]);
		if (off >= start && off < end)
			return line;
		start = end;
	}
	return line;
}

/* Reads a 6-bit-chunk varint at t[*i]; bounded to 32 bits. */
static uint32_t
lt_varint(const uint8_t *t, size_t n, size_t *i)
{
	uint32_t v = 0;
	unsigned shift = 0;

	while (*i < n && shift < 32) {
		uint8_t b = t[(*i)++];

		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64))
			break;
	}
	return v;
}

static int
lt_svarint(const uint8_t *t, size_t n, size_t *i)
{
	uint32_t v = lt_varint(t, n, i);

	return (v & 1) ? -(int)(v >> 1 & 0x3fffffff)
		       : (int)(v >> 1 & 0x3fffffff);
}

int
pycode_line_311(const uint8_t *t, size_t n, int first, int64_t idx)
{
	int64_t addr = 0;
	int line = first;
	size_t i = 0;

	if (idx < 0)
		return first;
	while (i < n) {
		uint8_t b = t[i++];
		unsigned code = (b >> 3) & 15, units = (b & 7) + 1;

		if (!(b & 0x80))
			continue; /* out of step: resynchronise */
		if (code == 13 || code == 14)
			line = line_add(line, lt_svarint(t, n, &i));
		else if (code >= 10 && code <= 12)
			line = line_add(line, (int)code - 10);
		while (i < n && !(t[i] & 0x80))
			i++;
		if (idx < addr + units)
			return line;
		addr += units;
	}
	return line;
}

int
pycode_line(const struct py_layout *l, const struct pycode *co, uint64_t pos)
{
	int64_t idx;

	switch (l->pl_lines) {
	case PYLINES_LNOTAB:
		return pycode_line_lnotab(co->pc_lines, co->pc_nlines,
					  co->pc_firstlineno, (int32_t)pos);
	case PYLINES_LINES310:
		return pycode_line_310(co->pc_lines, co->pc_nlines,
				       co->pc_firstlineno,
				       (int64_t)(int32_t)pos * 2);
	case PYLINES_LOCATIONS:
		if (pos < co->pc_addr + l->pl_co_code)
			return co->pc_firstlineno;
		idx = (int64_t)((pos - co->pc_addr - l->pl_co_code) / 2);
		return pycode_line_311(co->pc_lines, co->pc_nlines,
				       co->pc_firstlineno, idx);
	}
	return co->pc_firstlineno;
}

/* --- the cache ------------------------------------------------------- */

static void
pycode_free_slot(struct pycode_cache *c, struct pycode *s)
{
	if (s->pc_gen == 0)
		return;
	c->pcc_bytes -= s->pc_bytes;
	free(s->pc_name);
	free(s->pc_file);
	free(s->pc_lines);
	memset(s, 0, sizeof(*s));
}

void
pycode_forget(struct pycode_cache *c, uint32_t gen)
{
	for (size_t i = 0; i < PYCODE_SLOTS; i++)
		if (gen == 0 || c->pcc_slot[i].pc_gen == gen)
			pycode_free_slot(c, &c->pcc_slot[i]);
}

void
pycode_clear(struct pycode_cache *c)
{
	pycode_forget(c, 0);
}

/* Reads the bytes object at addr (at most PYCODE_MAX_LINES of it). */
static int
pycode_bytes(struct pyproc *p, uint64_t addr, uint8_t **out, size_t *n)
{
	const struct py_layout *l = &p->pp_layout;
	uint64_t size;

	*out = NULL;
	*n = 0;
	if (pymem_ptr(&p->pp_mem, addr + l->pl_bytes_size, &size) == -1 ||
	    size > (1u << 30))
		return -1;
	if (size > PYCODE_MAX_LINES)
		size = PYCODE_MAX_LINES;
	if (size == 0)
		return 0;
	if ((*out = malloc(size)) == NULL)
		return -1;
	if (pymem_read(&p->pp_mem, addr + l->pl_bytes_data, *out, size) == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*n = size;
	return 0;
}

/* A signature of the fields a cache entry was made from. */
static uint64_t
pycode_sig(const struct py_layout *l, const uint8_t *co)
{
	uint64_t h = pymem_u32(co, l->pl_co_firstlineno);

	h = h * 0x100000001b3ULL ^ pymem_u64(co, 8);
	h = h * 0x100000001b3ULL ^ pymem_u64(co, l->pl_co_filename);
	h = h * 0x100000001b3ULL ^ pymem_u64(co, l->pl_co_name);
	h = h * 0x100000001b3ULL ^ pymem_u64(co, l->pl_co_linetable);
	if (l->pl_co_qualname)
		h = h * 0x100000001b3ULL ^ pymem_u64(co, l->pl_co_qualname);
	return h;
}

/* Reads the fields of the code object at addr into co. */
static int
pycode_header(struct pyproc *p, uint64_t addr, uint8_t *co, size_t len)
{
	const struct py_layout *l = &p->pp_layout;

	if (l->pl_co_size > len ||
	    pymem_read(&p->pp_mem, addr, co, l->pl_co_size) == -1)
		return -1;
	if (p->pp_code_type != 0 && pymem_u64(co, 8) != p->pp_code_type)
		return -1;
	return 0;
}

/* Reads the code object whose fields are co into slot s; 0 or -1. */
static int
pycode_read(struct pyproc *p, uint64_t addr, const uint8_t *co,
	    struct pycode *s)
{
	const struct py_layout *l = &p->pp_layout;
	char name[PYCODE_MAX_NAME * 4 + 8], file[PYCODE_MAX_FILE * 4 + 8];
	uint64_t nm;
	int first;

	first = (int)pymem_u32(co, l->pl_co_firstlineno);
	nm = pymem_u64(co,
		       l->pl_co_qualname ? l->pl_co_qualname : l->pl_co_name);
	if (first < 0 || first > 100000000 ||
	    pycode_string(p, nm, name, sizeof(name), PYCODE_MAX_NAME) == -1 ||
	    pycode_string(p, pymem_u64(co, l->pl_co_filename), file,
			  sizeof(file), PYCODE_MAX_FILE) == -1 ||
	    pycode_bytes(p, pymem_u64(co, l->pl_co_linetable), &s->pc_lines,
			 &s->pc_nlines) == -1)
		return -1;
	s->pc_name = strdup(name);
	s->pc_file = strdup(file);
	if (s->pc_name == NULL || s->pc_file == NULL) {
		free(s->pc_name);
		free(s->pc_file);
		free(s->pc_lines);
		return -1;
	}
	s->pc_firstlineno = first;
	s->pc_sig = pycode_sig(l, co);
	s->pc_addr = addr;
	s->pc_gen = p->pp_gen;
	s->pc_bytes = strlen(name) + strlen(file) + 2 + s->pc_nlines;
	return 0;
}

static size_t
pycode_hash(uint32_t gen, uint64_t addr)
{
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ULL ^ gen;

	return (size_t)(h >> 40) & (PYCODE_SLOTS - 1);
}

const struct pycode *
pycode_lookup(struct pycode_cache *c, struct pyproc *p, uint64_t addr,
	      const uint8_t *co)
{
	struct pycode *s = &c->pcc_slot[pycode_hash(p->pp_gen, addr)];
	struct pycode fresh;

	if (p->pp_code_type != 0 && pymem_u64(co, 8) != p->pp_code_type)
		return NULL;
	if (s->pc_gen == p->pp_gen && s->pc_addr == addr &&
	    s->pc_sig == pycode_sig(&p->pp_layout, co)) {
		c->pcc_hits++;
		return s;
	}
	c->pcc_misses++;
	memset(&fresh, 0, sizeof(fresh));
	if (pycode_read(p, addr, co, &fresh) == -1)
		return NULL;
	pycode_free_slot(c, s);
	if (c->pcc_bytes + fresh.pc_bytes > PYCODE_BUDGET)
		pycode_clear(c);
	*s = fresh;
	c->pcc_bytes += fresh.pc_bytes;
	return s;
}

const struct pycode *
pycode_get(struct pycode_cache *c, struct pyproc *p, uint64_t addr)
{
	uint8_t co[PYCODE_HDR_MAX];

	if (pycode_header(p, addr, co, sizeof(co)) == -1)
		return NULL;
	return pycode_lookup(c, p, addr, co);
}

void
pycode_headers(struct pycode_cache *c, struct pyproc *p, const uint64_t *addrs,
	       size_t n, const uint8_t **hdr)
{
	size_t sz = p->pp_layout.pl_co_size, i = 0, got;
	struct pymem_vec v[PYCODE_BATCH];

	if (n > PYCODE_BATCH)
		n = PYCODE_BATCH;
	if (sz > PYCODE_HDR_MAX) {
		for (i = 0; i < n; i++)
			hdr[i] = NULL;
		return;
	}
	for (size_t k = 0; k < n; k++)
		v[k] = (struct pymem_vec){addrs[k], c->pcc_hdr + k * sz, sz};
	while (i < n) {
		size_t want = n - i < PYMEM_MAX_VEC ? n - i : PYMEM_MAX_VEC;

		got = pymem_readv(&p->pp_mem, v + i, want);
		for (size_t k = i; k < i + got; k++)
			hdr[k] = c->pcc_hdr + k * sz;
		i += got;
		if (got < want)
			hdr[i++] = NULL; /* unreadable: go on after it */
	}
}
