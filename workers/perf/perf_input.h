/*
 * --perf-script-input: parse saved `perf script -F +pid` text instead of
 * recording, through the same streaming parser as a live window. A
 * debugging and benchmarking aid of standalone runs only.
 */
#ifndef PROFD_PERF_INPUT_H
#define PROFD_PERF_INPUT_H

#include "stacks.h"
#include "worker.h"

/* Opens FILE ("-": standard input) before the sandbox is entered; 0, or
 * -1 with a message. */
int perf_input_option(const char *arg);
/* Returns 1 when --perf-script-input was given. */
int perf_input_active(void);
/* Refuses a supervised worker; makes the window end at once. 0 or -1. */
int perf_input_start(struct worker_ctx *ctx);
/* Parses the whole input into t; 0, or -1 when it could not be read. */
int perf_input_parse(struct worker_ctx *ctx, struct stack_table *t);
/* Closes the input. */
void perf_input_stop(void);

#endif
