/* Flame graph writer: a stack table as one self-contained HTML page. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"
#include "json.h"

#define FG_NONE	     UINT32_MAX
#define FG_ROOT_NAME "all"
#define FG_MIN_SLOTS 256 /* first size of the child hash */

/* Node kinds, so that a container and a process of the same name stay two
 * frames. The page reads them from the "proc" and "cont" arrays. */
enum fg_kind {
	FG_FRAME,
	FG_PROC,
	FG_CONTAINER,
};

struct fg_node {
	uint64_t fn_self;   /* samples whose stack ends here */
	uint32_t fn_name;   /* table string id; FG_NONE for the root */
	uint32_t fn_parent; /* node index; FG_NONE for the root */
	uint32_t fn_kind;   /* enum fg_kind */
};

/* Merged stacks. Parents always come before their children. */
struct fg_tree {
	struct fg_node *ft_nodes;
	size_t ft_n, ft_cap;
	uint32_t *ft_slots; /* (parent, name, kind) -> node index + 1 */
	size_t ft_nslots;
	uint32_t *ft_page; /* table string id -> page string index, 0 = none */
	uint32_t *ft_ids;  /* page string index -> table string id */
	size_t ft_npage;
};

/* Output with a sticky error: after the first failed write, nothing more
 * is written and fo_err stays set. */
struct fg_out {
	FILE *fo_f;
	int fo_err;
};

/*
 * The page. Names reach the DOM only through textContent and setAttribute;
 * the data is JSON in a non-executed script element. The JS uses single
 * quotes and no backslashes so that it reads the same here as in the page.
 */
static const char fg_html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
    "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>";

static const char fg_html_style[] =
    "</title>\n"
    "<style>\n"
    "* { box-sizing: border-box; }\n"
    "body { margin: 0; font: 13px/1.4 sans-serif; color: #222;"
    " background: #fafafa; }\n"
    "header { position: sticky; top: 0; z-index: 2; background: #fafafa;"
    " padding: 8px 12px; border-bottom: 1px solid #ddd; }\n"
    "h1 { font-size: 16px; margin: 0 0 2px; }\n"
    ".note { color: #666; font-size: 12px; }\n"
    ".bar { display: flex; gap: 8px; align-items: center;"
    " margin: 6px 0 4px; }\n"
    "#search { width: 24em; padding: 2px 6px; }\n"
    "#matched { color: #a0a; }\n"
    "#details { font-family: monospace; white-space: nowrap;"
    " overflow: hidden; text-overflow: ellipsis; min-height: 1.4em; }\n"
    "#graph { position: relative; margin: 8px 12px; overflow: hidden; }\n"
    ".frame { position: absolute; height: 17px; padding: 0;"
    " text-indent: 3px; border-right: 1px solid #fafafa;"
    " border-bottom: 1px solid #fafafa; font: 11px/16px monospace;"
    " white-space: nowrap; overflow: hidden; text-overflow: ellipsis;"
    " cursor: pointer; color: #000; }\n"
    ".frame:hover { outline: 1px solid #000; z-index: 1; }\n"
    ".frame.anc { opacity: 0.6; }\n"
    "#empty { padding: 40px; text-align: center; color: #888;"
    " font-size: 18px; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<header>\n"
    "<h1>";

static const char fg_html_body[] =
    "</h1>\n"
    "<div class=\"note\">Flame graph, root at the bottom: width is "
    "proportional to samples. Click a frame to zoom, the bottom frame or "
    "Reset zoom to go back. Kernel frames orange, Python green, Java cyan."
    "</div>\n"
    "<div class=\"bar\">\n"
    "<button id=\"reset\" type=\"button\">Reset zoom</button>\n"
    "<input id=\"search\" type=\"search\" autocomplete=\"off\" "
    "placeholder=\"Search (regex or text, any case)\">\n"
    "<span id=\"matched\"></span>\n"
    "</div>\n"
    "<div id=\"details\"></div>\n"
    "</header>\n"
    "<div id=\"graph\"></div>\n"
    "<script type=\"application/json\" id=\"data\">";

static const char fg_html_script[] =
    "</script>\n"
    "<script>\n"
    "'use strict';\n"
    "(function () {\n"
    "  var ROW = 17;         // pixels per frame row\n"
    "  var MIN_FRAC = 0.001; // frames under 0.1% of the view are skipped\n"
    "  var MATCH = 'rgb(230, 80, 230)';\n"
    "  var KINDS = ['', 'process ', 'container ', ''];\n"
    "  function $(id) { return document.getElementById(id); }\n"
    "  var data = JSON.parse($('data').textContent);\n"
    "  var graph = $('graph'), details = $('details');\n"
    "  var search = $('search'), matched = $('matched');\n"
    "  var n = data.name.length;\n"
    "  var parent = new Int32Array(n), depth = new Int32Array(n);\n"
    "  var kind = new Uint8Array(n); // 0 frame, 1 process, 2 container,"
    " 3 root\n"
    "  var value = new Float64Array(n), x = new Float64Array(n);\n"
    "  var kids = new Array(n);\n"
    "  var total = 0, zoomed = 0, hits = null, pending = false;\n"
    "\n"
    "  function name(i) { return data.str[data.name[i]]; }\n"
    "  function pct(v) {\n"
    "    return total > 0 ? (100 * v / total).toFixed(2) + '%' : '0%';\n"
    "  }\n"
    "  function byName(a, b) {\n"
    "    var sa = name(a), sb = name(b);\n"
    "    return sa < sb ? -1 : sa > sb ? 1 : kind[a] - kind[b];\n"
    "  }\n"
    "\n"
    "  // Rebuilds the tree (parents come first), sums values bottom up,\n"
    "  // then lays children out left to right in name order.\n"
    "  function build() {\n"
    "    var i, j, off, c;\n"
    "    parent[0] = -1;\n"
    "    kind[0] = 3;\n"
    "    for (i = 0; i < n; i++) {\n"
    "      kids[i] = [];\n"
    "      value[i] = data.self[i];\n"
    "    }\n"
    "    for (i = 1; i < n; i++) {\n"
    "      parent[i] = i - data.up[i];\n"
    "      depth[i] = depth[parent[i]] + 1;\n"
    "      kids[parent[i]].push(i);\n"
    "    }\n"
    "    for (i = n - 1; i > 0; i--)\n"
    "      value[parent[i]] += value[i];\n"
    "    data.proc.forEach(function (k) { kind[k] = 1; });\n"
    "    data.cont.forEach(function (k) { kind[k] = 2; });\n"
    "    total = n > 0 ? value[0] : 0;\n"
    "    for (i = 0; i < n; i++) {\n"
    "      kids[i].sort(byName);\n"
    "      for (off = x[i], j = 0; j < kids[i].length; j++) {\n"
    "        c = kids[i][j];\n"
    "        x[c] = off;\n"
    "        off += value[c];\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "\n"
    "  // Stable colors: FNV-1a of the name, mixed, scaled to [0, 1).\n"
    "  function hash(s) {\n"
    "    var h = 2166136261, k;\n"
    "    for (k = 0; k < s.length; k++) {\n"
    "      h ^= s.charCodeAt(k);\n"
    "      h = Math.imul(h, 16777619);\n"
    "    }\n"
    "    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b); // spread the last bytes\n"
    "    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);\n"
    "    h ^= h >>> 16;\n"
    "    return (h >>> 0) / 4294967296;\n"
    "  }\n"
    "  function hsl(h, s, l) {\n"
    "    return 'hsl(' + h.toFixed(1) + ', ' + s + '%, ' + l.toFixed(1) +"
    " '%)';\n"
    "  }\n"
    "  // Kernel orange, Python green, Java cyan, native warm.\n"
    "  function colorOf(i) {\n"
    "    var s = name(i), r = hash(s);\n"
    "    if (kind[i] === 3) return hsl(0, 0, 80);\n"
    "    if (kind[i] === 2) return hsl(230, 35, 74 + 6 * r);\n"
    "    if (kind[i] === 1) return hsl(205, 55, 70 + 8 * r);\n"
    "    if (s.endsWith('_[k]')) return hsl(26 + 8 * r, 100, 50 + 6 * r);\n"
    "    if (s.endsWith('_[p]')) return hsl(90 + 40 * r, 50, 55 + 10 * r);\n"
    "    if (s.endsWith('_[j]')) return hsl(172 + 18 * r, 60, 50 + 10 * r);\n"
    "    return hsl(55 * r, 85, 60 + 10 * r);\n"
    "  }\n"
    "\n"
    "  function frame(i, left, width, top) {\n"
    "    var e = document.createElement('div'), hit = hits && hits[i];\n"
    "    e.className = 'frame' + (hit ? ' match' : '') +\n"
    "      (depth[i] < depth[zoomed] ? ' anc' : '');\n"
    "    e.setAttribute('data-name', name(i));\n"
    "    e.setAttribute('data-value', String(value[i]));\n"
    "    e.setAttribute('data-id', String(i));\n"
    "    e.style.left = left + 'px';\n"
    "    e.style.width = width + 'px';\n"
    "    e.style.top = top + 'px';\n"
    "    e.style.background = hit ? MATCH : colorOf(i);\n"
    "    if (width > 24)\n"
    "      e.textContent = name(i);\n"
    "    return e;\n"
    "  }\n"
    "\n"
    "  // Draws the frames that overlap the zoomed frame, clipped to it:\n"
    "  // ancestors fill the width, siblings fall outside and are skipped.\n"
    "  function render() {\n"
    "    var W = graph.clientWidth, z0 = x[zoomed], zw = value[zoomed];\n"
    "    var list = [], todo = [0], maxd = 0, i, k, a, b, e;\n"
    "    var frag = document.createDocumentFragment();\n"
    "    pending = false;\n"
    "    graph.textContent = '';\n"
    "    if (!(total > 0)) {\n"
    "      e = document.createElement('div');\n"
    "      e.id = 'empty';\n"
    "      e.textContent = 'no samples';\n"
    "      graph.style.height = '';\n"
    "      graph.appendChild(e);\n"
    "      return;\n"
    "    }\n"
    "    while (todo.length > 0) {\n"
    "      i = todo.pop();\n"
    "      a = Math.max(x[i], z0);\n"
    "      b = Math.min(x[i] + value[i], z0 + zw);\n"
    "      if (b <= a || ((b - a) / zw < MIN_FRAC && i !== zoomed))\n"
    "        continue;\n"
    "      list.push(i, a, b);\n"
    "      maxd = Math.max(maxd, depth[i]);\n"
    "      for (k = 0; k < kids[i].length; k++)\n"
    "        todo.push(kids[i][k]);\n"
    "    }\n"
    "    graph.style.height = (maxd + 1) * ROW + 'px';\n"
    "    for (k = 0; k < list.length; k += 3) {\n"
    "      i = list[k];\n"
    "      frag.appendChild(frame(i, (list[k + 1] - z0) / zw * W,\n"
    "        (list[k + 2] - list[k + 1]) / zw * W,\n"
    "        (maxd - depth[i]) * ROW));\n"
    "    }\n"
    "    graph.appendChild(frag);\n"
    "  }\n"
    "\n"
    "  function show(i) {\n"
    "    details.textContent = KINDS[kind[i]] + name(i) + ': ' + value[i] +\n"
    "      ' samples (' + pct(value[i]) + ')';\n"
    "  }\n"
    "  function idle() {\n"
    "    details.textContent = !(total > 0) ? 'no samples' :\n"
    "      (zoomed ? 'zoomed to ' + name(zoomed) + '; ' : '') +\n"
    "      'total ' + total + ' samples; hover a frame for details';\n"
    "  }\n"
    "  function zoom(i) {\n"
    "    zoomed = i;\n"
    "    render();\n"
    "    idle();\n"
    "  }\n"
    "  function target(ev) {\n"
    "    var e = ev.target.closest ? ev.target.closest('.frame') : null;\n"
    "    return e ? Number(e.getAttribute('data-id')) : -1;\n"
    "  }\n"
    "\n"
    "  // Marks frames whose name matches (a bad regex is taken as text)\n"
    "  // and sums matching subtrees, each counted once.\n"
    "  function find() {\n"
    "    var q = search.value, test, re, lq, hit, sum = 0, todo = [0], i, "
    "k;\n"
    "    hits = null;\n"
    "    matched.textContent = '';\n"
    "    if (q !== '') {\n"
    "      try {\n"
    "        re = new RegExp(q, 'i');\n"
    "        test = function (s) { return re.test(s); };\n"
    "      } catch (err) {\n"
    "        lq = q.toLowerCase();\n"
    "        test = function (s) { return s.toLowerCase().includes(lq); };\n"
    "      }\n"
    "      hit = data.str.map(test);\n"
    "      hits = new Uint8Array(n);\n"
    "      for (i = 1; i < n; i++)\n"
    "        hits[i] = hit[data.name[i]] ? 1 : 0;\n"
    "      while (todo.length > 0) {\n"
    "        i = todo.pop();\n"
    "        if (hits[i])\n"
    "          sum += value[i];\n"
    "        else\n"
    "          for (k = 0; k < kids[i].length; k++)\n"
    "            todo.push(kids[i][k]);\n"
    "      }\n"
    "      matched.textContent = 'Matched: ' + pct(sum);\n"
    "    }\n"
    "    render();\n"
    "  }\n"
    "\n"
    "  graph.addEventListener('mouseover', function (ev) {\n"
    "    var i = target(ev);\n"
    "    if (i >= 0)\n"
    "      show(i);\n"
    "  });\n"
    "  graph.addEventListener('mouseleave', idle);\n"
    "  graph.addEventListener('click', function (ev) {\n"
    "    var i = target(ev);\n"
    "    if (i >= 0)\n"
    "      zoom(i);\n"
    "  });\n"
    "  $('reset').addEventListener('click', function () { zoom(0); });\n"
    "  search.addEventListener('input', find);\n"
    "  document.addEventListener('keydown', function (ev) {\n"
    "    if ((ev.ctrlKey || ev.metaKey) && ev.key === 'f') {\n"
    "      ev.preventDefault();\n"
    "      search.focus();\n"
    "      search.select();\n"
    "    } else if (ev.key === 'Escape' && document.activeElement === "
    "search) {\n"
    "      search.value = '';\n"
    "      find();\n"
    "    }\n"
    "  });\n"
    "  window.addEventListener('resize', function () {\n"
    "    if (!pending) {\n"
    "      pending = true;\n"
    "      requestAnimationFrame(render);\n"
    "    }\n"
    "  });\n"
    "  build();\n"
    "  render();\n"
    "  idle();\n"
    "})();\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

static void
fg_write(struct fg_out *o, const void *p, size_t len)
{
	if (!o->fo_err && len > 0 && fwrite(p, 1, len, o->fo_f) != len)
		o->fo_err = 1;
}

static void
fg_puts(struct fg_out *o, const char *s)
{
	fg_write(o, s, strlen(s));
}

static void
fg_put_u64(struct fg_out *o, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	fg_write(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* Writes one ASCII byte inside a JSON string, escaped when it could end the
 * string or the script element. */
static void
fg_put_json_ascii(struct fg_out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		char esc[2] = {'\\', (char)c};

		fg_write(o, esc, sizeof(esc));
	} else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		fg_write(o, esc, sizeof(esc));
	} else {
		fg_write(o, &c, 1);
	}
}

/* Writes s[0..len) as a JSON string that is also safe inside <script>:
 * invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are escaped. */
static void
fg_put_json_str(struct fg_out *o, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	fg_write(o, "\"", 1);
	while (i < len && !o->fo_err) {
		if (u[i] < 0x80) {
			fg_put_json_ascii(o, u[i++]);
			continue;
		}
		n = json_utf8_len(u + i, len - i);
		if (n == 0)
			fg_puts(o, "\\ufffd");
		else if (n == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
			 (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
			fg_puts(o, u[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
		else
			fg_write(o, u + i, n);
		i += n ? n : 1;
	}
	fg_write(o, "\"", 1);
}

/* Writes s as HTML text: markup characters as entities, control characters
 * as spaces, invalid UTF-8 as U+FFFD. */
static void
fg_put_html(struct fg_out *o, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	while (i < len && !o->fo_err) {
		n = json_utf8_len(u + i, len - i);
		if (n == 0)
			fg_puts(o, "\xef\xbf\xbd");
		else if (u[i] == '&')
			fg_puts(o, "&amp;");
		else if (u[i] == '<')
			fg_puts(o, "&lt;");
		else if (u[i] == '>')
			fg_puts(o, "&gt;");
		else if (u[i] == '"')
			fg_puts(o, "&quot;");
		else if (u[i] == '\'')
			fg_puts(o, "&#39;");
		else if (u[i] < 0x20 || u[i] == 0x7f)
			fg_puts(o, " ");
		else
			fg_write(o, u + i, n);
		i += n ? n : 1;
	}
}

static uint32_t
fg_hash(uint32_t parent, uint32_t name, uint32_t kind)
{
	uint64_t k = ((uint64_t)parent << 32 | name) ^ ((uint64_t)kind << 61);

	k *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(k >> 32);
}

/* Returns the slot of (parent, name, kind): its node's, or the empty one
 * where it belongs. */
static size_t
fg_slot(const struct fg_tree *ft, uint32_t parent, uint32_t name, uint32_t kind)
{
	size_t mask = ft->ft_nslots - 1;
	size_t j = fg_hash(parent, name, kind) & mask;

	for (; ft->ft_slots[j] != 0; j = (j + 1) & mask) {
		const struct fg_node *nd = &ft->ft_nodes[ft->ft_slots[j] - 1];

		if (nd->fn_parent == parent && nd->fn_name == name &&
		    nd->fn_kind == kind)
			break;
	}
	return j;
}

/* Doubles the child hash and inserts every node but the root again. */
static int
fg_rehash(struct fg_tree *ft)
{
	size_t n = ft->ft_nslots ? ft->ft_nslots * 2 : FG_MIN_SLOTS;
	uint32_t *old = ft->ft_slots;

	if (n > (size_t)UINT32_MAX + 1 ||
	    (ft->ft_slots = calloc(n, sizeof(uint32_t))) == NULL) {
		ft->ft_slots = old;
		errno = ENOMEM;
		return -1;
	}
	free(old);
	ft->ft_nslots = n;
	for (size_t i = 1; i < ft->ft_n; i++) {
		const struct fg_node *nd = &ft->ft_nodes[i];
		size_t j = fg_slot(ft, nd->fn_parent, nd->fn_name, nd->fn_kind);

		ft->ft_slots[j] = (uint32_t)i + 1;
	}
	return 0;
}

static int
fg_node_new(struct fg_tree *ft, uint32_t parent, uint32_t name, uint32_t kind)
{
	struct fg_node *nd;

	if (ft->ft_n >= UINT32_MAX - 1) {
		errno = ENOMEM;
		return -1;
	}
	if (ft->ft_n == ft->ft_cap) {
		size_t cap = ft->ft_cap ? ft->ft_cap * 2 : 256;

		if ((nd = reallocarray(ft->ft_nodes, cap, sizeof(*nd))) == NULL)
			return -1;
		ft->ft_nodes = nd;
		ft->ft_cap = cap;
	}
	nd = &ft->ft_nodes[ft->ft_n++];
	nd->fn_self = 0;
	nd->fn_name = name;
	nd->fn_parent = parent;
	nd->fn_kind = kind;
	return 0;
}

/* Returns the child (name, kind) of parent, adding it; FG_NONE if out of
 * memory. */
static uint32_t
fg_child(struct fg_tree *ft, uint32_t parent, uint32_t name, uint32_t kind)
{
	size_t j;

	if ((ft->ft_n + 1) * 2 > ft->ft_nslots && fg_rehash(ft) == -1)
		return FG_NONE;
	j = fg_slot(ft, parent, name, kind);
	if (ft->ft_slots[j] != 0)
		return ft->ft_slots[j] - 1;
	if (fg_node_new(ft, parent, name, kind) == -1)
		return FG_NONE;
	ft->ft_slots[j] = (uint32_t)ft->ft_n;
	return (uint32_t)ft->ft_n - 1;
}

/* stacks_fn: merges one stack into the tree under all/[container]/comm. */
static int
fg_add_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	     size_t n, uint64_t count)
{
	struct fg_tree *ft = arg;
	uint32_t at = 0;

	if (p->sp_container != 0 &&
	    (at = fg_child(ft, at, p->sp_container, FG_CONTAINER)) == FG_NONE)
		return -1;
	if ((at = fg_child(ft, at, p->sp_comm, FG_PROC)) == FG_NONE)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((at = fg_child(ft, at, frames[i], FG_FRAME)) == FG_NONE)
			return -1;
	ft->ft_nodes[at].fn_self += count;
	return 0;
}

/* Numbers the strings the nodes use, in order of first use; page string 0
 * is the root's name. */
static int
fg_map_strings(struct fg_tree *ft, const struct stack_table *t)
{
	size_t nstr = stacks_nstr(t);

	if ((ft->ft_page = calloc(nstr + 1, sizeof(uint32_t))) == NULL ||
	    (ft->ft_ids = calloc(nstr + 1, sizeof(uint32_t))) == NULL)
		return -1;
	ft->ft_ids[0] = FG_NONE;
	ft->ft_npage = 1;
	for (size_t i = 1; i < ft->ft_n; i++) {
		uint32_t id = ft->ft_nodes[i].fn_name;

		if (ft->ft_page[id] != 0)
			continue;
		ft->ft_page[id] = (uint32_t)ft->ft_npage;
		ft->ft_ids[ft->ft_npage++] = id;
	}
	return 0;
}

static void
fg_tree_free(struct fg_tree *ft)
{
	free(ft->ft_nodes);
	free(ft->ft_slots);
	free(ft->ft_page);
	free(ft->ft_ids);
}

/* Merges every stack of t into ft; -1 if out of memory. */
static int
fg_tree_build(struct fg_tree *ft, const struct stack_table *t)
{
	memset(ft, 0, sizeof(*ft));
	if (fg_node_new(ft, FG_NONE, FG_NONE, FG_FRAME) == -1 ||
	    stacks_foreach(t, fg_add_stack, ft) != 0 ||
	    fg_map_strings(ft, t) == -1) {
		fg_tree_free(ft);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

enum fg_field {
	FG_F_NAME, /* page string index */
	FG_F_UP,   /* distance back to the parent, 0 for the root */
	FG_F_SELF, /* samples ending in the node */
};

static uint64_t
fg_field(const struct fg_tree *ft, size_t i, enum fg_field field)
{
	const struct fg_node *nd = &ft->ft_nodes[i];

	switch (field) {
	case FG_F_NAME:
		return i == 0 ? 0 : ft->ft_page[nd->fn_name];
	case FG_F_UP:
		return i == 0 ? 0 : i - nd->fn_parent;
	case FG_F_SELF:
		return nd->fn_self;
	}
	return 0;
}

/* Writes ,"key":[...] with one field of every node. */
static void
fg_put_field(struct fg_out *o, const struct fg_tree *ft, const char *key,
	     enum fg_field field)
{
	fg_puts(o, ",\"");
	fg_puts(o, key);
	fg_puts(o, "\":[");
	for (size_t i = 0; i < ft->ft_n && !o->fo_err; i++) {
		if (i > 0)
			fg_write(o, ",", 1);
		fg_put_u64(o, fg_field(ft, i, field));
	}
	fg_write(o, "]", 1);
}

/* Writes ,"key":[...] with the index of every node of one kind. */
static void
fg_put_kind(struct fg_out *o, const struct fg_tree *ft, const char *key,
	    uint32_t kind)
{
	int first = 1;

	fg_puts(o, ",\"");
	fg_puts(o, key);
	fg_puts(o, "\":[");
	for (size_t i = 1; i < ft->ft_n && !o->fo_err; i++) {
		if (ft->ft_nodes[i].fn_kind != kind)
			continue;
		if (!first)
			fg_write(o, ",", 1);
		fg_put_u64(o, i);
		first = 0;
	}
	fg_write(o, "]", 1);
}

/* Writes the page data: {"total", "str" (string table), then per node
 * "name", "up", "self", and the node lists "proc" and "cont"}. */
static void
fg_put_data(struct fg_out *o, const struct fg_tree *ft,
	    const struct stack_table *t)
{
	fg_puts(o, "{\"total\":");
	fg_put_u64(o, stacks_total(t));
	fg_puts(o, ",\"str\":[");
	fg_put_json_str(o, FG_ROOT_NAME, strlen(FG_ROOT_NAME));
	for (size_t i = 1; i < ft->ft_npage && !o->fo_err; i++) {
		uint32_t id = ft->ft_ids[i];

		fg_write(o, ",", 1);
		fg_put_json_str(o, stacks_str(t, id), stacks_strlen(t, id));
	}
	fg_write(o, "]", 1);
	fg_put_field(o, ft, "name", FG_F_NAME);
	fg_put_field(o, ft, "up", FG_F_UP);
	fg_put_field(o, ft, "self", FG_F_SELF);
	fg_put_kind(o, ft, "proc", FG_PROC);
	fg_put_kind(o, ft, "cont", FG_CONTAINER);
	fg_write(o, "}", 1);
}

int
flamegraph_write(FILE *f, const struct stack_table *t, const char *title)
{
	struct fg_out o = {f, 0};
	struct fg_tree ft;

	if (title == NULL)
		title = FLAMEGRAPH_DEFAULT_TITLE;
	if (fg_tree_build(&ft, t) == -1)
		return -1;
	fg_puts(&o, fg_html_head);
	fg_put_html(&o, title);
	fg_puts(&o, fg_html_style);
	fg_put_html(&o, title);
	fg_puts(&o, fg_html_body);
	fg_put_data(&o, &ft, t);
	fg_puts(&o, fg_html_script);
	fg_tree_free(&ft);
	if (o.fo_err || fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}
