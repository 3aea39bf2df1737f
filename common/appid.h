/* Application ids and container ids of processes, as gProfiler writes
 * them into collapsed stacks ("python: app.py (/srv/app.py)"). */
#ifndef PROFD_APPID_H
#define PROFD_APPID_H

#include <stddef.h>
#include <sys/types.h>

#define APPID_MAX	  256	/* bytes of an application id */
#define APPID_CMDLINE_MAX 4096	/* bytes of /proc/PID/cmdline read */
#define APPID_INI_MAX	  65536 /* bytes of a uwsgi ini file read */

/* Derives the application id of a command line (args[0..n), the working
 * directory cwd) into buf, as gProfiler does: gunicorn (also by its process
 * title), uwsgi, celery, pyspark, python scripts and modules, java jars and
 * main classes, node scripts. 0, or -1 when none can be derived. */
int appid_from_args(char *const *args, size_t n, const char *cwd, char *buf,
		    size_t len);
/* Same for a live process, from /proc/PID/cmdline and cwd; a uwsgi ini
 * file is read as the process sees it (see procfs_open_in_root). */
int appid_of_pid(pid_t pid, char *buf, size_t len);
/* Copies the container pid runs in to buf: its name where the runtime's
 * state on this host gives one (Docker's containers/ID/config.v2.json,
 * containers/storage's containers.json for CRI-O and Podman), else the
 * first 12 hex digits of its id (docker, containerd, CRI-O and podman
 * scopes). 0; -1 with errno 0 when it runs in none, with errno ENOENT
 * when it is gone. */
int appid_container(pid_t pid, char *buf, size_t len);
/* Looks up the name of container id (64 hex digits) under the runtimes'
 * state roots (NULL: not looked at); 0, or -1 if none names it. */
int appid_container_name(const char *docker_root, const char *storage_root,
			 const char *id, char *name, size_t len);

#define APPID_NAME_MAX 128 /* bytes of a container name, with its NUL */

#endif
