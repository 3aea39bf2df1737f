# The systemd unit: systemd accepts it, and its exposure score (from
# systemd-analyze security, read offline) stays at or under 4.5 (it was 7.0
# before the unit was hardened), with the settings profd(8) names.
. "$top_srcdir/tests/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
UNIT="$top_builddir/contrib/profd.service"
[ -f "$UNIT" ] || fail "$UNIT was not built"
cp "$UNIT" "$T/profd.service"
# Missing executables and man pages are expected before make install.
systemd-analyze verify "$T/profd.service" >"$T/verify" 2>&1
grep -v -e 'is not executable' -e "Command 'man " "$T/verify" | grep . &&
	fail "systemd-analyze verify complains"
systemd-analyze security --offline=yes "$T/profd.service" >"$T/sec" 2>&1 ||
	{ cat "$T/sec"; skip "this systemd-analyze cannot read units offline"; }
score=$(sed -n 's/.*Overall exposure level for profd.service: \([0-9.]*\).*/\1/p' "$T/sec")
[ -n "$score" ] || { cat "$T/sec"; fail "no exposure score"; }
awk -v s="$score" 'BEGIN { exit !(s <= 4.5) }' || fail "exposure $score > 4.5"
for setting in 'ProtectSystem=strict' 'UMask=0027' 'NoNewPrivileges=yes' \
	'SystemCallArchitectures=native' 'MemoryDenyWriteExecute=yes' \
	'RestrictNamespaces=mnt net ipc pid' 'Delegate=yes' 'PrivateTmp=yes'; do
	grep -qx "$setting" "$UNIT" || fail "the unit lacks $setting"
done
grep -q 'CAP_DAC_OVERRIDE' "$UNIT" && fail "the unit keeps CAP_DAC_OVERRIDE"
pass "systemd unit: accepted, exposure $score"
