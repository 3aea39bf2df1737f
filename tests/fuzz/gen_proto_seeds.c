/*
 * Writes the seed corpus of fuzz_proto: one encoded message of each type
 * that crosses a process boundary, as profd sends them, each after the
 * byte that makes fuzz_proto decode it as that type (a Control's byte,
 * 0, is also what makes fuzz_heartbeat decode one). Built and run by
 * hand (see README): gen_proto_seeds DIR [FILE.col]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "chunk.h"
#include "collapsed.h"
#include "pbmsg.h"
#include "profd.pb-c.h"
#include "stacks.h"

static const char *dir;

static void
put(const char *name, int type, const ProtobufCMessage *m)
{
	char path[512];
	size_t len;
	void *buf = pbmsg_pack(m, &len);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (buf == NULL || (f = fopen(path, "we")) == NULL)
		exit(1);
	fputc(type, f);
	fwrite(buf, 1, len, f);
	fclose(f);
	free(buf);
}

static void
controls(void)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Hello h = PROFD__HELLO__INIT;
	Profd__Configure cf = PROFD__CONFIGURE__INIT;
	Profd__PerfSettings ps = PROFD__PERF_SETTINGS__INIT;
	Profd__Snapshot sn = PROFD__SNAPSHOT__INIT;
	Profd__Stop st = PROFD__STOP__INIT;
	Profd__Status s = PROFD__STATUS__INIT;
	Profd__RemoteCommand rc = PROFD__REMOTE_COMMAND__INIT;
	uint32_t pids[] = {1, 4242, 65535};
	char *expect[] = {"perf", "python"};

	h.worker = "perf", h.pid = 1234, h.version = "0.1.0";
	c.body_case = PROFD__CONTROL__BODY_HELLO, c.hello = &h;
	put("control_hello", 0, &c.base);
	cf.frequency = 11, cf.duration = 60, cf.pids = pids, cf.n_pids = 3;
	cf.continuous = 1, cf.settings_case = PROFD__CONFIGURE__SETTINGS_PERF;
	cf.perf = &ps, ps.perf_mode = "dwarf", ps.perf_events = "cpu-clock";
	ps.perf_dwarf_stack_size = 8192, ps.perf_use_cgroups = 1;
	ps.perf_max_cgroups = 50, ps.perf_engine = "auto";
	c.body_case = PROFD__CONTROL__BODY_CONFIGURE, c.configure = &cf;
	put("control_configure", 0, &c.base);
	sn.window = 7, sn.start_time = 1767225600, sn.end_time = 1767225660;
	sn.expect = expect, sn.n_expect = 2, sn.cpu_avg = 12.5,
	sn.mem_avg = 40.25;
	c.body_case = PROFD__CONTROL__BODY_SNAPSHOT, c.snapshot = &sn;
	put("control_snapshot", 0, &c.base);
	st.deadline_ms = 5000;
	c.body_case = PROFD__CONTROL__BODY_STOP, c.stop = &st;
	put("control_stop", 0, &c.base);
	s.kind = PROFD__STATUS__KIND__ERROR, s.window = 7;
	s.message = "upload failed", s.samples = 100, s.errors = 2;
	c.body_case = PROFD__CONTROL__BODY_STATUS, c.status = &s;
	put("control_status", 0, &c.base);
	/* From profd-upload (heartbeat mode); fuzz_heartbeat reads these. */
	rc.id = "cmd_1-A", rc.kind = PROFD__REMOTE_COMMAND__KIND__START;
	rc.duration = 30, rc.frequency = 99, rc.continuous = 1;
	rc.pids = pids, rc.n_pids = 1, rc.perf = 1, rc.perf_mode = "dwarf";
	rc.python = 1, rc.java = 1;
	c.body_case = PROFD__CONTROL__BODY_COMMAND, c.command = &rc;
	put("control_command_start", 0, &c.base);
	rc.id = "stop-1", rc.kind = PROFD__REMOTE_COMMAND__KIND__STOP;
	rc.duration = rc.frequency = 0, rc.continuous = 0, rc.n_pids = 0;
	rc.perf = rc.python = rc.java = 0, rc.perf_mode = "";
	put("control_command_stop", 0, &c.base);
}

static void
others(void)
{
	Profd__ChunkAck a = PROFD__CHUNK_ACK__INIT;
	Profd__CtlRequest rq = PROFD__CTL_REQUEST__INIT;
	Profd__CtlReply rp = PROFD__CTL_REPLY__INIT;
	Profd__WorkerStatus w[2] = {PROFD__WORKER_STATUS__INIT,
				    PROFD__WORKER_STATUS__INIT};
	Profd__WorkerStatus *wp[2] = {&w[0], &w[1]};

	a.worker = "perf", a.window = 7, a.stored = 1, a.message = "";
	put("chunk_ack", 2, &a.base);
	rq.op = PROFD__CTL_REQUEST__OP__SET, rq.worker = "perf";
	rq.key = "memory-max", rq.value = 256u << 20;
	put("ctl_request", 3, &rq.base);
	w[0].name = "perf", w[0].state = "running", w[0].pid = 99;
	w[0].restarts = 1, w[0].last_exit = "SIGKILL",
	w[0].rss_bytes = 1u << 20;
	w[0].memory_max = 256u << 20, w[0].pids_max = 64, w[0].enabled = 1;
	w[1].name = "upload", w[1].state = "backoff", w[1].last_exit = "1";
	rp.ok = 1, rp.workers = wp, rp.n_workers = 2, rp.cgroup_mode = "v1";
	put("ctl_reply", 4, &rp.base);
}

/* A ProfileChunk of the stacks in a collapsed file, as a profiler sends. */
static void
chunk(const char *col)
{
	struct stack_table *t = stacks_new(0);
	struct collapsed_stats st = {0, 0};
	struct chunk_buf b;
	FILE *f;

	if (t == NULL || (f = fopen(col, "re")) == NULL ||
	    collapsed_read(f, t, COLLAPSED_PLAIN, &st) != 0)
		exit(1);
	fclose(f);
	stacks_proc_at(t, 0)->sp_error = stacks_intern_str(t, "no symbols");
	if (chunk_build(&b, t, "perf", 3) != 0)
		exit(1);
	put("profile_chunk", 1, &b.cb_chunk.base);
	chunk_buf_free(&b);
	stacks_free(t);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	dir = argv[1];
	controls();
	others();
	if (argc > 2)
		chunk(argv[2]);
	return 0;
}
