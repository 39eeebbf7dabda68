/* A TCP relay on loopback that stands between a client and a local server, so that tests can
 * make the network misbehave in ways a server cannot: a path that goes dark without closing
 * (what keepalive pings exist to find), or connections cut at once.
 *
 * Every connection the relay accepts is forwarded to the target in both directions on one
 * relay thread. Every function is thread-safe. Functions taking a relay require a handle from
 * zbtest_relay_start() that has not been stopped. */
#ifndef ZBTEST_RELAY_H
#define ZBTEST_RELAY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zbtest_relay zbtest_relay;

/* Starts a relay on a free port of 127.0.0.1 that forwards to `target`, an endpoint such as
 * zbtest_server_endpoint() returns ("http://127.0.0.1:PORT"). Returns NULL (after printing why
 * to stderr) when it cannot listen or `target` has no port. */
zbtest_relay *zbtest_relay_start(const char *target);

/* Closes every connection, stops the relay thread and frees the handle together with the
 * endpoint string. NULL is ignored. */
void zbtest_relay_stop(zbtest_relay *relay);

/* "http://127.0.0.1:PORT" of the relay itself, valid until zbtest_relay_stop(). */
const char *zbtest_relay_endpoint(const zbtest_relay *relay);

/* Every connection open now goes dark: once this returns, nothing more is forwarded on it in
 * either direction, yet both of its sockets stay open (until zbtest_relay_stop()), so neither
 * end sees an error. Connections accepted later are forwarded as usual. */
void zbtest_relay_freeze(zbtest_relay *relay);

/* Every connection open now is reset (both sockets closed with RST). Connections accepted
 * later are forwarded as usual. */
void zbtest_relay_sever(zbtest_relay *relay);

/* Connections accepted since the start. */
int64_t zbtest_relay_connections(const zbtest_relay *relay);

#ifdef __cplusplus
}
#endif

#endif /* ZBTEST_RELAY_H */
