/*
 * HotSpot dynamic attach, done in a forked helper that enters the JVM's
 * mount (and net, ipc) namespaces and takes the JVM's effective uid and
 * gid, so that JVMs in containers and under other users can be attached.
 * The helper first checks the JVM (its namespaces belong to profd's user
 * namespace, its executable and libjvm.so to root), and gives up every
 * capability, bounding set included, before it touches a file of the JVM.
 */
#ifndef PROFD_JAVA_ATTACH_H
#define PROFD_JAVA_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JATTACH_SOCKET_WAIT_MS 6000	   /* for the attach socket */
#define JATTACH_MAX_REPLY      8192	   /* bytes of the JVM's answer */
#define JATTACH_MAX_OUTPUT     (16u << 20) /* bytes of one agent dump */
/* The agent's copy in the JVM's /tmp: this prefix, 16 random hex digits
 * chosen at each copy, ".so"; created O_EXCL by the JVM's user, removed
 * once loaded (later loads name the loaded copy). */
#define JATTACH_AGENT_PREFIX "/tmp/libprofd-jvmti-" PACKAGE_VERSION "-"
#define JATTACH_AGENT_RANDOM 16 /* hex digits */
#define JATTACH_PATH_MAX     160

/* What the helper reads from the JVM's /proc/PID/maps. */
struct jattach_maps {
	char jm_libjvm[4096]; /* libjvm.so's path, as the JVM sees it */
	char jm_range[48];    /* its mapping's "start-end" (map_files) */
	char jm_agent[JATTACH_PATH_MAX]; /* our agent's loaded copy, or "" */
};

/* What the worker knows of a JVM before attaching (from /proc). */
struct jattach_target {
	pid_t jt_pid;	  /* in profd's PID namespace */
	int64_t jt_nspid; /* in the JVM's own PID namespace */
	uid_t jt_uid;	  /* effective ids of the JVM */
	gid_t jt_gid;
	int jt_sigquit;	      /* the JVM catches SIGQUIT */
	const char *jt_agent; /* our agent library, on the host */
	const char *jt_jcmd;  /* set by jattach_jcmd */
	int jt_wait_ms;	      /* for the socket (set by jattach_load) */
};

/* How an attach ended. */
enum jattach_status {
	JATTACH_OK = 0,	    /* the JVM answered; see jr_rc */
	JATTACH_TIMEOUT,    /* --java-jattach-timeout passed */
	JATTACH_NO_SIGQUIT, /* no attach socket, and SIGQUIT is not caught */
	JATTACH_NO_SOCKET,  /* SIGQUIT sent, no socket appeared */
	JATTACH_ENTER,	    /* cannot enter the JVM's namespaces or ids */
	JATTACH_COPY,	    /* cannot place the agent in the JVM's /tmp */
	JATTACH_CONNECT,    /* cannot talk on the attach socket */
	JATTACH_REFUSED,    /* the JVM refused the load (text in jr_msg) */
	JATTACH_OUTPUT,	    /* the agent's output could not be read */
	JATTACH_INTERNAL,   /* fork, pipe, helper died */
	JATTACH_UNTRUSTED,  /* not attached to: the reason in jr_msg */
};

struct jattach_result {
	enum jattach_status jr_status;
	int jr_rc;	  /* Agent_OnAttach's return code */
	char jr_msg[160]; /* the JVM's first line of text, for refusals */
	char *jr_out;	  /* dump: the agent's output, NUL-ended (malloc) */
	size_t jr_outlen;
};

/* Loads the agent into t's JVM with options (see agent.h); when dump_token
 * is not NULL, also reads and removes the agent's output file of that
 * token into r->jr_out. Gives up after timeout_ms. 0 when the JVM
 * answered (r->jr_rc holds the agent's code), else -1 with r->jr_status. */
int jattach_load(const struct jattach_target *t, const char *options,
		 const char *dump_token, int timeout_ms,
		 struct jattach_result *r);
/* Runs the jcmd command (such as "Compiler.perfmap") in t's JVM;
 * r->jr_rc is the JVM's status (0 ok), r->jr_msg its first line of
 * text. */
int jattach_jcmd(const struct jattach_target *t, const char *command,
		 int timeout_ms, struct jattach_result *r);
/* Finds libjvm.so and our loaded agent in pid's maps; 0, or -1 when
 * the maps cannot be read or map no libjvm.so. */
int jattach_maps(pid_t pid, struct jattach_maps *m);
/* Reads the JVM's answer to load, reply (NUL-ended): "0\nreturn code: N"
 * (JDK 9+, the line may come after other text) or "0\nN" (JDK 8). 0
 * with the agent's code N in *rc, or -1 (a refusal, or not an answer);
 * the JVM's first line of text goes to msg[msglen] either way. */
int jattach_parse_load(const char *reply, int *rc, char *msg, size_t msglen);
/* Reads the JVM's answer to jcmd: its status line into *rc (0: ok) and
 * its first line of text to msg[msglen]. 0, or -1 when the status line
 * is not a number. */
int jattach_parse_jcmd(const char *reply, int *rc, char *msg, size_t msglen);
/* Describes a failed attach in buf ("attach timed out after 30 s"). */
void jattach_describe(const struct jattach_result *r, char *buf, size_t len);

#endif
