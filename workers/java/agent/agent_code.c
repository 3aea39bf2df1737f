/* The JIT's code map, from JVMTI's CompiledMethodLoad/Unload and
 * DynamicCodeGenerated events: which method (at which compile level) or
 * stub a PC is in, and which calls the JIT inlined. Read when dumping,
 * never from the signal handler (which only uses the code's bounds). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include <jvmticmlr.h>

#define CODE_MAX_ENTS  (1u << 18) /* compiled methods and stubs */
#define CODE_MAX_PAIRS (1u << 18) /* inlined (callee, caller, bci) */

struct code_ent {
	uintptr_t ce_lo, ce_hi;
	jmethodID ce_method; /* NULL: a stub or the interpreter */
	char *ce_name;	     /* stubs */
	int ce_level;
};

/* Per method: live compiled versions and the newest one's level. */
struct meth_ent {
	jmethodID me_id;
	int32_t me_live;
	int32_t me_level;
};

struct pair_ent {
	jmethodID pe_callee, pe_caller;
	jint pe_bci;
	int pe_used;
};

static pthread_mutex_t code_mu = PTHREAD_MUTEX_INITIALIZER;
static struct code_ent *ents; /* sorted by ce_lo */
static size_t nents, capents;
static struct meth_ent *meths;
static size_t nmeths, capmeths;
static struct pair_ent *pairs;
static size_t npairs, cappairs;

void
agent_code_lock(void)
{
	pthread_mutex_lock(&code_mu);
}

void
agent_code_unlock(void)
{
	pthread_mutex_unlock(&code_mu);
}

static size_t
hash_word(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* The first entry with ce_lo > pc. */
static size_t
ents_upper(uintptr_t pc)
{
	size_t lo = 0, hi = nents;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ents[mid].ce_lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
bounds_widen(uintptr_t lo, uintptr_t hi)
{
	uintptr_t cur = atomic_load(&agent.as_code_lo);

	while ((cur == 0 || lo < cur) &&
	       !atomic_compare_exchange_weak(&agent.as_code_lo, &cur, lo))
		;
	cur = atomic_load(&agent.as_code_hi);
	while (hi > cur &&
	       !atomic_compare_exchange_weak(&agent.as_code_hi, &cur, hi))
		;
}

static void
ents_add(uintptr_t lo, uintptr_t hi, jmethodID m, const char *name, int lvl)
{
	size_t i;

	if (hi <= lo || nents >= CODE_MAX_ENTS)
		return;
	if (nents == capents) {
		size_t cap = capents ? capents * 2 : 4096;
		struct code_ent *n = realloc(ents, cap * sizeof(*n));

		if (n == NULL)
			return;
		ents = n;
		capents = cap;
	}
	i = ents_upper(lo);
	memmove(&ents[i + 1], &ents[i], (nents - i) * sizeof(*ents));
	ents[i].ce_lo = lo;
	ents[i].ce_hi = hi;
	ents[i].ce_method = m;
	ents[i].ce_name = name != NULL ? strdup(name) : NULL;
	ents[i].ce_level = lvl;
	nents++;
	bounds_widen(lo, hi);
}

static struct meth_ent *
meth_slot(jmethodID m, int create)
{
	size_t i;

	if (create && (capmeths == 0 || nmeths * 2 >= capmeths)) {
		size_t cap = capmeths ? capmeths * 2 : 4096;
		struct meth_ent *n = calloc(cap, sizeof(*n));

		if (n == NULL)
			return NULL;
		for (size_t k = 0; k < capmeths; k++) {
			if (meths[k].me_id == NULL)
				continue;
			for (i = hash_word((uintptr_t)meths[k].me_id) &
				 (cap - 1);
			     n[i].me_id != NULL; i = (i + 1) & (cap - 1))
				;
			n[i] = meths[k];
		}
		free(meths);
		meths = n;
		capmeths = cap;
	}
	if (capmeths == 0)
		return NULL;
	for (i = hash_word((uintptr_t)m) & (capmeths - 1); meths[i].me_id;
	     i = (i + 1) & (capmeths - 1))
		if (meths[i].me_id == m)
			return &meths[i];
	if (!create)
		return NULL;
	meths[i].me_id = m;
	nmeths++;
	return &meths[i];
}

static size_t
pair_hash(jmethodID callee, jmethodID caller, jint bci)
{
	return hash_word((uintptr_t)callee * 31 + (uintptr_t)caller * 7 +
			 (uint32_t)bci);
}

static struct pair_ent *
pair_slot(jmethodID callee, jmethodID caller, jint bci)
{
	size_t i;

	if (cappairs == 0)
		return NULL;
	for (i = pair_hash(callee, caller, bci) & (cappairs - 1);
	     pairs[i].pe_used; i = (i + 1) & (cappairs - 1))
		if (pairs[i].pe_callee == callee &&
		    pairs[i].pe_caller == caller && pairs[i].pe_bci == bci)
			break;
	return &pairs[i];
}

static int
pairs_grow(void)
{
	size_t cap = cappairs ? cappairs * 2 : 16384;
	struct pair_ent *old = pairs, *p;
	size_t oldcap = cappairs;

	if (cap > CODE_MAX_PAIRS * 2 || (p = calloc(cap, sizeof(*p))) == NULL)
		return -1;
	pairs = p;
	cappairs = cap;
	for (size_t k = 0; k < oldcap; k++)
		if (old[k].pe_used)
			*pair_slot(old[k].pe_callee, old[k].pe_caller,
				   old[k].pe_bci) = old[k];
	free(old);
	return 0;
}

static void
pair_add(jmethodID callee, jmethodID caller, jint bci)
{
	struct pair_ent *p;

	if ((cappairs == 0 || npairs * 2 >= cappairs) && pairs_grow() == -1)
		return;
	p = pair_slot(callee, caller, bci);
	if (p->pe_used)
		return;
	p->pe_callee = callee;
	p->pe_caller = caller;
	p->pe_bci = bci;
	p->pe_used = 1;
	npairs++;
}

/* The JIT's inlining records: methods[0] is the innermost frame. */
static void
inline_records(const void *info)
{
	const jvmtiCompiledMethodLoadRecordHeader *h = info;

	for (int n = 0; h != NULL && n < 64; h = h->next, n++) {
		const jvmtiCompiledMethodLoadInlineRecord *r;

		if (h->kind != JVMTI_CMLR_INLINE_INFO)
			continue;
		r = (const jvmtiCompiledMethodLoadInlineRecord *)h;
		for (jint i = 0; i < r->numpcs; i++) {
			const PCStackInfo *s = &r->pcinfo[i];

			for (jint k = 0; k + 1 < s->numstackframes; k++)
				pair_add(s->methods[k], s->methods[k + 1],
					 s->bcis[k + 1]);
		}
	}
}

void JNICALL
agent_on_compiled_load(jvmtiEnv *j, jmethodID m, jint size, const void *addr,
		       jint nmap, const jvmtiAddrLocationMap *map,
		       const void *info)
{
	int level = agent_vms_level(m, addr);
	struct meth_ent *me;

	(void)j;
	(void)nmap;
	(void)map;
	agent_code_lock();
	ents_add((uintptr_t)addr, (uintptr_t)addr + (uint32_t)size, m, NULL,
		 level);
	if ((me = meth_slot(m, 1)) != NULL) {
		me->me_live++;
		me->me_level = level;
	}
	inline_records(info);
	agent_code_unlock();
}

void JNICALL
agent_on_compiled_unload(jvmtiEnv *j, jmethodID m, const void *addr)
{
	struct meth_ent *me;
	size_t i;

	(void)j;
	agent_code_lock();
	i = ents_upper((uintptr_t)addr);
	if (i > 0 && ents[i - 1].ce_lo == (uintptr_t)addr) {
		free(ents[i - 1].ce_name);
		memmove(&ents[i - 1], &ents[i], (nents - i) * sizeof(*ents));
		nents--;
	}
	if ((me = meth_slot(m, 0)) != NULL && me->me_live > 0)
		me->me_live--;
	agent_code_unlock();
}

void JNICALL
agent_on_dynamic_code(jvmtiEnv *j, const char *name, const void *addr, jint len)
{
	(void)j;
	agent_code_lock();
	ents_add((uintptr_t)addr, (uintptr_t)addr + (uint32_t)len, NULL,
		 name != NULL ? name : "stub", 0);
	agent_code_unlock();
}

void
agent_code_find(uintptr_t pc, struct code_hit *h)
{
	size_t i = ents_upper(pc);

	memset(h, 0, sizeof(*h));
	if (i == 0 || pc >= ents[i - 1].ce_hi)
		return;
	i--;
	h->ch_lo = ents[i].ce_lo;
	if (ents[i].ce_method != NULL) {
		h->ch_kind = CODE_METHOD;
		h->ch_method = ents[i].ce_method;
		h->ch_level = ents[i].ce_level;
		return;
	}
	h->ch_name = ents[i].ce_name;
	h->ch_kind =
	    h->ch_name != NULL && strcmp(h->ch_name, "Interpreter") == 0
		? CODE_INTERP
		: CODE_STUB;
}

int
agent_code_level(jmethodID m)
{
	struct meth_ent *me = meth_slot(m, 0);

	return me == NULL || me->me_live <= 0 ? -1 : me->me_level;
}

int
agent_code_inlined(jmethodID callee, jmethodID caller, jint bci)
{
	struct pair_ent *p = pair_slot(callee, caller, bci);

	return p != NULL && p->pe_used;
}

int
agent_code_start(jvmtiEnv *j)
{
	agent_vms_init();
	if ((*j)->SetEventNotificationMode(
		j, JVMTI_ENABLE, JVMTI_EVENT_COMPILED_METHOD_LOAD, NULL) ||
	    (*j)->SetEventNotificationMode(
		j, JVMTI_ENABLE, JVMTI_EVENT_COMPILED_METHOD_UNLOAD, NULL) ||
	    (*j)->SetEventNotificationMode(
		j, JVMTI_ENABLE, JVMTI_EVENT_DYNAMIC_CODE_GENERATED, NULL))
		return -1;
	/* The code generated before we came. */
	(*j)->GenerateEvents(j, JVMTI_EVENT_DYNAMIC_CODE_GENERATED);
	(*j)->GenerateEvents(j, JVMTI_EVENT_COMPILED_METHOD_LOAD);
	return 0;
}

void
agent_code_stop(jvmtiEnv *j)
{
	(*j)->SetEventNotificationMode(j, JVMTI_DISABLE,
				       JVMTI_EVENT_COMPILED_METHOD_LOAD, NULL);
	(*j)->SetEventNotificationMode(
	    j, JVMTI_DISABLE, JVMTI_EVENT_COMPILED_METHOD_UNLOAD, NULL);
	(*j)->SetEventNotificationMode(
	    j, JVMTI_DISABLE, JVMTI_EVENT_DYNAMIC_CODE_GENERATED, NULL);
	agent_code_lock();
	for (size_t i = 0; i < nents; i++)
		free(ents[i].ce_name);
	free(ents);
	free(meths);
	free(pairs);
	ents = NULL;
	meths = NULL;
	pairs = NULL;
	nents = capents = nmeths = capmeths = npairs = cappairs = 0;
	atomic_store(&agent.as_code_lo, 0);
	atomic_store(&agent.as_code_hi, 0);
	agent_code_unlock();
}
