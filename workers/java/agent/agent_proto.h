/*
 * The channel between profd-java and libprofd-jvmti.so, shared by both
 * sides: every command is one dynamic attach ("load" of the same library
 * path, which HotSpot answers by calling Agent_OnAttach again in the copy
 * already loaded) whose options are
 * "cmd=start|dump|stop,token=HEX[,interval=NS,mode=itimer|cpu,timeout=S]".
 * The first start sets the owner's random token; later commands must carry
 * it. "dump" writes the window's stacks to AGENT_OUT_FMT (created O_EXCL,
 * 0600), which profd-java reads and removes at once. The result is
 * Agent_OnAttach's return code, one of enum agent_rc.
 */
#ifndef PROFD_AGENT_PROTO_H
#define PROFD_AGENT_PROTO_H

#define AGENT_TOKEN_LEN 32		     /* hex characters */
#define AGENT_OUT_FMT	"/tmp/.profd-%s.out" /* %s: the token */

enum agent_rc {
	AGENT_OK = 0,
	AGENT_BAD_OPTIONS = 1,
	AGENT_BUSY = 2,		/* started by another owner */
	AGENT_UNSUPPORTED = 3,	/* no JVMTI 1.2 or AsyncGetCallTrace */
	AGENT_SIGPROF_USED = 4, /* another SIGPROF handler is installed */
	AGENT_NO_OUTPUT = 5,	/* cannot write the output file */
	AGENT_NOT_RUNNING = 6,	/* dump or stop without start */
	AGENT_TIMER = 7,	/* cannot start a timer */
	AGENT_NO_MEMORY = 8,
};

#endif
