package org.dealbridge.console;

import com.sun.net.httpserver.HttpExchange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may use the console: the holder of {@code console.token}, either as a script ({@code Authorization: Bearer}),
 * or as a person signed in through the sign-in page (an HttpOnly session cookie), or, when {@code console.proxy-header}
 * is set, whoever the reverse proxy in front names in that header. There is no default credential.
 *
 * <p>Cookie and proxy identities travel with every request the browser makes, also those a foreign page makes it send,
 * so their writes must carry the session's CSRF token (header {@value #CSRF_HEADER}); a bearer token is sent only by
 * code that holds it, so it needs none. Every secret is compared in constant time.
 */
public final class ConsoleAccess {
    public static final String SESSION_COOKIE = "dealbridge_console";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    static final Duration SESSION_LIFETIME = Duration.ofHours(12);
    static final Duration SIGN_IN_LINK_LIFETIME = Duration.ofMinutes(30);

    /** Who is asking, and the CSRF token their writes must carry (null: a bearer token, no CSRF token needed). */
    public record Principal(String name, String csrfToken) {
        boolean needsCsrf() {
            return csrfToken != null;
        }
    }

    /** A signed-in browser: the cookie value and its CSRF token. */
    public record Session(String id, String csrfToken, Instant expires) {
    }

    private final byte[] tokenDigest;
    private final String proxyHeader;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final byte[] proxyCsrfKey = new byte[32];
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<String, Instant> signInCodes = new ConcurrentHashMap<>();

    /**
     * @param token       {@code console.token}; required (the configuration refuses an enabled console without one)
     * @param proxyHeader {@code console.proxy-header}, or null/blank when no reverse proxy authenticates
     */
    public ConsoleAccess(String token, String proxyHeader, Clock clock) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("console.token must be set: the console has no default credential");
        }
        this.tokenDigest = sha256(token);
        this.proxyHeader = proxyHeader == null || proxyHeader.isBlank() ? null : proxyHeader;
        this.clock = clock;
        random.nextBytes(proxyCsrfKey);
    }

    /** The request's principal, if it proved who it is. */
    public Optional<Principal> authenticate(HttpExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return isToken(authorization.substring(7).trim()) ? Optional.of(new Principal("api", null)) : Optional.empty();
        }
        Optional<Session> session = cookie(exchange, SESSION_COOKIE).flatMap(this::session);
        if (session.isPresent()) {
            return Optional.of(new Principal("console", session.get().csrfToken()));
        }
        if (proxyHeader != null) {
            String user = exchange.getRequestHeaders().getFirst(proxyHeader);
            if (user != null && !user.isBlank()) {
                return Optional.of(new Principal(user.trim(), proxyCsrfToken(user.trim())));
            }
        }
        return Optional.empty();
    }

    /** True when the write carries the principal's CSRF token (or needs none). */
    public boolean csrfOk(Principal principal, HttpExchange exchange) {
        if (!principal.needsCsrf()) {
            return true;
        }
        String sent = exchange.getRequestHeaders().getFirst(CSRF_HEADER);
        return sent != null && MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                principal.csrfToken().getBytes(StandardCharsets.UTF_8));
    }

    /** Signs a browser in with the token typed on the sign-in page. */
    public Optional<Session> signIn(String token) {
        return token != null && isToken(token) ? Optional.of(newSession()) : Optional.empty();
    }

    /** A code for a one-time sign-in link ({@code /console/sign-in?code=...}): it works once, within 30 minutes. */
    public String newSignInCode() {
        String code = randomId();
        signInCodes.put(code, clock.instant().plus(SIGN_IN_LINK_LIFETIME));
        return code;
    }

    /** Spends a one-time sign-in code. */
    public Optional<Session> signInOnce(String code) {
        if (code == null) {
            return Optional.empty();
        }
        Instant expires = signInCodes.remove(code);
        return expires != null && clock.instant().isBefore(expires) ? Optional.of(newSession()) : Optional.empty();
    }

    public void signOut(HttpExchange exchange) {
        cookie(exchange, SESSION_COOKIE).ifPresent(sessions::remove);
    }

    /**
     * The Set-Cookie value for a session: HttpOnly (scripts never see it), SameSite=Strict, the whole admin listener,
     * and Secure when the browser reached us over TLS through a proxy (the listener itself speaks plain HTTP).
     */
    public static String sessionCookie(Session session, boolean secure) {
        return SESSION_COOKIE + "=" + session.id() + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + SESSION_LIFETIME.toSeconds()
                + (secure ? "; Secure" : "");
    }

    /** True when a TLS-terminating proxy says the browser used https. */
    static boolean behindTls(HttpExchange exchange) {
        return "https".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("X-Forwarded-Proto"));
    }

    public static String expiredSessionCookie() {
        return SESSION_COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    }

    private Session newSession() {
        sessions.values().removeIf(s -> clock.instant().isAfter(s.expires()));
        Session session = new Session(randomId(), randomId(), clock.instant().plus(SESSION_LIFETIME));
        sessions.put(session.id(), session);
        return session;
    }

    private Optional<Session> session(String id) {
        Session s = sessions.get(id);
        if (s == null || clock.instant().isAfter(s.expires())) {
            return Optional.empty();
        }
        return Optional.of(s);
    }

    /** Digests first, so the comparison takes the same time whatever the length of the guess. */
    private boolean isToken(String candidate) {
        return MessageDigest.isEqual(tokenDigest, sha256(candidate));
    }

    /** A proxy-authenticated user's CSRF token, derived from the name with this process's secret key. */
    private String proxyCsrfToken(String user) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(proxyCsrfKey, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    private String randomId() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static Optional<String> cookie(HttpExchange exchange, String name) {
        for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String part : header.split(";")) {
                String p = part.trim();
                if (p.startsWith(name + "=")) {
                    return Optional.of(p.substring(name.length() + 1));
                }
            }
        }
        return Optional.empty();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Objects.requireNonNull(s).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
