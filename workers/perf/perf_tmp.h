/* The files perf record leaves in /tmp when it is killed. */
#ifndef PROFD_PERF_TMP_H
#define PROFD_PERF_TMP_H

/* Removes /tmp/perf-vdso.so-* files of this uid that no running perf of
 * this uid made (perf record makes one as it starts and removes it when it
 * ends cleanly; a killed one leaves it). Does nothing as root, whose files
 * may be an administrator's. Returns how many it removed. */
int perf_tmp_sweep(void);

#endif
