package org.dealbridge.bitrix;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An inbound-webhook base URL {@code https://portal/rest/{userId}/{code}/} (reference §1.1).
 *
 * <p>The webhook code is a bearer secret: {@link #toString()}, {@link #masked()} and {@link #mask(String)} replace it with
 * {@code ***}, and nothing in this module prints the raw URL.
 */
public final class WebhookUrl {
    public static final String MASK = "***";
    private static final Pattern USER_ID = Pattern.compile("\\d+");
    private static final Pattern CODE = Pattern.compile("[A-Za-z0-9_\\-]+");

    private final String base;       // always ends with '/'
    private final String code;
    private final String userId;
    private final String host;
    private final int port;
    private final String scheme;

    private WebhookUrl(String base, String scheme, String host, int port, String userId, String code) {
        this.base = base;
        this.scheme = scheme;
        this.host = host;
        this.port = port;
        this.userId = userId;
        this.code = code;
    }

    /**
     * Parses a webhook base URL. Plain {@code http://} is accepted only for 127.0.0.1/localhost (tests, the emulator)
     * or when {@code allowInsecureHttp} is set: the portal answers {@code INVALID_REQUEST / Https required.} to webhook
     * calls over http, and sending the code in clear text would leak it.
     */
    public static WebhookUrl parse(String url, boolean allowInsecureHttp) {
        Objects.requireNonNull(url, "webhook url");
        String trimmed = url.trim();
        URI uri;
        try {
            uri = new URI(trimmed);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("webhook url is not a URL: " + maskAnyCode(trimmed));
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost();
        if (host == null || !(scheme.equals("https") || scheme.equals("http"))) {
            throw new IllegalArgumentException("webhook url must be https://{portal}/rest/{userId}/{code}/, got " + maskAnyCode(trimmed));
        }
        String[] segments = (uri.getRawPath() == null ? "" : uri.getRawPath()).replaceAll("^/+|/+$", "").split("/");
        int rest = -1;
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].equals("rest")) {
                rest = i;
            }
        }
        if (rest < 0 || segments.length != rest + 3 || !USER_ID.matcher(segments[rest + 1]).matches()
                || !CODE.matcher(segments[rest + 2]).matches()) {
            throw new IllegalArgumentException("webhook url must end with /rest/{userId}/{code}/, got " + maskAnyCode(trimmed));
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("webhook url must not have a query or fragment: " + maskAnyCode(trimmed));
        }
        String code = segments[rest + 2];
        String lowerHost = host.toLowerCase(Locale.ROOT);
        boolean loopback = lowerHost.equals("127.0.0.1") || lowerHost.equals("localhost") || lowerHost.equals("[::1]") || lowerHost.equals("::1");
        String base = trimmed.endsWith("/") ? trimmed : trimmed + "/";
        WebhookUrl parsed = new WebhookUrl(base, scheme, lowerHost, uri.getPort() < 0 ? (scheme.equals("https") ? 443 : 80) : uri.getPort(),
                segments[rest + 1], code);
        if (scheme.equals("http") && !loopback && !allowInsecureHttp) {
            throw new IllegalArgumentException("refusing plain http for a non-local portal (the webhook code would travel in clear text; "
                    + "set allowInsecureHttp to override): " + parsed.masked());
        }
        return parsed;
    }

    /** The URL of one REST method, e.g. {@code .../rest/1/code/crm.deal.get}. Never log this; log {@link #maskedMethodUrl}. */
    public URI methodUri(String method) {
        return URI.create(base + method);
    }

    public String maskedMethodUrl(String method) {
        return masked() + method;
    }

    /** The base URL with the code replaced by {@code ***}. */
    public String masked() {
        return mask(base);
    }

    /** Replaces every occurrence of this webhook's code in {@code text} by {@code ***}. Null-safe. */
    public String mask(String text) {
        if (text == null) {
            return null;
        }
        return text.replace(code, MASK);
    }

    /**
     * The portal's request-rate bucket is kept per portal and source IP, not per webhook (reference §2.1), so every
     * webhook of one host shares a limiter: the key is scheme, host and port.
     */
    public String portalKey() {
        return scheme + "://" + host + ":" + port;
    }

    public String host() {
        return host;
    }

    public String userId() {
        return userId;
    }

    @Override
    public String toString() {
        return masked();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebhookUrl other && other.base.equals(base);
    }

    @Override
    public int hashCode() {
        return base.hashCode();
    }

    /**
     * For a string that failed to parse we cannot tell where the code is, so only scheme and host are shown; the path
     * (which holds the code) is replaced by {@code ***}.
     */
    static String maskAnyCode(String text) {
        java.util.regex.Matcher m = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]+).*$").matcher(text);
        return m.matches() ? m.group(1) + "/" + MASK : "(unparseable URL, not shown)";
    }
}
