/* The host's description in gProfiler's header: the cloud from DMI
 * strings, and every AgentMetadata field written as JSON members. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "metadata.h"

#define AZURE "7783-7084-3265-9085-8269-3286-77"

START_TEST(test_cloud)
{
	ck_assert_str_eq(metadata_cloud("Amazon EC2", "m5.large", "", "", ""),
			 "aws");
	ck_assert_str_eq(
	    metadata_cloud("Xen", "HVM domU", "", "4.2.amazon", ""), "aws");
	ck_assert_str_eq(metadata_cloud("Google", "Google Compute Engine",
					"Google", "Google", ""),
			 "gcp");
	ck_assert_str_eq(metadata_cloud("Microsoft Corporation",
					"Virtual Machine",
					"Microsoft Corporation",
					"Hyper-V UEFI Release v4.1", AZURE),
			 "azure");
	/* Hyper-V on a desktop is no Azure; a plain VM is nothing. */
	ck_assert_str_eq(metadata_cloud("Microsoft Corporation",
					"Virtual Machine", "", "", "None"),
			 "unknown");
	ck_assert_str_eq(metadata_cloud("QEMU", "Standard PC", "", "", ""),
			 "unknown");
	ck_assert_str_eq(metadata_cloud("", "", "", "", ""), "unknown");
}
END_TEST

/* Writes len bytes of b to a temporary file; returns its path. */
static const char *
tmpfile_with(const char *b, size_t len)
{
	static char path[] = "/tmp/check_metadata.XXXXXX";
	int fd;

	strcpy(path, "/tmp/check_metadata.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
	return path;
}

/* musl's version from its loader: "musl libc" and a version string of
 * its own among the others. */
START_TEST(test_musl)
{
	static const char musl[] = "\177ELF\0\0abc\0/lib/ld-musl\0"
				   "musl libc (x86_64)\nVersion %s\n\0"
				   "x1.2\0"
				   "10.2.a\0"
				   "1..2\0"
				   "7\0"
				   "1.2.4\0"
				   "9.9.9\0";
	static const char glibc[] = "\177ELF\0GNU C Library\0"
				    "2.36\0";
	char v[32];
	const char *p;

	p = tmpfile_with(musl, sizeof(musl));
	ck_assert_int_eq(metadata_musl_version(p, v, sizeof(v)), 0);
	unlink(p);
	ck_assert_str_eq(v, "1.2.4");
	p = tmpfile_with(glibc, sizeof(glibc));
	ck_assert_int_eq(metadata_musl_version(p, v, sizeof(v)), -1);
	unlink(p);
	ck_assert_int_eq(metadata_musl_version("/nonexistent", v, sizeof(v)),
			 -1);
	/* A real musl, where one is installed. */
	if (metadata_musl_version("/lib/ld-musl-x86_64.so.1", v, sizeof(v)) ==
	    0)
		fprintf(stderr, "musl here: %s\n", v);
}
END_TEST

START_TEST(test_put)
{
	static const char *const keys[] = {
	    "current_time",   "spawn_time",	    "spawn_uptime_ms",
	    "private_ip",     "hostname",	    "cloud_provider",
	    "processors",     "memory_capacity_mb", "system_name",
	    "os_name",	      "os_release",	    "kernel_release",
	    "kernel_version", "hardware_type",	    "pid",
	    "mac_address",    "agent_version",	    "libc_type",
	    "libc_version",   "python_version",	    "run_mode",
	    "deployment_type"};
	const struct agent_meta *m = metadata_get();
	char *buf = NULL, key[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(metadata_put(f, m), 0);
	fclose(f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(key, sizeof(key), "\"%s\": ", keys[i]);
		ck_assert_msg(strstr(buf, key) != NULL, "no %s in %s", keys[i],
			      buf);
	}
	ck_assert_msg(len > 2 && strcmp(buf + len - 2, ", ") == 0, "%s", buf);
	ck_assert_int_gt(m->am_processors, 0);
	ck_assert_uint_gt(m->am_memory_mb, 0);
	ck_assert_str_eq(m->am_system, "Linux");
	free(buf);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("metadata", test_cloud, test_put, test_musl))
