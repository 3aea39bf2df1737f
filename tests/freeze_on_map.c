/* Test helper: freeze_on_map PID TID FILE N FREEZER_DIR
 * Watches /proc/PID/maps until N mappings of the whole of FILE (from file
 * offset 0, at least its size long: only the Java agent maps libjvm.so
 * so, to read its symbols) are there, then moves thread TID into the
 * cgroup v1 freezer FREEZER_DIR and freezes it, as fast as it can (a
 * shell loop is milliseconds late). Exits 0 once frozen, 1 after 20 s or
 * on an error.
 * freeze_on_map --count PID FILE prints how many such mappings PID has. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

/* Whether the maps line l maps all size bytes of file from offset 0. */
static int
whole_map(const char *l, const char *file, off_t size)
{
	uintmax_t lo, hi, off;
	int path = 0;

	if (sscanf(l, "%jx-%jx %*s %jx %*s %*s %n", &lo, &hi, &off, &path) !=
		3 ||
	    path == 0)
		return 0;
	return off == 0 && hi - lo >= (uintmax_t)size &&
	       strcmp(l + path, file) == 0;
}

/* Mappings of all of file in /proc/pid/maps; -1 when unreadable. */
static int
count_maps(const char *maps, const char *file)
{
	ssize_t len, off = 0;
	struct stat st;
	int fd, n = 0;

	if (stat(file, &st) == -1 ||
	    (fd = open(maps, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (off < (ssize_t)sizeof(buf) - 1 &&
	       (len = read(fd, buf + off, sizeof(buf) - 1 - (size_t)off)) > 0)
		off += len;
	close(fd);
	buf[off] = '\0';
	for (char *l = buf, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		if ((nl = strchr(l, '\n')) != NULL)
			*nl = '\0';
		n += whole_map(l, file, st.st_size);
	}
	return n;
}

static int
write_file(const char *dir, const char *name, const char *s)
{
	char path[4096];
	int fd, rv;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	rv = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return rv;
}

int
main(int argc, char **argv)
{
	char maps[64];
	time_t end = time(NULL) + 20;
	int want;

	if (argc == 4 && strcmp(argv[1], "--count") == 0) {
		snprintf(maps, sizeof(maps), "/proc/%s/maps", argv[2]);
		printf("%d\n", count_maps(maps, argv[3]));
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: freeze_on_map PID TID FILE N DIR\n"
				"       freeze_on_map --count PID FILE\n");
		return 1;
	}
	snprintf(maps, sizeof(maps), "/proc/%s/maps", argv[1]);
	want = atoi(argv[4]);
	while (time(NULL) < end) {
		int n = count_maps(maps, argv[3]);

		if (n == -1)
			return 1;
		if (n >= want)
			return write_file(argv[5], "tasks", argv[2]) == 0 &&
				       write_file(argv[5], "freezer.state",
						  "FROZEN") == 0
				   ? 0
				   : 1;
	}
	return 1;
}
