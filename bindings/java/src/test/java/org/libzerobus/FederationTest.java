package org.libzerobus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Token federation against `zerobus serve --federation-key`, with JWTs of `zerobus idp`: the test
 * needs no crypto code of its own.
 */
@Timeout(120)
class FederationTest {
  /** A key pair of `zerobus idp keygen` and the JWTs `zerobus idp sign` makes with it. */
  private record IdentityProvider(Path dir) {
    static IdentityProvider create() throws Exception {
      Path dir = Files.createTempDirectory("zerobus-java-idp-");
      LocalServer.run("idp", "keygen", dir.toString());
      return new IdentityProvider(dir);
    }

    /** The PEM public key `zerobus serve --federation-key` trusts. */
    String publicKey() {
      return dir.resolve("idp.pem").toString();
    }

    String sign() throws Exception {
      return LocalServer.run("idp", "sign", dir.resolve("idp-key.pem").toString()).strip();
    }
  }

  private static ZerobusSdk sdk(LocalServer server) throws ZerobusException {
    return new ZerobusSdk(server.endpoint, server.workspace, server.options().build());
  }

  @Test
  void aTrustedJwtIngestsAndEveryOtherTokenIsRefused() throws Exception {
    IdentityProvider trusted = IdentityProvider.create();
    IdentityProvider other = IdentityProvider.create();
    try (LocalServer server = LocalServer.start("--federation-key", trusted.publicKey());
        ZerobusSdk sdk = sdk(server)) {
      AtomicInteger calls = new AtomicInteger();
      StreamConfigurationOptions federated =
          server
              .options()
              .setTokenFederation(
                  () -> {
                    calls.incrementAndGet();
                    return trusted.sign();
                  })
              .build();
      try (ZerobusStream stream = sdk.createJsonStream(LocalServer.EVENTS, federated)) {
        for (long id = 0; id < 10; id++) {
          stream.ingestRecordOffset(Events.json(id));
        }
      }
      assertEquals(1, calls.get(), "the provider's calls for one stream");
      IngestTest.assertStoredOnce(server, 10);

      Map<String, SubjectTokenProvider> refusals = new LinkedHashMap<>();
      refusals.put("a JWT of another identity provider", other::sign);
      refusals.put(
          "an exception",
          () -> {
            throw new IllegalStateException("no token today");
          });
      refusals.put("an empty token", () -> "");
      refusals.put("null", () -> null);
      for (Map.Entry<String, SubjectTokenProvider> refusal : refusals.entrySet()) {
        StreamConfigurationOptions options =
            server.options().setRecoveryRetries(0).setTokenFederation(refusal.getValue()).build();
        ZerobusException refused =
            assertThrows(
                ZerobusException.class,
                () -> sdk.createJsonStream(LocalServer.EVENTS, options),
                refusal.getKey());
        assertEquals("ZB_ERR_AUTH", refused.codeName(), refusal.getKey() + ": " + refused);
      }
    }
  }

  @Test
  void theFederationClientIdNamesTheServicePrincipal() throws Exception {
    IdentityProvider idp = IdentityProvider.create();
    try (LocalServer server =
            LocalServer.start("--federation-key", idp.publicKey(), "--auth", "the-sp:its-secret");
        ZerobusSdk sdk = sdk(server)) {
      StreamConfigurationOptions.Builder asTheSp =
          server.options().setRecoveryRetries(0).setTokenFederation(idp::sign);
      sdk.createJsonStream(LocalServer.EVENTS, asTheSp.setFederationClientId("the-sp").build())
          .close();
      ZerobusException refused =
          assertThrows(
              ZerobusException.class,
              () ->
                  sdk.createJsonStream(
                      LocalServer.EVENTS, asTheSp.setFederationClientId("someone-else").build()));
      assertEquals("ZB_ERR_AUTH", refused.codeName(), refused.toString());
    }
  }
}
