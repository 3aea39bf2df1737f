# The fault workers again, with limits enforced by polling /proc, as on a
# host where no cgroup can be written: the same outcome is expected.
CGROUP_MODE=poll
. "$top_srcdir/tests/test_faults.sh"
