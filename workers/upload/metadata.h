/*
 * The host's description that gProfiler puts in the "metadata" object of a
 * collapsed file's header and Performance Studio reads as its
 * AgentMetadata: every field it requires, with gProfiler's meaning and
 * format, gathered from the host without any network access.
 */
#ifndef PROFD_METADATA_H
#define PROFD_METADATA_H

#include <stdint.h>
#include <stdio.h>

#define META_UNKNOWN	   "unknown" /* gProfiler's word for what it cannot tell */
#define META_EXTERNAL_FILE (64u << 10) /* bytes of --external-metadata */
#define META_EXTERNAL_MAX  (16u << 10) /* bytes of its members written */

struct agent_meta {
	int am_ready;
	char am_hostname[256];
	char am_system[65];	/* uname: system_name */
	char am_release[65];	/* kernel_release */
	char am_version[65];	/* kernel_version */
	char am_machine[65];	/* hardware_type */
	char am_os_name[128];	/* os-release NAME */
	char am_os_release[64]; /* os-release VERSION_ID */
	char am_libc_type[16];	/* "glibc", "musl" or "unknown" */
	char am_libc_version[32];
	char am_private_ip[48];	  /* the default route's interface's */
	char am_mac[32];	  /* "AA:BB:..", upper case */
	char am_cloud[16];	  /* aws, gcp, azure or unknown (from DMI) */
	char am_cloud_info[2048]; /* cloud_info's JSON object; "": none */
	char am_run_mode[32];
	char am_deployment[16];
	long am_processors;
	uint64_t am_memory_mb;
	int64_t am_spawn_time; /* unix seconds */
	uint64_t am_spawn_uptime_ms;
	long am_pid;
};

/* Gathers the process's description once (call it before the sandbox:
 * it reads /proc, /sys and /etc, and lists the interfaces). */
void metadata_init(void);
/* Returns the process's description (gathered now if it was not). */
const struct agent_meta *metadata_get(void);
/* Fills m from the host. Never fails: what cannot be read is "unknown"
 * or "" as in gProfiler. */
void metadata_gather(struct agent_meta *m);
/* Names the cloud from DMI strings: "aws", "gcp", "azure" or "unknown". */
const char *metadata_cloud(const char *sys_vendor, const char *product_name,
			   const char *board_vendor, const char *bios_version,
			   const char *asset_tag);
/* Copies musl's version from its loader's file at path into out[len]; 0,
 * or -1 when path is no musl loader. */
int metadata_musl_version(const char *path, char *out, size_t len);
/* Sets cloud_provider and cloud_info (a JSON object's text; dropped if
 * it does not fit) from the cloud's metadata service. */
void metadata_set_cloud(const char *provider, const char *info);
/* --disable-metadata-collection: what describes the host beyond its
 * name becomes "unknown" (or 0), in the fields the server requires. */
void metadata_withhold(void);
/* --external-metadata: reads path's "static" object (before the sandbox)
 * and adds its members to every header; 0, or -1 told. */
int metadata_external(const char *path);
/* Writes the AgentMetadata members of m (and current_time: now) as JSON
 * object members, each followed by ", ". -1 on a write error. */
int metadata_put(FILE *f, const struct agent_meta *m);

#endif
