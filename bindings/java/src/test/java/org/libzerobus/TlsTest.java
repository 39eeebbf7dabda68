package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutual TLS: a `zerobus serve --tls` that requires client certificates signed by its own authority
 * (which it writes to its data directory with a client certificate) opens a stream that presents
 * that certificate, and refuses one without, saying that none is configured.
 */
@Timeout(120)
class TlsTest {
  @Test
  void aClientCertificateOpensAStreamAndNoneIsRefused() throws Exception {
    Path dir = Files.createTempDirectory("zerobus-java-tls-");
    String ca = dir.resolve("ca.pem").toString();
    try (LocalServer server = LocalServer.startIn(dir, "--tls", "--tls-client-ca", ca)) {
      StreamConfigurationOptions.Builder trusting =
          server.options().setPlaintext(false).set("tls.ca.file", ca);
      StreamConfigurationOptions withCertificate =
          trusting
              .set("tls.cert.file", dir.resolve("client.pem").toString())
              .set("tls.key.file", dir.resolve("client-key.pem").toString())
              .build();
      try (ZerobusSdk sdk = new ZerobusSdk(server.endpoint, null, withCertificate);
          ZerobusStream stream =
              sdk.createJsonStream(LocalServer.EVENTS, server.options().build())) {
        for (long id = 0; id < 10; id++) {
          stream.ingestRecordOffset(Events.json(id));
        }
      }
      IngestTest.assertStoredOnce(server, 10);

      StreamConfigurationOptions without =
          server.options().setPlaintext(false).set("tls.ca.file", ca).build();
      try (ZerobusSdk sdk = new ZerobusSdk(server.endpoint, null, without)) {
        ZerobusException refused =
            assertThrows(
                ZerobusException.class,
                () ->
                    sdk.createJsonStream(
                        LocalServer.EVENTS, server.options().setRecoveryRetries(0).build()));
        assertTrue(
            refused.getMessage().contains("no client certificate is configured"),
            refused.getMessage());
      }
    }
  }
}
