/* HotSpot's vmStructs table: the few offsets profd reads (the compile
 * level of an nmethod, a thread's OS id). Every read through them is a
 * checked agent_read: a wrong offset gives "unknown", never a fault. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

struct vms_field {
	const char *vf_type;  /* HotSpot type, e.g. "Method" */
	const char *vf_field; /* e.g. "_code" */
	long vf_offset;	      /* -1: not found */
	char vf_typestr[32];  /* the field's own type */
};

enum {
	VF_METHOD_CODE,
	VF_NMETHOD_LEVEL,
	VF_CM_LEVEL,	     /* JDK 11-17: CompiledMethod::_comp_level */
	VF_BLOB_CODE_BEGIN,  /* JDK <= 21: address */
	VF_BLOB_CODE_OFFSET, /* JDK 22+: int from the blob */
	VF_JT_OSTHREAD,
	VF_OS_THREAD_ID,
	VF_COUNT,
};

static struct vms_field vms[VF_COUNT] = {
    [VF_METHOD_CODE] = {"Method", "_code", -1, ""},
    [VF_NMETHOD_LEVEL] = {"nmethod", "_comp_level", -1, ""},
    [VF_CM_LEVEL] = {"CompiledMethod", "_comp_level", -1, ""},
    [VF_BLOB_CODE_BEGIN] = {"CodeBlob", "_code_begin", -1, ""},
    [VF_BLOB_CODE_OFFSET] = {"CodeBlob", "_code_offset", -1, ""},
    [VF_JT_OSTHREAD] = {"JavaThread", "_osthread", -1, ""},
    [VF_OS_THREAD_ID] = {"OSThread", "_thread_id", -1, ""},
};

static int level_size; /* bytes of _comp_level: 4 (int) or 1 */
static jfieldID eetop; /* java.lang.Thread.eetop: its JavaThread* */
static int vms_ready;

int
agent_read(uintptr_t addr, void *out, size_t len)
{
	struct iovec local = {out, len}, remote = {(void *)addr, len};

	if (addr == 0 || addr + len < addr)
		return -1;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
		       (ssize_t)len
		   ? 0
		   : -1;
}

static void *
vms_sym(const char *name)
{
	void *h, *p = dlsym(RTLD_DEFAULT, name);

	if (p == NULL && (h = dlopen("libjvm.so", RTLD_LAZY | RTLD_NOLOAD))) {
		p = dlsym(h, name);
		dlclose(h);
	}
	return p;
}

static uint64_t
vms_u64(const char *name)
{
	uint64_t *p = vms_sym(name), v = 0;

	if (p != NULL)
		agent_read((uintptr_t)p, &v, sizeof(v));
	return v;
}

/* Copies the C string at addr into buf (bounded); 0 or -1. */
static int
vms_str(uintptr_t addr, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (agent_read(addr + i, &buf[i], 1) == -1)
			return -1;
		if (buf[i] == '\0')
			return 0;
	}
	buf[len - 1] = '\0';
	return 0;
}

static void
vms_match(const char *type, const char *field, const char *typestr,
	  uint64_t offset)
{
	for (int i = 0; i < VF_COUNT; i++)
		if (strcmp(type, vms[i].vf_type) == 0 &&
		    strcmp(field, vms[i].vf_field) == 0) {
			vms[i].vf_offset = (long)offset;
			snprintf(vms[i].vf_typestr, sizeof(vms[i].vf_typestr),
				 "%s", typestr);
		}
}

/* Walks gHotSpotVMStructs (ended by an entry without a type name). */
static int
vms_scan(void)
{
	uintptr_t base = 0, e;
	uint64_t tn = vms_u64("gHotSpotVMStructEntryTypeNameOffset"),
		 fn = vms_u64("gHotSpotVMStructEntryFieldNameOffset"),
		 ts = vms_u64("gHotSpotVMStructEntryTypeStringOffset"),
		 st = vms_u64("gHotSpotVMStructEntryIsStaticOffset"),
		 of = vms_u64("gHotSpotVMStructEntryOffsetOffset"),
		 stride = vms_u64("gHotSpotVMStructEntryArrayStride");
	void *p = vms_sym("gHotSpotVMStructs");

	if (p == NULL || stride == 0 || agent_read((uintptr_t)p, &base, 8))
		return -1;
	for (e = base; e != 0 && e < base + stride * 100000; e += stride) {
		uintptr_t tp = 0, fp = 0, sp = 0;
		char type[64], field[64], typestr[64];
		int32_t is_static = 1;
		uint64_t off = 0;

		if (agent_read(e + tn, &tp, 8) || tp == 0)
			break;
		if (agent_read(e + fn, &fp, 8) || agent_read(e + ts, &sp, 8) ||
		    agent_read(e + st, &is_static, 4) ||
		    agent_read(e + of, &off, 8))
			return -1;
		if (is_static || fp == 0 || vms_str(tp, type, sizeof(type)) ||
		    vms_str(fp, field, sizeof(field)))
			continue;
		if (sp == 0 || vms_str(sp, typestr, sizeof(typestr)))
			typestr[0] = '\0';
		vms_match(type, field, typestr, off);
	}
	return 0;
}

int
agent_vms_init(void)
{
	const char *lt;
	JNIEnv *env = NULL;
	jclass k;

	if (vms_ready)
		return 0;
	if (vms_scan() == -1)
		return -1;
	if (vms[VF_NMETHOD_LEVEL].vf_offset < 0) {
		vms[VF_NMETHOD_LEVEL] = vms[VF_CM_LEVEL];
	}
	lt = vms[VF_NMETHOD_LEVEL].vf_typestr;
	level_size = strcmp(lt, "int") == 0 ? 4 : 1;
	if ((*agent.as_vm)
		    ->GetEnv(agent.as_vm, (void **)&env, JNI_VERSION_1_6) ==
		JNI_OK &&
	    env != NULL && (k = (*env)->FindClass(env, "java/lang/Thread"))) {
		eetop = (*env)->GetFieldID(env, k, "eetop", "J");
		if ((*env)->ExceptionCheck(env))
			(*env)->ExceptionClear(env);
		(*env)->DeleteLocalRef(env, k);
	}
	vms_ready = 1;
	return 0;
}

/* The start of nm's instructions, or 0. */
static uintptr_t
vms_code_begin(uintptr_t nm)
{
	uintptr_t cb = 0;
	int32_t off = 0;

	if (vms[VF_BLOB_CODE_BEGIN].vf_offset >= 0 &&
	    agent_read(nm + (uintptr_t)vms[VF_BLOB_CODE_BEGIN].vf_offset, &cb,
		       8) == 0)
		return cb;
	if (vms[VF_BLOB_CODE_OFFSET].vf_offset >= 0 &&
	    agent_read(nm + (uintptr_t)vms[VF_BLOB_CODE_OFFSET].vf_offset, &off,
		       4) == 0 &&
	    off > 0)
		return nm + (uint32_t)off;
	return 0;
}

int
agent_vms_level(jmethodID m, const void *addr)
{
	uintptr_t method = 0, nm = 0, cb, a = (uintptr_t)addr;
	int32_t level = 0;
	int8_t l8 = 0;

	if (!vms_ready || vms[VF_METHOD_CODE].vf_offset < 0 ||
	    vms[VF_NMETHOD_LEVEL].vf_offset < 0)
		return 0;
	/* A jmethodID points at the Method*. */
	if (agent_read((uintptr_t)m, &method, 8) || method == 0 ||
	    agent_read(method + (uintptr_t)vms[VF_METHOD_CODE].vf_offset, &nm,
		       8) ||
	    nm == 0)
		return 0;
	/* Method::_code may be newer code than addr's: then unknown. */
	cb = vms_code_begin(nm);
	if (cb == 0 || a < cb || a - cb > 4096)
		return 0;
	if (level_size == 4) {
		if (agent_read(nm + (uintptr_t)vms[VF_NMETHOD_LEVEL].vf_offset,
			       &level, 4))
			return 0;
	} else {
		if (agent_read(nm + (uintptr_t)vms[VF_NMETHOD_LEVEL].vf_offset,
			       &l8, 1))
			return 0;
		level = l8;
	}
	return level >= 1 && level <= 4 ? level : 0;
}

pid_t
agent_vms_tid(JNIEnv *env, jthread t)
{
	uintptr_t jt, os = 0;
	int32_t tid = -1;

	if (!vms_ready || eetop == NULL || env == NULL ||
	    vms[VF_JT_OSTHREAD].vf_offset < 0 ||
	    vms[VF_OS_THREAD_ID].vf_offset < 0)
		return -1;
	jt = (uintptr_t)(*env)->GetLongField(env, t, eetop);
	if (jt == 0 ||
	    agent_read(jt + (uintptr_t)vms[VF_JT_OSTHREAD].vf_offset, &os, 8) ||
	    os == 0 ||
	    agent_read(os + (uintptr_t)vms[VF_OS_THREAD_ID].vf_offset, &tid, 4))
		return -1;
	return tid > 0 ? (pid_t)tid : -1;
}
