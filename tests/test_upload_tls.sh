# Uploads over HTTPS: certificates verified by default, --ca-bundle,
# --no-verify, and a client certificate and key readable by root alone.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
command -v openssl >/dev/null || skip "openssl is needed to make certificates"

# A test CA, a server certificate for 127.0.0.1 and a client certificate.
cd "$T" || fail "no $T"
ssl() { openssl "$@" >>"$T/openssl.log" 2>&1 || fail "openssl $1 failed"; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
	-subj /CN=profd-test-ca
for who in server client; do
	ssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" \
		-subj "/CN=$who"
done
printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
printf 'extendedKeyUsage=clientAuth\n' >client.ext
for who in server client; do
	ssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -out "$who.pem" -days 2 -extfile "$who.ext"
done
chmod 0600 client.key ca.key server.key
cd - >/dev/null || fail "cd"

mkdir -p "$SRV"
"$PY" "$SRV_PY" serve "$SRV" --token "$TOKEN" --tls-cert "$T/server.pem" \
	--tls-key "$T/server.key" --client-ca "$T/ca.pem" >"$T/srv.log" 2>&1 &
track $!
for _ in $(seq 100); do [ -s "$SRV/control_port" ] && break; sleep 0.1; done
URL="https://127.0.0.1:$(cat "$SRV/port")"
printf '%s\n' "$TOKEN" >"$T/token"
printf 'app;main;tls_leaf 4\n' >"$T/in.txt"
up() {
	"$UPLOAD_WORKER" -u --server-host "$URL" --service-name tls-svc \
		--token-file "$T/token" --server-upload-timeout 15 "$@" \
		"$T/in.txt" >/dev/null 2>>"$T/up.err"
}
delivered() { grep -c '"/api/v2/profiles".*"status": 200' "$REQS" 2>/dev/null; }

# The test CA is not trusted by default: nothing is sent, it is spooled.
up --spool-dir "$T/s1" --client-cert "$T/client.pem" \
	--client-key "$T/client.key" && fail "an unknown CA was trusted"
[ "$(spooled "$T/s1" studio)" = 1 ] || fail "the window was not spooled"
[ "$(delivered)" = 0 ] || fail "a profile went through an unverified TLS"
# Trusted through --ca-bundle, with the client certificate: delivered,
# and the spooled window first.
up --spool-dir "$T/s1" --ca-bundle "$T/ca.pem" \
	--client-cert "$T/client.pem" --client-key "$T/client.key" ||
	{ cat "$T/up.err"; fail "not delivered with --ca-bundle"; }
[ "$(delivered)" = 2 ] || fail "$(delivered) profiles delivered, not 2"
pass "TLS verified by default; --ca-bundle with a client certificate"

# Without the client certificate the server refuses the handshake.
up --spool-dir "$T/s2" --ca-bundle "$T/ca.pem" &&
	fail "delivered without the client certificate"
# --no-verify skips the server's certificate, not the client's.
up --spool-dir "$T/s2" --no-verify --client-cert "$T/client.pem" \
	--client-key "$T/client.key" || fail "not delivered with --no-verify"
[ "$(delivered)" = 4 ] || fail "$(delivered) profiles delivered, not 4"
[ "$(spooled "$T/s2" studio)" = 0 ] || fail "spool not empty"
grep -qF "$TOKEN" "$T/up.err" && fail "the token was logged"
pass "a client certificate is required and sent; --no-verify"
