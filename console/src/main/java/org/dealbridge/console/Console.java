package org.dealbridge.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The web console: the pages under {@code /console/} (static files in this jar: no CDN, no build step) and the JSON
 * API under {@code /api/} they use. The launcher adds {@link #routes()} to its admin HTTP server when
 * {@code console.enabled} is true.
 */
public final class Console {
    /** Where the pages live in the jar. */
    static final String WEB = "/org/dealbridge/console/web/";
    private static final Pattern FILE = Pattern.compile("[a-z0-9-]+\\.(html|js|css|json|svg)");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8",
            "json", "application/json; charset=utf-8", "svg", "image/svg+xml");
    /** Scripts and styles from this listener only; nothing inline, no framing. */
    private static final String CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";

    private final ConsoleAccess access;
    private final ConsoleApi api;

    public Console(ConsoleSources sources, ConsoleAccess access, Clock clock) {
        this.access = access;
        this.api = new ConsoleApi(sources, access, clock);
    }

    /** Path prefix → handler, for {@code HttpServer.createContext}. */
    public Map<String, HttpHandler> routes() {
        Map<String, HttpHandler> routes = new LinkedHashMap<>();
        routes.put("/console/", this::page);
        routes.put("/api/", api);
        return routes;
    }

    /** A link that signs a browser in once (the demo prints one), e.g. {@code http://127.0.0.1:8080/console/sign-in?code=...}. */
    public String oneTimeSignInLink(String baseUrl) {
        return baseUrl + "/console/sign-in?code=" + access.newSignInCode();
    }

    private void page(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                ConsoleApi.respond(exchange, 405, "text/plain; charset=utf-8", "use GET\n");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/console/sign-in")) {
                oneTimeSignIn(exchange);
                return;
            }
            String name = path.equals("/console/") || path.equals("/console") ? "index.html" : path.substring("/console/".length());
            if (!FILE.matcher(name).matches()) {
                ConsoleApi.respond(exchange, 404, "text/plain; charset=utf-8", "no such page: " + path + "\n");
                return;
            }
            try (InputStream in = Console.class.getResourceAsStream(WEB + name)) {
                if (in == null) {
                    ConsoleApi.respond(exchange, 404, "text/plain; charset=utf-8", "no such page: " + path + "\n");
                    return;
                }
                byte[] bytes = in.readAllBytes();
                exchange.getResponseHeaders().set("Content-Type", TYPES.get(name.substring(name.lastIndexOf('.') + 1)));
                exchange.getResponseHeaders().set("Content-Security-Policy", CSP);
                exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
                exchange.getResponseHeaders().set("Cache-Control", "no-cache");
                exchange.sendResponseHeaders(200, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    /** {@code /console/sign-in?code=...}: spends the one-time code, sets the session cookie and opens the console. */
    private void oneTimeSignIn(HttpExchange exchange) throws IOException {
        String query = Optional.ofNullable(exchange.getRequestURI().getRawQuery()).orElse("");
        String code = null;
        for (String part : query.split("&")) {
            if (part.startsWith("code=")) {
                code = URLDecoder.decode(part.substring(5), StandardCharsets.UTF_8);
            }
        }
        Optional<ConsoleAccess.Session> session = access.signInOnce(code);
        // no-referrer: the code must not leak through the Referer of the next page, though it is spent already
        exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
        if (session.isPresent()) {
            exchange.getResponseHeaders().add("Set-Cookie", ConsoleAccess.sessionCookie(session.get(), ConsoleAccess.behindTls(exchange)));
            exchange.getResponseHeaders().set("Location", "/console/");
        } else {
            exchange.getResponseHeaders().set("Location", "/console/sign-in.html?link=used");
        }
        exchange.sendResponseHeaders(303, -1);
    }
}
