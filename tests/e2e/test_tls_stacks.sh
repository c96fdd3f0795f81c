#!/bin/bash
# tests/e2e/test_tls_stacks.sh - TLS stacks the OpenSSL probes cannot see
# (user/intake/tlsscan.c): detected in the executables of selected
# processes, counted by redtap_tls_unsupported_processes{stack}, logged once
# per executable, never attached. Fixtures built here:
#   - a C program statically linked against Debian's libssl.a/libcrypto.a
#     and stripped (a real OpenSSL without exported symbols): openssl_static;
#   - node (Debian's, a copy under a fixture name: it carries OpenSSL and
#     exports SSL_*, no libssl.so): openssl_exported;
#   - a C program with an exported function named like a rustls symbol
#     (_ZN6rustls...; a real rustls binary needs cargo and crates, out of
#     reach offline): rustls;
#   - a C program with BoringSSL's version text in .rodata (Envoy is not
#     packaged): boringssl;
#   - a plain C program and one linked against the shared libssl: none;
#   - a shared library carrying BoringSSL's version text
#     (user/intake/tlslibs.c), linked by a program started before the agent
#     and dlopen()ed a second after its start by another started after it,
#     which then talks over TCP (its first data record has the library
#     scanned again): boringssl, the file read once.
# Processes started before and after the agent; an exit lowers the gauge.
. "$(dirname "$0")/lib.sh"
AGENT=32251
LIBPORT=32570
FIX="$E2E_TMP/bin"
mkdir -p "$FIX"

# Every fixture sleeps (bounded: 120 s) until the trap stops it.
cat >"$E2E_TMP/main.c" <<'C'
#include <unistd.h>
extern void touch(void);
int main(void)
{
	touch();
	for (int i = 0; i < 1200; i++)
		usleep(100000);
	return 0;
}
C
cat >"$E2E_TMP/ossl.c" <<'C'
#include <openssl/ssl.h>
void touch(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	SSL *s = SSL_new(c);
	char b[1];

	if (SSL_read(s, b, 1) > 0) /* never: no fd */
		SSL_write(s, b, 1);
	SSL_free(s);
	SSL_CTX_free(c);
	(void)OpenSSL_version(OPENSSL_VERSION);
}
C
cat >"$E2E_TMP/rustls.c" <<'C'
/* the mangled name of a rustls function; exported */
__attribute__((used, visibility("default"))) void
rustls_like(void) __asm__("_ZN6rustls6client11ClientConnection3new17h0123456789abcdefE");
void rustls_like(void) {}
void touch(void) { rustls_like(); }
C
cat >"$E2E_TMP/boring.c" <<'C'
const char *volatile boring_version = "OpenSSL 1.1.1 (compatible; BoringSSL)";
void touch(void) { (void)boring_version; }
C
cat >"$E2E_TMP/plain.c" <<'C'
void touch(void) {}
C
# the library fixture, and its two users
cat >"$E2E_TMP/libboring.c" <<'C'
const char *volatile boring_lib_version = "OpenSSL 1.1.1 (compatible; BoringSSL)";
const char *boring_lib(void) { return boring_lib_version; }
C
cat >"$E2E_TMP/linked.c" <<'C'
extern const char *boring_lib(void);
void touch(void) { (void)boring_lib(); }
C
cat >"$E2E_TMP/dlopen.c" <<'C'
#include <arpa/inet.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* argv: the library, a port: dlopen() it a second after the start, then
 * one TCP exchange with itself, then sleep (bounded: 120 s) */
int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int l, c, s;
	char b[4];

	if (argc != 3)
		return 2;
	sleep(1);
	if (!dlopen(argv[1], RTLD_NOW))
		return 1;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1))
		return 1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (void *)&a, sizeof(a)) || (s = accept(l, NULL, NULL)) < 0)
		return 1;
	if (write(c, "ping", 4) != 4 || read(s, b, 4) != 4)
		return 1;
	for (int i = 0; i < 1200; i++)
		usleep(100000);
	return 0;
}
C
cc -O1 -shared -fPIC -o "$FIX/libtlsfix-boring.so" "$E2E_TMP/libboring.c"
cc -O1 -o "$FIX/tlsfix-linked" "$E2E_TMP/main.c" "$E2E_TMP/linked.c" -L"$FIX" -ltlsfix-boring \
	-Wl,-rpath,"$FIX"
cc -O1 -o "$FIX/tlsfix-dlopen" "$E2E_TMP/dlopen.c" -ldl
check "the library users carry no stack text themselves" sh -c \
	"! grep -qa BoringSSL '$FIX/tlsfix-linked' && ! grep -qa BoringSSL '$FIX/tlsfix-dlopen'"
cc -O1 -o "$FIX/tlsfix-ossl" "$E2E_TMP/main.c" "$E2E_TMP/ossl.c" \
	-Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -lpthread -ldl
strip "$FIX/tlsfix-ossl"
cc -O1 -rdynamic -o "$FIX/tlsfix-rustls" "$E2E_TMP/main.c" "$E2E_TMP/rustls.c"
cc -O1 -o "$FIX/tlsfix-boring" "$E2E_TMP/main.c" "$E2E_TMP/boring.c"
cc -O1 -o "$FIX/tlsfix-plain" "$E2E_TMP/main.c" "$E2E_TMP/plain.c"
cc -O1 -o "$FIX/tlsfix-shared" "$E2E_TMP/main.c" "$E2E_TMP/ossl.c" -lssl -lcrypto
ln -f "$(readlink -f "$(command -v node)")" "$FIX/tlsfix-node" 2>/dev/null ||
	cp "$(readlink -f "$(command -v node)")" "$FIX/tlsfix-node"
check "the static fixture exports no SSL_* symbol" sh -c \
	"! nm -D '$FIX/tlsfix-ossl' 2>/dev/null | grep -q ' T SSL_'"
check "the static fixture carries OpenSSL's version text" grep -qa 'OpenSSL 3\.' "$FIX/tlsfix-ossl"

spawn() { # NAME [ARGS...]: one fixture process, tracked; its pid in SPAWNED
	"$FIX/$1" "${@:2}" &
	SPAWNED=$!
	bg_track $SPAWNED
}
spawn tlsfix-ossl
OSSL1=$SPAWNED
spawn tlsfix-ossl
spawn tlsfix-boring
spawn tlsfix-plain
spawn tlsfix-shared
spawn tlsfix-node -e 'setTimeout(() => {}, 120000)'
spawn tlsfix-linked

start_agent $AGENT --exe "$FIX/tlsfix-*"
G=redtap_tls_unsupported_processes
gauge() { metric_sum $G stack="$1"; }
for _ in $(seq 50); do
	[ "$(gauge openssl_static)" = 2 ] && [ "$(gauge openssl_exported)" = 1 ] &&
		[ "$(gauge boringssl)" = 2 ] && break
	sleep 0.2
done
expect_eq "statically linked OpenSSL, two processes of one executable" "$(gauge openssl_static)" 2
expect_eq "node's exported OpenSSL" "$(gauge openssl_exported)" 1
expect_eq "BoringSSL's version text: the executable, and a linked library" "$(gauge boringssl)" 2
expect_eq "no rustls yet" "$(gauge rustls)" 0
expect_eq "nothing else counted (plain and shared libssl)" "$(metric_sum $G)" 5

# a library dlopen()ed after the process was selected, found at its first
# data record
spawn tlsfix-dlopen "$FIX/libtlsfix-boring.so" $LIBPORT
for _ in $(seq 50); do
	[ "$(gauge boringssl)" = 3 ] && break
	sleep 0.2
done
expect_eq "a dlopen()ed library, process started after the agent" "$(gauge boringssl)" 3

# started after the agent, two at once: read by gotrack's reader thread
spawn tlsfix-rustls
spawn tlsfix-rustls
for _ in $(seq 50); do
	[ "$(gauge rustls)" = 2 ] && break
	sleep 0.2
done
expect_eq "a rustls-named exported symbol, processes started after the agent" "$(gauge rustls)" 2
kill -TERM $OSSL1
wait $OSSL1 2>/dev/null
for _ in $(seq 50); do
	[ "$(gauge openssl_static)" = 1 ] && break
	sleep 0.2
done
expect_eq "an exit lowers the gauge" "$(gauge openssl_static)" 1

scrape >"$E2E_TMP/metrics.txt"
expect_eq "logged once per executable (two rustls processes started together)" \
	"$(grep -c 'tlsfix-rustls (process [0-9]*): TLS stack rustls,' "$E2E_TMP/agent.log")" 1
check "one series per stack, no 'none'" sh -c \
	"[ \$(grep -c '^$G{' '$E2E_TMP/metrics.txt') = 4 ] && ! grep -q 'stack=\"none\"' '$E2E_TMP/metrics.txt'"
expect_eq "logged once per executable (two static processes)" \
	"$(grep -c 'tlsfix-ossl (process [0-9]*): TLS stack openssl_static,' "$E2E_TMP/agent.log")" 1
expect_eq "the library read once (two processes map it)" \
	"$(grep -c 'tls: library .*/libtlsfix-boring.so (mapped by process [0-9]*): TLS stack boringssl,' "$E2E_TMP/agent.log")" 1
check "the fixtures were not probed" sh -c "! grep -q 'tls: OpenSSL probes on .*tlsfix' '$E2E_TMP/agent.log'"
stop_agent
e2e_finish
