package org.libzerobus;

/**
 * One configuration key as the loaded library describes it (zb_config_describe).
 *
 * @param name the key, e.g. "recovery.retries"
 * @param type "bool", "int" or "string"
 * @param defaultValue the default, as text
 * @param range the accepted values
 * @param scope "sdk" (read when the SDK is made) or "stream" (when a stream opens)
 * @param description one paragraph
 */
public record ConfigProperty(
    String name,
    String type,
    String defaultValue,
    String range,
    String scope,
    String description) {}
