/* Token federation and mutual TLS as a C user meets them, against the local server: a token
 * federation callback that hands the library a JWT of the identity provider the server trusts
 * (signed by `zerobus idp`, ZEROBUS_CLI) opens a stream, one of another provider is refused
 * with ZB_ERR_AUTH; a client certificate the server's authority signed opens a stream, none is
 * refused with a message that says no certificate is configured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

/* A directory of the test's own, made under /tmp; `path` holds at least 64 bytes. */
static void temp_dir(char *path) {
  strcpy(path, "/tmp/zb-c-auth-XXXXXX");
  assert_non_null(mkdtemp(path));
}

static void remove_dir(const char *path) {
  char command[256];
  snprintf(command, sizeof command, "rm -rf '%s'", path);
  assert_int_equal(system(command), 0);
}

/* `zerobus idp keygen DIR`: DIR/idp-key.pem and DIR/idp.pem. */
static void make_identity_provider(const char *dir) {
  char command[512];
  snprintf(command, sizeof command, "'%s' idp keygen '%s' >/dev/null", ZEROBUS_CLI, dir);
  assert_int_equal(system(command), 0);
}

/* The token federation callback: the user_data is an identity provider's directory, whose key
 * signs the JWT (`zerobus idp sign`). */
static zb_status sign_subject_token(zb_token_sink *sink, void *user_data) {
  char command[512];
  snprintf(command, sizeof command, "'%s' idp sign '%s/idp-key.pem'", ZEROBUS_CLI,
           (const char *)user_data);
  FILE *signer = popen(command, "r");
  if (signer == NULL) return ZB_ERR_AUTH;
  char jwt[4096] = "";
  const int read = fgets(jwt, sizeof jwt, signer) != NULL;
  if (pclose(signer) != 0 || !read) return ZB_ERR_AUTH;
  jwt[strcspn(jwt, "\n")] = '\0';
  return zb_token_sink_set(sink, jwt, NULL);
}

static void test_token_federation(void **state) {
  (void)state;
  char trusted[64], other[64];
  temp_dir(trusted);
  temp_dir(other);
  make_identity_provider(trusted);
  make_identity_provider(other);
  char key_file[128];
  snprintf(key_file, sizeof key_file, "%s/idp.pem", trusted);
  zbtest_server_options options = {0};
  options.federation_key_file = key_file;
  zbtest_server *server = zbtest_server_start(&options);
  assert_non_null(server);
  const char *const sdk_pairs[] = {"transport.plaintext", "true", "workspace.url",
                                   zbtest_server_workspace_url(server), NULL};
  zb_config *sdk_cfg = tu_config(sdk_pairs);
  zb_sdk *sdk = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(server), sdk_cfg, &sdk, &err));
  zb_config_destroy(sdk_cfg);

  zb_config *cfg = tu_config((const char *const[]){"recovery.retries", "0", NULL});
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err,
            zb_config_set_token_federation(cfg, sign_subject_token, trusted, NULL, &err));
  zb_stream *stream = tu_open_proto(sdk, TU_TABLE, cfg);
  tu_ingest_and_flush(stream, 0, 10, "federated");
  tu_close_and_destroy(stream);
  assert_int_equal(zbtest_server_record_count(server, TU_TABLE), 10);
  assert_int_equal(zbtest_server_tokens_issued(server), 1);

  /* Another provider's JWT: the exchange is refused. */
  err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_config_set_token_federation(cfg, sign_subject_token, other, NULL, &err));
  zb_error_free(TU_OPEN_ERROR(ZB_ERR_AUTH, sdk, TU_TABLE, ZB_RECORD_PROTO, cfg));
  assert_int_equal(zbtest_server_tokens_issued(server), 1);

  zb_config_destroy(cfg);
  zb_sdk_destroy(sdk);
  zbtest_server_stop(server);
  remove_dir(trusted);
  remove_dir(other);
}

static zb_sdk *tls_sdk(zbtest_server *server, const char *dir, int with_certificate) {
  char ca[128], cert[128], key[128];
  snprintf(ca, sizeof ca, "%s/ca.pem", dir);
  snprintf(cert, sizeof cert, "%s/client.pem", dir);
  snprintf(key, sizeof key, "%s/client-key.pem", dir);
  /* Without the certificate: the authority alone, the last pair. */
  const char *const pairs[] = {"tls.cert.file", cert, "tls.key.file", key, "tls.ca.file", ca, NULL};
  zb_config *cfg = tu_config(with_certificate ? pairs : pairs + 4);
  zb_sdk *sdk = NULL;
  zb_error *err = TU_ERR_SENTINEL;
  TU_EXPECT(ZB_OK, err, zb_sdk_new(zbtest_server_endpoint(server), cfg, &sdk, &err));
  zb_config_destroy(cfg);
  return sdk;
}

static void test_mutual_tls(void **state) {
  (void)state;
  char dir[64];
  temp_dir(dir);
  zbtest_server_options options = {0};
  options.mutual_tls_dir = dir;
  zbtest_server *server = zbtest_server_start(&options);
  assert_non_null(server);

  zb_sdk *sdk = tls_sdk(server, dir, 1);
  zb_stream *stream = tu_open_proto(sdk, TU_TABLE, NULL);
  tu_ingest_and_flush(stream, 0, 10, "mutual");
  tu_close_and_destroy(stream);
  zb_sdk_destroy(sdk);
  assert_int_equal(zbtest_server_record_count(server, TU_TABLE), 10);

  zb_sdk *without = tls_sdk(server, dir, 0);
  zb_config *cfg = tu_config((const char *const[]){"recovery.retries", "0", NULL});
  zb_error *err = TU_OPEN_ERROR(ZB_ERR_TRANSPORT, without, TU_TABLE, ZB_RECORD_PROTO, cfg);
  assert_non_null(strstr(zb_error_message(err), "no client certificate is configured"));
  zb_error_free(err);
  zb_config_destroy(cfg);
  zb_sdk_destroy(without);
  assert_int_equal(zbtest_server_streams_opened(server), 1);
  zbtest_server_stop(server);
  remove_dir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_federation),
      cmocka_unit_test(test_mutual_tls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
