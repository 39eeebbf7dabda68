/* zb_sdk_destroy() returns promptly whatever the server did. The server here opens HTTP/2
 * connections with windows of 2 GiB and then never reads, like a server process that stopped
 * (SIGSTOP, a hung host) after it accepted a connection: the client's create_stream request (a
 * descriptor of 9 MiB, more than the socket buffers on both sides hold) fills them, and gRPC's
 * write waits. gRPC 1.51 then polls for that write on one of its executor threads, in rounds of
 * 10 s; the zb_sdk_destroy() that released the process's last gRPC object joined that thread in
 * grpc_shutdown() and waited for the rest of the round. No in-process gRPC server here: it
 * would keep gRPC initialized itself and hide the wait. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"

/* Generous for a loaded 2-core machine; the wait it guards against is about 10 s. */
#define DESTROY_BOUND_MS 2000
#define RUNS 5
#define MAX_CONNECTIONS 64

/* A listening socket on a free port of 127.0.0.1 whose connections inherit a receive buffer as
 * small as the kernel allows, and a thread that accepts them, sends each the server's side of
 * the HTTP/2 handshake, and reads nothing. */
typedef struct deaf_server {
  int listener;
  char endpoint[64];
  pthread_t acceptor;
  int connections[MAX_CONNECTIONS];
  int connection_count; /* the acceptor's until it is joined */
} deaf_server;

/* SETTINGS with SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1, a WINDOW_UPDATE raising the
 * connection's window from 65,535 to as much (the client may send a whole request at once),
 * and the acknowledgement of the client's SETTINGS, which it sent first. */
static const unsigned char kHandshake[] = {
    0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0,    0x4,  0x7f, 0xff, 0xff, 0xff, /* SETTINGS */
    0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0x00, 0x00,             /* WINDOW_UPDATE */
    0, 0, 0, 0x4, 1, 0, 0, 0, 0,                                     /* SETTINGS, ACK */
};

static void *deaf_server_accept(void *arg) {
  deaf_server *server = arg;
  for (;;) {
    const int connection = accept(server->listener, NULL, NULL);
    if (connection < 0) return NULL; /* the listener was shut down */
    assert_true(server->connection_count < MAX_CONNECTIONS);
    server->connections[server->connection_count++] = connection;
    assert_int_equal(write(connection, kHandshake, sizeof kHandshake), (ssize_t)sizeof kHandshake);
  }
}

static deaf_server *deaf_server_start(void) {
  deaf_server *server = calloc(1, sizeof *server);
  assert_non_null(server);
  server->listener = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(server->listener >= 0);
  const int smallest = 1;
  assert_int_equal(setsockopt(server->listener, SOL_SOCKET, SO_RCVBUF, &smallest, sizeof smallest),
                   0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  assert_int_equal(bind(server->listener, (struct sockaddr *)&address, length), 0);
  assert_int_equal(listen(server->listener, 16), 0);
  assert_int_equal(getsockname(server->listener, (struct sockaddr *)&address, &length), 0);
  snprintf(server->endpoint, sizeof server->endpoint, "http://127.0.0.1:%d",
           (int)ntohs(address.sin_port));
  assert_int_equal(pthread_create(&server->acceptor, NULL, deaf_server_accept, server), 0);
  return server;
}

static void deaf_server_stop(deaf_server *server) {
  shutdown(server->listener, SHUT_RDWR);
  assert_int_equal(pthread_join(server->acceptor, NULL), 0);
  close(server->listener);
  for (int i = 0; i < server->connection_count; ++i) close(server->connections[i]);
  free(server);
}

/* A serialized DescriptorProto of about 9 MiB (the service takes 10): message "Wide" with
 * optional string fields c0000001, c0000002, ... It makes a create_stream request larger than
 * the socket buffers (Linux grows a send buffer up to 4 MiB by default). Sets *len. */
static uint8_t *wide_descriptor(size_t *len) {
  enum { kFieldBytes = 21, kFields = (9 << 20) / kFieldBytes };
  uint8_t *descriptor = malloc(6 + (size_t)kFields * kFieldBytes);
  assert_non_null(descriptor);
  size_t used = 0;
  memcpy(descriptor, "\x0a\x04Wide", 6); /* name */
  used += 6;
  for (uint32_t number = 1; number <= kFields; ++number) {
    uint8_t *field = descriptor + used;
    field[0] = 0x12; /* field: a FieldDescriptorProto of kFieldBytes - 2 bytes */
    field[1] = kFieldBytes - 2;
    field[2] = 0x0a; /* name: 8 characters */
    field[3] = 8;
    snprintf((char *)field + 4, 9, "c%07u", (unsigned)number);
    field[12] = 0x18; /* number, as a 4-byte varint */
    field[13] = (uint8_t)(0x80 | (number & 0x7f));
    field[14] = (uint8_t)(0x80 | ((number >> 7) & 0x7f));
    field[15] = (uint8_t)(0x80 | ((number >> 14) & 0x7f));
    field[16] = (uint8_t)((number >> 21) & 0x7f);
    field[17] = 0x20; /* label: LABEL_OPTIONAL */
    field[18] = 1;
    field[19] = 0x28; /* type: TYPE_STRING */
    field[20] = 9;
    used += kFieldBytes;
  }
  *len = used;
  return descriptor;
}

/* Opening the stream fails (the server never answers); the SDK is then destroyed, and so the
 * process's last gRPC object. With `own_connection` the stream had a channel of its own. Stops
 * at the first slow destroy, so that a failing run takes one wait, not RUNS of them. */
static void destroy_after_a_deaf_server(bool own_connection) {
  deaf_server *server = deaf_server_start();
  size_t descriptor_len = 0;
  uint8_t *descriptor = wide_descriptor(&descriptor_len);
  for (int run = 0; run < RUNS; ++run) {
    /* The open gives up after recovery.timeout.ms but waits for gRPC to end the call, whose
     * write is stuck until keepalive finds the connection dead (after 20 s by default). */
    zb_config *sdk_cfg =
        tu_config((const char *const[]){"transport.plaintext", "true", "grpc.keepalive.time.ms",
                                        "1000", "grpc.keepalive.timeout.ms", "1000", NULL});
    zb_sdk *sdk = NULL;
    zb_error *err = NULL;
    TU_EXPECT(ZB_OK, err, zb_sdk_new(server->endpoint, sdk_cfg, &sdk, &err));
    zb_config_destroy(sdk_cfg);
    zb_config *cfg = tu_config(
        (const char *const[]){"recovery.timeout.ms", "500", "recovery.retries", "0",
                              "stream.own.connection", own_connection ? "true" : "false", NULL});
    zb_stream *stream = NULL;
    const zb_status opened = zb_stream_new(sdk, "main.default.wide", ZB_RECORD_PROTO, descriptor,
                                           descriptor_len, cfg, &stream, &err);
    assert_true(opened == ZB_ERR_TIMEOUT || opened == ZB_ERR_TRANSPORT);
    assert_null(stream);
    zb_error_free(err);
    zb_config_destroy(cfg);
    const int64_t started = tu_now_ms();
    zb_sdk_destroy(sdk);
    const int64_t took = tu_now_ms() - started;
    print_message("zb_sdk_destroy() took %lld ms\n", (long long)took);
    assert_true(took < DESTROY_BOUND_MS);
  }
  free(descriptor);
  deaf_server_stop(server);
}

static void test_destroy_after_a_deaf_server(void **state) {
  (void)state;
  destroy_after_a_deaf_server(false);
}

static void test_destroy_after_a_deaf_server_own_connection(void **state) {
  (void)state;
  destroy_after_a_deaf_server(true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_destroy_after_a_deaf_server),
      cmocka_unit_test(test_destroy_after_a_deaf_server_own_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
