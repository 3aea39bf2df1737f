# shellcheck shell=bash
# The cgroups a profd makes, for the cleanup of tests and benchmarks
# (sourced, bash).

# profd_cgroup_parent RUNDIR: the cgroup parent of a profd with that
# runtime dir, "profd." and the 32-bit FNV-1a hash of the path (as
# supervisor/profd.c names it).
profd_cgroup_parent() {
	local h=2166136261 i c
	for ((i = 0; i < ${#1}; i++)); do
		printf -v c '%d' "'${1:i:1}"
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	printf 'profd.%08x\n' "$h"
}

# profd_cgroups_remove DIR...: removes the cgroups of a profd that ran
# with any of these runtime dirs and was killed; children first. Their
# processes must be gone already.
profd_cgroups_remove() {
	local run cg
	for run in "$@"; do
		for cg in /sys/fs/cgroup/*/"$(profd_cgroup_parent "$run")" \
			/sys/fs/cgroup/"$(profd_cgroup_parent "$run")"; do
			# Tasks that were just killed may take a moment.
			for _ in 1 2 3 4 5; do
				[ -d "$cg" ] || break
				find "$cg" -mindepth 1 -depth -type d \
					-exec rmdir {} + 2>/dev/null
				rmdir "$cg" 2>/dev/null && break
				sleep 0.2
			done
		done
	done
}
