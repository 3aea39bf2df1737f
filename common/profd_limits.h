/* Limits that several programs check, each named once here, with the
 * words of their messages made from the same numbers. (Not limits.h:
 * that name would hide the C library's header.) */
#ifndef PROFD_PROFD_LIMITS_H
#define PROFD_PROFD_LIMITS_H

#define PROFD_STR_(x) #x
#define PROFD_STR(x)  PROFD_STR_(x) /* a number's digits, as a string */

/* A PID: 1 to the kernel's largest pid_max (PID_MAX_LIMIT on 64 bits). */
#define PROFD_PID_MAX	4194304
#define PROFD_PID_RANGE "1 to " PROFD_STR(PROFD_PID_MAX)
#define PROFD_MAX_PIDS	1024 /* PIDs in one --pids list */

/* A worker's name: 1 to PROFD_NAME_MAX of PROFD_NAME_CHARS. */
#define PROFD_NAME_MAX	 16
#define PROFD_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define PROFD_NAME_RULE	 "1 to " PROFD_STR(PROFD_NAME_MAX) " of a-z, 0-9 and -"

/* A worker's pids-max: processes and threads in its cgroup. */
#define PROFD_TASKS_MAX	  65536
#define PROFD_TASKS_RANGE "1 to " PROFD_STR(PROFD_TASKS_MAX)

/* A worker's memory-max and memory-high (bytes; the words in messages). */
#define PROFD_MEM_MAX_MIN	(4u << 20)
#define PROFD_MEM_MAX_MIN_WORD	"4M"
#define PROFD_MEM_HIGH_MIN	(1u << 20)
#define PROFD_MEM_HIGH_MIN_WORD "1M"

#endif
