/*
 * libFuzzer target: application ids from command lines. After one
 * control byte (bit 0: the process has a working directory, bits 1-7:
 * the size of the output buffer) the input is /proc/PID/cmdline, split
 * at NUL bytes as appid_of_pid splits it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char cmd[APPID_CMDLINE_MAX + 1];
	char *args[MAX_ARGS], out[APPID_MAX + 8];
	size_t n = 0, got, len;
	const char *cwd;

	if (size < 1)
		return 0;
	cwd = data[0] & 1 ? "/srv/app" : NULL;
	len = data[0] >> 1 ? (size_t)(data[0] >> 1) : APPID_MAX;
	got = size - 1 > APPID_CMDLINE_MAX ? APPID_CMDLINE_MAX : size - 1;
	memcpy(cmd, data + 1, got);
	cmd[got] = '\0';
	for (size_t i = 0; i < got && n < MAX_ARGS; i += strlen(cmd + i) + 1)
		args[n++] = cmd + i;
	memset(out, 0x55, sizeof(out));
	if (appid_from_args(args, n, cwd, out, len) == 0 &&
	    strnlen(out, len) >= len)
		abort(); /* not NUL-ended within the buffer */
	for (size_t i = len; i < sizeof(out); i++)
		if (out[i] != 0x55)
			abort(); /* written past len */
	return 0;
}
