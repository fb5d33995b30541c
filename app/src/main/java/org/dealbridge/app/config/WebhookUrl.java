package org.dealbridge.app.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Set;
import org.apache.kafka.common.config.ConfigException;

/** Checks of a Bitrix inbound webhook URL whose error messages never contain the webhook code. */
public final class WebhookUrl {
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");

    private WebhookUrl() {
    }

    /** The URL with the webhook code replaced by ***: {@code https://portal/rest/1/***}/. */
    public static String mask(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("(/rest/\\d+/)[^/?#]+", "$1***");
    }

    static void validate(String key, String url, boolean allowInsecure) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new ConfigException(key, mask(url), "not a valid URL");
        }
        if (uri.getHost() == null || !("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))) {
            throw new ConfigException(key, mask(url), "must be an https URL with a host");
        }
        if (!uri.getPath().matches("(.*)/rest/\\d+/[^/]+/?")) {
            throw new ConfigException(key, mask(url), "must be an inbound webhook URL of the form https://{portal}/rest/{userId}/{code}/");
        }
        if ("http".equals(uri.getScheme()) && !LOOPBACK.contains(uri.getHost()) && !allowInsecure) {
            throw new ConfigException(key, mask(url), "plain http is refused outside 127.0.0.1/localhost because the webhook code travels in the URL;"
                    + " use https, or set rest.allow-insecure-http=true");
        }
    }
}
