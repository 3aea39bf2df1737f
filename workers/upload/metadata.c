/* The host's description in gProfiler's header (Studio's AgentMetadata). */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "jread.h"
#include "json.h"
#include "log.h"
#include "metadata.h"

#define DMI_DIR	      "/sys/class/dmi/id/"
#define AZURE_ASSET   "7783-7084-3265-9085-8269-3286-77"
#define META_LINE_MAX 512
#define MUSL_FILE_MAX (8u << 20) /* bytes of musl's loader read */

static struct agent_meta meta_self;

/* Reads the first line of path into buf, without its newline; "" when
 * it cannot be read. */
static void
read_line_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Copies an os-release value (quoted or not, with \-escapes) into out. */
static void
osrel_value(const char *v, char *out, size_t len)
{
	char q = (*v == '"' || *v == '\'') ? *v++ : '\0';
	size_t n = 0;

	for (; *v != '\0' && *v != '\n' && n + 1 < len; v++) {
		if (q != '\0' && *v == q)
			break;
		if (q == '"' && *v == '\\' && v[1] != '\0')
			v++;
		out[n++] = *v;
	}
	out[n] = '\0';
}

/* os_name and os_release: NAME and VERSION_ID of os-release, as the
 * distro module gProfiler uses reads them ("" when absent). */
static void
gather_os(struct agent_meta *m)
{
	static const char *const paths[] = {"/etc/os-release",
					    "/usr/lib/os-release"};
	char line[META_LINE_MAX];
	FILE *f = NULL;

	m->am_os_name[0] = m->am_os_release[0] = '\0';
	for (size_t i = 0; i < 2 && f == NULL; i++)
		f = fopen(paths[i], "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "NAME=", 5) == 0)
			osrel_value(line + 5, m->am_os_name,
				    sizeof(m->am_os_name));
		else if (strncmp(line, "VERSION_ID=", 11) == 0)
			osrel_value(line + 11, m->am_os_release,
				    sizeof(m->am_os_release));
	}
	fclose(f);
}

/* Is s[0..n) a version, digits and dots such as "1.2.4"? */
static int
musl_is_version(const char *s, size_t n)
{
	size_t dots = 0;

	if (n < 3 || n > 15 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
		if (s[i] == '.')
			dots++;
		else if (!isdigit((unsigned char)s[i]))
			return 0;
	}
	return dots >= 1 && dots <= 2;
}

/* Finds musl's version in its loader's bytes: the file says "musl libc"
 * (the start of what its ldd --version prints) and holds the version as
 * a string of its own. */
static int
musl_scan(const char *b, size_t n, char *out, size_t len)
{
	if (memmem(b, n, "musl libc", 9) == NULL)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t k = strnlen(b + i, n - i);

		if (i > 0 && k < n - i && musl_is_version(b + i, k)) {
			snprintf(out, len, "%.*s", (int)k, b + i);
			return 0;
		}
		i += k + 1;
	}
	return -1;
}

int
metadata_musl_version(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "rbe");
	char *b;
	size_t n;
	int rv = -1;

	if (f == NULL)
		return -1;
	if ((b = malloc(MUSL_FILE_MAX)) != NULL) {
		n = fread(b, 1, MUSL_FILE_MAX, f);
		rv = musl_scan(b, n, out, len);
		free(b);
	}
	fclose(f);
	return rv;
}

/* musl: its loader for this machine, as "ldd --version" would name. */
static int
gather_musl(struct agent_meta *m)
{
	char path[128];

	snprintf(path, sizeof(path), "/lib/ld-musl-%s.so.1", m->am_machine);
	if (metadata_musl_version(path, m->am_libc_version,
				  sizeof(m->am_libc_version)) == -1)
		return -1;
	snprintf(m->am_libc_type, sizeof(m->am_libc_type), "musl");
	return 0;
}

/* libc_type and libc_version as gProfiler reads them from "ldd
 * --version": "glibc" and its version (confstr), or "musl" and its
 * version (from its loader's file; profd does not exec ldd); "unknown"
 * and "" elsewhere. */
static void
gather_libc(struct agent_meta *m)
{
	char buf[64] = "";
	size_t n = 0;

	snprintf(m->am_libc_type, sizeof(m->am_libc_type), META_UNKNOWN);
	m->am_libc_version[0] = '\0';
#ifdef _CS_GNU_LIBC_VERSION
	n = confstr(_CS_GNU_LIBC_VERSION, buf, sizeof(buf));
#endif
	if (n == 0 || n > sizeof(buf) || strncmp(buf, "glibc ", 6) != 0) {
		gather_musl(m);
		return;
	}
	snprintf(m->am_libc_type, sizeof(m->am_libc_type), "glibc");
	snprintf(m->am_libc_version, sizeof(m->am_libc_version), "%s", buf + 6);
}

/* memory_capacity_mb: MemTotal in MiB, rounded (psutil's total). */
static uint64_t
gather_memory_mb(void)
{
	char line[META_LINE_MAX];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (kb + 512) / 1024;
}

/* The interface of the default IPv4 route with the lowest metric, from
 * /proc/net/route; "" when there is none. */
static void
default_iface(char *out, size_t len)
{
	char line[META_LINE_MAX], name[IF_NAMESIZE + 1];
	unsigned long dest, gw, flags, refs, use, metric, best = ~0ul;
	FILE *f = fopen("/proc/net/route", "re");

	out[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu", name, &dest,
			   &gw, &flags, &refs, &use, &metric) != 7)
			continue;
		if (dest != 0 || !(flags & 0x1) || metric >= best)
			continue;
		best = metric;
		snprintf(out, len, "%s", name);
	}
	fclose(f);
}

static void
put_mac(char *out, size_t len, const struct sockaddr_ll *ll)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < ll->sll_halen && i < 8 && n + 4 < len; i++)
		n += (size_t)snprintf(out + n, len - n, i ? ":%02X" : "%02X",
				      ll->sll_addr[i]);
}

/* private_ip: the IPv4 address of the default route's interface (the
 * source gProfiler's connect() to a public address would pick);
 * mac_address: that interface's, else the first non-loopback one's with
 * an IPv4 address (gProfiler's SIOCGIFCONF walk). "unknown" if none. */
static void
gather_net(struct agent_meta *m)
{
	struct ifaddrs *ifs, *i;
	char dflt[IF_NAMESIZE + 1], first[IF_NAMESIZE + 1] = "";
	const char *mac_if;

	snprintf(m->am_private_ip, sizeof(m->am_private_ip), META_UNKNOWN);
	snprintf(m->am_mac, sizeof(m->am_mac), META_UNKNOWN);
	default_iface(dflt, sizeof(dflt));
	if (getifaddrs(&ifs) == -1)
		return;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", i->ifa_name);
		if (dflt[0] != '\0' && strcmp(i->ifa_name, dflt) == 0)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)(void *)i->ifa_addr)
				       ->sin_addr,
				  m->am_private_ip, sizeof(m->am_private_ip));
	}
	mac_if = dflt[0] != '\0' ? dflt : first;
	for (i = ifs; i != NULL && mac_if[0] != '\0'; i = i->ifa_next)
		if (i->ifa_addr != NULL &&
		    i->ifa_addr->sa_family == AF_PACKET &&
		    strcmp(i->ifa_name, mac_if) == 0)
			put_mac(m->am_mac, sizeof(m->am_mac),
				(struct sockaddr_ll *)(void *)i->ifa_addr);
	if (m->am_mac[0] == '\0')
		snprintf(m->am_mac, sizeof(m->am_mac), META_UNKNOWN);
	freeifaddrs(ifs);
}

/* Whether s contains word, ignoring case. */
static int
has(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

const char *
metadata_cloud(const char *sys_vendor, const char *product_name,
	       const char *board_vendor, const char *bios_version,
	       const char *asset_tag)
{
	if (has(sys_vendor, "amazon") || has(product_name, "amazon ec2") ||
	    has(board_vendor, "amazon") || has(bios_version, "amazon"))
		return "aws";
	if (has(sys_vendor, "google") ||
	    has(product_name, "google compute engine"))
		return "gcp";
	if (strcmp(asset_tag, AZURE_ASSET) == 0)
		return "azure";
	return META_UNKNOWN;
}

/* cloud_provider: from the firmware's DMI strings (world-readable), where
 * gProfiler asks each cloud's metadata address; profd never does. */
static void
gather_cloud(struct agent_meta *m)
{
	char v[5][128];
	static const char *const names[] = {"sys_vendor", "product_name",
					    "board_vendor", "bios_version",
					    "chassis_asset_tag"};
	char path[64];

	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), DMI_DIR "%s", names[i]);
		read_line_file(path, v[i], sizeof(v[i]));
	}
	snprintf(m->am_cloud, sizeof(m->am_cloud), "%s",
		 metadata_cloud(v[0], v[1], v[2], v[3], v[4]));
}

/* run_mode and deployment_type as gProfiler maps them: "k8s" in a
 * Kubernetes pod, "container"/"containers" in a container, else
 * "standalone_executable"/"instances". */
static void
gather_mode(struct agent_meta *m)
{
	const char *mode = "standalone_executable", *dep = "instances";

	if (getenv("KUBERNETES_SERVICE_HOST") != NULL)
		mode = dep = "k8s";
	else if (access("/.dockerenv", F_OK) == 0 ||
		 access("/run/.containerenv", F_OK) == 0) {
		mode = "container";
		dep = "containers";
	}
	snprintf(m->am_run_mode, sizeof(m->am_run_mode), "%s", mode);
	snprintf(m->am_deployment, sizeof(m->am_deployment), "%s", dep);
}

void
metadata_gather(struct agent_meta *m)
{
	struct utsname u;
	struct timespec ts = {0, 0};

	memset(m, 0, sizeof(*m));
	memset(&u, 0, sizeof(u));
	uname(&u);
	snprintf(m->am_hostname, sizeof(m->am_hostname), "%s", u.nodename);
	snprintf(m->am_system, sizeof(m->am_system), "%s", u.sysname);
	snprintf(m->am_release, sizeof(m->am_release), "%s", u.release);
	snprintf(m->am_version, sizeof(m->am_version), "%s", u.version);
	snprintf(m->am_machine, sizeof(m->am_machine), "%s", u.machine);
	gather_os(m);
	gather_libc(m); /* after am_machine */
	gather_net(m);
	gather_cloud(m);
	gather_mode(m);
	m->am_processors = sysconf(_SC_NPROCESSORS_ONLN);
	m->am_memory_mb = gather_memory_mb();
	m->am_spawn_time = (int64_t)time(NULL);
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	m->am_spawn_uptime_ms =
	    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	m->am_pid = (long)getpid();
	m->am_ready = 1;
}

void
metadata_init(void)
{
	if (!meta_self.am_ready)
		metadata_gather(&meta_self);
}

void
metadata_withhold(void)
{
	struct agent_meta *m = &meta_self;

	metadata_init();
	snprintf(m->am_system, sizeof(m->am_system), META_UNKNOWN);
	snprintf(m->am_release, sizeof(m->am_release), META_UNKNOWN);
	snprintf(m->am_version, sizeof(m->am_version), META_UNKNOWN);
	snprintf(m->am_os_name, sizeof(m->am_os_name), META_UNKNOWN);
	snprintf(m->am_os_release, sizeof(m->am_os_release), META_UNKNOWN);
	snprintf(m->am_libc_type, sizeof(m->am_libc_type), META_UNKNOWN);
	snprintf(m->am_libc_version, sizeof(m->am_libc_version), META_UNKNOWN);
	snprintf(m->am_private_ip, sizeof(m->am_private_ip), META_UNKNOWN);
	snprintf(m->am_mac, sizeof(m->am_mac), META_UNKNOWN);
	snprintf(m->am_cloud, sizeof(m->am_cloud), META_UNKNOWN);
	m->am_cloud_info[0] = '\0';
	m->am_processors = 0;
	m->am_memory_mb = 0;
}

/* --external-metadata's "static" members, as JSON members ending in ", ". */
static char meta_external[META_EXTERNAL_MAX];

/* Whether key is one metadata_put writes itself. */
static int
meta_own_key(const char *key)
{
	static const char *const own[] = {"current_time",
					  "spawn_time",
					  "spawn_uptime_ms",
					  "private_ip",
					  "hostname",
					  "cloud_provider",
					  "cloud_info",
					  "processors",
					  "memory_capacity_mb",
					  "system_name",
					  "os_name",
					  "os_release",
					  "kernel_release",
					  "kernel_version",
					  "hardware_type",
					  "pid",
					  "mac_address",
					  "agent_version",
					  "libc_type",
					  "libc_version",
					  "python_version",
					  "run_mode",
					  "deployment_type",
					  "run_arguments",
					  "arch",
					  "cpu_count",
					  "profiling_mode",
					  "sampling_frequency",
					  "start_time",
					  "end_time",
					  "window"};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(key, own[i]) == 0)
			return 1;
	return 0;
}

/* Appends one member "key": value of the static object to out. */
static int
meta_external_member(const struct jread *j, int k, int v, FILE *out)
{
	char key[128], str[1024];
	const struct jread_tok *t = &j->jr_tok[v];

	if (jread_string(j, k, key, sizeof(key)) == -1)
		return -1;
	if (meta_own_key(key)) {
		log_warn("--external-metadata: \"%s\" is profd's own; kept",
			 key);
		return 0;
	}
	json_put_string(out, key);
	fputs(": ", out);
	if (t->jt_type == JREAD_STRING) {
		if (jread_string(j, v, str, sizeof(str)) == -1)
			return -1;
		json_put_string(out, str);
	} else if (t->jt_type == JREAD_NUMBER || t->jt_type == JREAD_BOOL ||
		   t->jt_type == JREAD_NULL) {
		fwrite(j->jr_src + t->jt_start, 1, t->jt_end - t->jt_start,
		       out);
	} else {
		return -1; /* gProfiler's static metadata is flat */
	}
	fputs(", ", out);
	return 0;
}

/* Reads the whole small file at path into buf; its length or -1. */
static ssize_t
meta_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				O_NOCTTY);
	struct stat st;
	ssize_t n = -1;

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size < len)
		n = read(fd, buf, len - 1);
	else
		errno = EFBIG;
	close(fd);
	return n;
}

int
metadata_external(const char *path)
{
	static struct jread j;
	static char text[META_EXTERNAL_FILE];
	ssize_t n = meta_read_file(path, text, sizeof(text));
	FILE *out;
	int obj, rv = 0;

	if (n < 0 || jread_parse(&j, text, (size_t)n) == -1 ||
	    j.jr_tok[0].jt_type != JREAD_OBJECT) {
		log_error("--external-metadata %s: %s", path,
			  n < 0 ? strerror(errno)
				: "not a JSON object (at most 64 KiB)");
		return -1;
	}
	if (jread_get(&j, 0, "application") >= 0)
		log_warn("--external-metadata: per-process \"application\" "
			 "metadata is not added by profd");
	if ((obj = jread_get(&j, 0, "static")) < 0)
		return 0;
	if (j.jr_tok[obj].jt_type != JREAD_OBJECT ||
	    (out = fmemopen(meta_external, sizeof(meta_external), "w")) ==
		NULL) {
		log_error("--external-metadata %s: \"static\" is not an object",
			  path);
		return -1;
	}
	for (int k = obj + 1; rv == 0 && (uint32_t)k < j.jr_tok[obj].jt_next;
	     k = (int)j.jr_tok[k + 1].jt_next)
		rv = meta_external_member(&j, k, k + 1, out);
	if (fclose(out) == EOF || rv == -1 ||
	    strlen(meta_external) + 1 >= sizeof(meta_external)) {
		meta_external[0] = '\0';
		log_error("--external-metadata %s: \"static\" must hold "
			  "strings, numbers or booleans, in at most %u bytes",
			  path, (unsigned)sizeof(meta_external) - 1);
		return -1;
	}
	return 0;
}

void
metadata_set_cloud(const char *provider, const char *info)
{
	metadata_init();
	snprintf(meta_self.am_cloud, sizeof(meta_self.am_cloud), "%s",
		 provider);
	if (strlen(info) < sizeof(meta_self.am_cloud_info))
		memcpy(meta_self.am_cloud_info, info, strlen(info) + 1);
}

const struct agent_meta *
metadata_get(void)
{
	metadata_init();
	return &meta_self;
}

/* gProfiler's times: UTC, seconds, no zone ("2026-01-02T03:04:05"). */
static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void
put_str(FILE *f, const char *key, const char *val)
{
	fprintf(f, "\"%s\": ", key);
	json_put_string(f, val);
	fputs(", ", f);
}

int
metadata_put(FILE *f, const struct agent_meta *m)
{
	char now[32], spawn[32];

	fmt_time((int64_t)time(NULL), now, sizeof(now));
	fmt_time(m->am_spawn_time, spawn, sizeof(spawn));
	put_str(f, "current_time", now);
	put_str(f, "spawn_time", spawn);
	fprintf(f, "\"spawn_uptime_ms\": %llu, ",
		(unsigned long long)m->am_spawn_uptime_ms);
	put_str(f, "private_ip", m->am_private_ip);
	put_str(f, "hostname", m->am_hostname);
	put_str(f, "cloud_provider", m->am_cloud);
	if (m->am_cloud_info[0] != '\0')
		fprintf(f, "\"cloud_info\": %s, ", m->am_cloud_info);
	fprintf(f, "\"processors\": %ld, \"memory_capacity_mb\": %llu, ",
		m->am_processors, (unsigned long long)m->am_memory_mb);
	put_str(f, "system_name", m->am_system);
	put_str(f, "os_name", m->am_os_name);
	put_str(f, "os_release", m->am_os_release);
	put_str(f, "kernel_release", m->am_release);
	put_str(f, "kernel_version", m->am_version);
	put_str(f, "hardware_type", m->am_machine);
	fprintf(f, "\"pid\": %ld, ", m->am_pid);
	put_str(f, "mac_address", m->am_mac);
	put_str(f, "agent_version", PACKAGE_VERSION);
	put_str(f, "libc_type", m->am_libc_type);
	put_str(f, "libc_version", m->am_libc_version);
	/* A str is required; profd runs no Python of its own. */
	put_str(f, "python_version", "none");
	put_str(f, "run_mode", m->am_run_mode);
	put_str(f, "deployment_type", m->am_deployment);
	fputs(meta_external, f);
	return ferror(f) ? -1 : 0;
}
