/* Collapsed stack format ("frame;frame;frame count") writer and reader. */
#ifndef PROFD_COLLAPSED_H
#define PROFD_COLLAPSED_H

#include <stdint.h>
#include <stdio.h>

#include "stacks.h"

#define COLLAPSED_MAX_LINE  (256u << 10) /* longer lines are skipped */
#define COLLAPSED_MAX_COUNT 1000000000000000ULL

enum collapsed_fmt {
	COLLAPSED_PLAIN,     /* comm;root;...;leaf count */
	COLLAPSED_GPROFILER, /* meta;container;comm;[appid: X;]root;...;leaf
				count */
	COLLAPSED_GPROFILER_NOIDX, /* container;comm;[appid: X;]root;...;leaf
				      count: application metadata off */
};

struct collapsed_stats {
	uint64_t cs_lines;   /* stack lines added */
	uint64_t cs_skipped; /* malformed, too long, or over budget */
};

/* Writes every stack of t, one line each, to f; -1 on a write error. */
int collapsed_write(FILE *f, const struct stack_table *t,
		    enum collapsed_fmt fmt);
/* Adds the stack of one line (no newline) to t. 0 added, 1 blank or a
 * comment, -1 with errno EINVAL (malformed) or ENOMEM (table full). */
int collapsed_parse_line(struct stack_table *t, const char *line, size_t len,
			 enum collapsed_fmt fmt);
/* Adds every line of f to t, counting what it skips; -1 on a read error. */
int collapsed_read(FILE *f, struct stack_table *t, enum collapsed_fmt fmt,
		   struct collapsed_stats *st);
/* The format of a gProfiler collapsed file's lines from its header line
 * ("# {...}"): with the numeric index of their application metadata
 * exactly when the header says "application_metadata_enabled": true. */
enum collapsed_fmt collapsed_header_fmt(const char *header);
/* Writes s[0..len) with ';' and control characters replaced by '_'. */
int collapsed_put_frame(FILE *f, const char *s, size_t len);

#endif
