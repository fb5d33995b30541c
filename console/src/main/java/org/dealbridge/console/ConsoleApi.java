package org.dealbridge.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.DocumentDiff;
import org.dealbridge.mapping.LiveMappingValidator;
import org.dealbridge.mapping.MappingDocument;
import org.dealbridge.mapping.MappingError;
import org.dealbridge.mapping.MappingInvalidException;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopicReader;
import org.dealbridge.mapping.MappingValidator;
import org.dealbridge.operations.DeadLetterQueue;
import org.dealbridge.operations.OrderTrace;
import org.dealbridge.schemas.DeadLetter;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.MappingProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's JSON API under {@code /api/} (documented in {@code openapi.json} next to the pages). Every endpoint
 * but the sign-in needs a principal ({@link ConsoleAccess}); every write from a cookie or proxy session needs its CSRF
 * token. The work is done by the same code as the CLI: {@link MappingPublisher} (validation, versions, diff,
 * rollback), {@link LiveMappingValidator}, {@link OrderTrace}, {@link DeadLetterQueue}, so the console and
 * {@code bin/dealbridge} can never disagree.
 */
final class ConsoleApi implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(ConsoleApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final int MAX_BODY_BYTES = 256 * 1024;
    private static final Pattern SITE = Pattern.compile("[A-Za-z0-9_-]+");

    private final ConsoleSources sources;
    private final ConsoleAccess access;
    private final Clock clock;
    private final List<Route> routes = new ArrayList<>();

    @FunctionalInterface
    private interface Endpoint {
        void handle(Call call) throws Exception;
    }

    private record Route(String method, Pattern path, boolean write, Endpoint endpoint) {
    }

    /** One request: its principal, path parameters and body. */
    private record Call(HttpExchange exchange, ConsoleAccess.Principal principal, Matcher path) {
        String param(int group) {
            return URLDecoder.decode(path.group(group), StandardCharsets.UTF_8);
        }

        JsonNode body() throws IOException {
            try (InputStream in = exchange.getRequestBody()) {
                byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
                if (bytes.length > MAX_BODY_BYTES) {
                    throw new BadRequest("body", "larger than " + MAX_BODY_BYTES + " bytes");
                }
                if (bytes.length == 0) {
                    return JSON.createObjectNode();
                }
                try {
                    return JSON.readTree(bytes);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new BadRequest("body", "not JSON: " + e.getOriginalMessage());
                }
            }
        }

        String query(String name) {
            String q = exchange.getRequestURI().getRawQuery();
            if (q == null) {
                return null;
            }
            for (String part : q.split("&")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).equals(name)) {
                    return URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
            return null;
        }
    }

    /** A request that names a wrong field; answered 400 with the field and what is wrong. */
    static final class BadRequest extends RuntimeException {
        final String field;

        BadRequest(String field, String message) {
            super(message);
            this.field = field;
        }
    }

    ConsoleApi(ConsoleSources sources, ConsoleAccess access, Clock clock) {
        this.sources = sources;
        this.access = access;
        this.clock = clock;
        route("GET", "/api/session", false, this::session);
        route("DELETE", "/api/session", true, this::signOut);
        route("GET", "/api/overview", false, c -> json(c, 200, new Overview(sources, clock).read()));
        route("GET", "/api/portals/choices", false, this::choices);
        route("GET", "/api/mapping/([^/]+)", false, this::mappingInForce);
        route("GET", "/api/mapping/([^/]+)/export", false, this::export);
        route("GET", "/api/mapping/([^/]+)/history", false, this::history);
        route("GET", "/api/mapping/([^/]+)/versions/([0-9]+)", false, this::version);
        route("POST", "/api/mapping/([^/]+)/validate", true, c -> check(c, true));
        route("POST", "/api/mapping/([^/]+)/publish", true, c -> check(c, false));
        route("POST", "/api/mapping/([^/]+)/rollback", true, this::rollback);
        route("GET", "/api/orders/([^/]+)", false, this::order);
        route("POST", "/api/orders/([^/]+)/resync", true, this::resync);
        route("GET", "/api/deals/([0-9]+)", false, this::deal);
        route("GET", "/api/dead-letters", false, this::deadLetters);
        route("POST", "/api/dead-letters/replay-all", true, this::replayAll);
        route("POST", "/api/dead-letters/([^/]+)/replay", true, this::replay);
        route("POST", "/api/dead-letters/([^/]+)/retire", true, this::retire);
    }

    private void route(String method, String path, boolean write, Endpoint endpoint) {
        routes.add(new Route(method, Pattern.compile(path), write, endpoint));
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.equals("/api/session") && method.equals("POST")) {
                signIn(exchange);
                return;
            }
            Optional<ConsoleAccess.Principal> principal = access.authenticate(exchange);
            if (principal.isEmpty()) {
                error(exchange, 401, null, "sign in first: send Authorization: Bearer <console.token>, or sign in on /console/");
                return;
            }
            List<String> allowed = new ArrayList<>();
            for (Route r : routes) {
                Matcher m = r.path().matcher(path);
                if (!m.matches()) {
                    continue;
                }
                if (!r.method().equals(method)) {
                    allowed.add(r.method());
                    continue;
                }
                if (r.write() && !access.csrfOk(principal.get(), exchange)) {
                    error(exchange, 403, ConsoleAccess.CSRF_HEADER, "the " + ConsoleAccess.CSRF_HEADER
                            + " header is missing or wrong: reload the page (GET /api/session gives the token)");
                    return;
                }
                run(r, new Call(exchange, principal.get(), m));
                return;
            }
            if (!allowed.isEmpty()) {
                exchange.getResponseHeaders().set("Allow", String.join(", ", allowed));
                error(exchange, 405, null, "method " + method + " not allowed on " + path + ", use " + String.join(" or ", allowed));
            } else {
                error(exchange, 404, null, "no such endpoint: " + method + " " + path + " (see /console/openapi.json)");
            }
        }
    }

    private void run(Route route, Call call) throws IOException {
        try {
            route.endpoint().handle(call);
        } catch (BadRequest e) {
            error(call.exchange(), 400, e.field, e.field + ": " + e.getMessage());
        } catch (NotFound e) {
            error(call.exchange(), 404, null, e.getMessage());
        } catch (IllegalArgumentException e) {
            error(call.exchange(), 400, null, e.getMessage());
        } catch (Exception e) {
            log.warn("console API {} {} failed: {}", call.exchange().getRequestMethod(), call.exchange().getRequestURI().getPath(), e.toString());
            error(call.exchange(), 502, null, "failed: " + e.getMessage());
        }
    }

    static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    // ---- access -------------------------------------------------------------------------------------------------

    private void signIn(HttpExchange exchange) throws IOException {
        JsonNode body;
        try {
            body = new Call(exchange, null, null).body();
        } catch (BadRequest e) {
            error(exchange, 400, e.field, e.field + ": " + e.getMessage());
            return;
        }
        Optional<ConsoleAccess.Session> session = access.signIn(body.path("token").asText(null));
        if (session.isEmpty()) {
            error(exchange, 401, "token", "token: this is not the console.token of this DealBridge");
            return;
        }
        exchange.getResponseHeaders().add("Set-Cookie", ConsoleAccess.sessionCookie(session.get(), ConsoleAccess.behindTls(exchange)));
        json(exchange, 200, JSON.createObjectNode().put("user", "console").put("csrfToken", session.get().csrfToken()));
    }

    private void session(Call c) throws IOException {
        ObjectNode out = JSON.createObjectNode().put("user", c.principal().name()).put("siteId", sources.siteId());
        out.put("csrfToken", c.principal().csrfToken());
        json(c, 200, out);
    }

    private void signOut(Call c) throws IOException {
        access.signOut(c.exchange());
        c.exchange().getResponseHeaders().add("Set-Cookie", ConsoleAccess.expiredSessionCookie());
        json(c, 200, JSON.createObjectNode().put("signedOut", true));
    }

    // ---- mapping ------------------------------------------------------------------------------------------------

    private void choices(Call c) throws IOException {
        if (sources.crm().isEmpty() || sources.store().isEmpty()) {
            json(c, 409, JSON.createObjectNode().put("error",
                    "the CRM and the store are not both configured (crm.webhook-url, store.webhook-url): the form needs their lists"));
            return;
        }
        json(c, 200, PortalChoices.read(sources.crm().get(), sources.store().get()));
    }

    private String site(Call c) {
        String site = c.param(1);
        if (!SITE.matcher(site).matches()) {
            throw new BadRequest("site", "'" + site + "' is not a site id (letters, digits, _ and -)");
        }
        return site;
    }

    private MappingTopicReader reader() {
        return new MappingTopicReader(sources.kafkaClientProperties(), sources.mappingTopics());
    }

    private MappingPublisher publisher() {
        return new MappingPublisher(sources.kafkaClientProperties(), sources.mappingTopics(), clock);
    }

    private void mappingInForce(Call c) throws IOException {
        String site = site(c);
        MappingProfile p = reader().latest(site).orElseThrow(() -> new NotFound("site " + site + " has no mapping in force"));
        json(c, 200, profile(p, true));
    }

    private void export(Call c) throws IOException {
        String site = site(c);
        MappingProfile p = reader().latest(site).orElseThrow(() -> new NotFound("site " + site + " has no mapping in force"));
        c.exchange().getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + site + ".yaml\"");
        respond(c.exchange(), 200, "application/yaml; charset=utf-8", p.getDocument());
    }

    private void history(Call c) throws IOException {
        String site = site(c);
        MappingTopicReader reader = reader();
        Optional<Long> latest = reader.latest(site).map(MappingProfile::getVersion);
        ArrayNode versions = JSON.createArrayNode();
        for (MappingProfile p : reader.history(site)) {
            versions.add(profile(p, false).put("inForce", latest.isPresent() && latest.get() == p.getVersion()));
        }
        json(c, 200, JSON.createObjectNode().put("site", site).set("versions", versions));
    }

    private void version(Call c) throws IOException {
        String site = site(c);
        long n = Long.parseLong(c.param(2));
        MappingProfile p = reader().version(site, n).orElseThrow(() -> new NotFound("site " + site + " has no version " + n));
        json(c, 200, profile(p, true));
    }

    /**
     * Validate ({@code dryRun}) or publish a document, as {@code mapping validate --live} and {@code mapping publish}
     * do: the offline validation, then the live one when both portals are configured, then the diff against the
     * version in force. An invalid document is answered 422 with every error as the CLI prints it.
     */
    private void check(Call c, boolean dryRun) throws IOException {
        String site = site(c);
        JsonNode body = c.body();
        String yaml = body.path("document").asText(null);
        if (yaml == null || yaml.isBlank()) {
            throw new BadRequest("document", "the mapping document (YAML text) is required");
        }
        List<MappingError> offline = MappingValidator.validate(yaml);
        if (offline.isEmpty() && !site.equals(MappingDocument.parse(yaml).site())) {
            offline = List.of(new MappingError("site", MappingDocument.parse(yaml).site(),
                    "the document is for another site than " + site));
        }
        if (!offline.isEmpty()) {
            invalid(c, offline);
            return;
        }
        String author = body.path("author").asText("").isBlank() ? c.principal().name() : body.path("author").asText();
        try {
            MappingPublisher.Publication publication = publisher().publish(yaml, author, dryRun, liveCheck());
            json(c, 200, publication(publication, dryRun));
        } catch (MappingInvalidException e) {
            invalid(c, e.errors());
        }
    }

    private void rollback(Call c) throws IOException {
        String site = site(c);
        JsonNode body = c.body();
        if (!body.path("to").canConvertToLong() || body.path("to").asLong() < 1) {
            throw new BadRequest("to", "the version to go back to (a number from the history) is required");
        }
        String author = body.path("author").asText("").isBlank() ? c.principal().name() : body.path("author").asText();
        try {
            json(c, 200, publication(publisher().rollback(site, body.path("to").asLong(), author, false, liveCheck()), false));
        } catch (MappingInvalidException e) {
            invalid(c, e.errors());
        }
    }

    /** The CLI's rule: live validation when both portals are configured. */
    private DocumentCheck liveCheck() {
        return sources.crm().isPresent() && sources.store().isPresent()
                ? new LiveMappingValidator(sources.crm().get(), sources.store().get()) : DocumentCheck.NONE;
    }

    private void invalid(Call c, List<MappingError> errors) throws IOException {
        ObjectNode out = JSON.createObjectNode().put("valid", false)
                .put("error", "invalid mapping document, " + errors.size() + (errors.size() == 1 ? " error" : " errors") + "; nothing was published");
        ArrayNode list = out.putArray("errors");
        for (MappingError e : errors) {
            list.addObject().put("path", e.path()).put("value", e.value()).put("message", e.message()).put("text", e.toString());
        }
        json(c, 422, out);
    }

    private ObjectNode publication(MappingPublisher.Publication p, boolean dryRun) {
        ObjectNode out = JSON.createObjectNode().put("valid", true)
                .put("checkedLive", sources.crm().isPresent() && sources.store().isPresent())
                .put("published", p.published()).put("unchanged", p.unchanged()).put("dryRun", dryRun)
                .put("version", p.profile().getVersion())
                .put("previousVersion", p.previous().map(MappingProfile::getVersion).orElse(null));
        ArrayNode diff = out.putArray("diff");
        p.diff().forEach(diff::add);
        return out;
    }

    /** A published version: {@code document} is the text as published; {@code form} its parsed tree, for the form. */
    private static ObjectNode profile(MappingProfile p, boolean withDocument) {
        ObjectNode out = JSON.createObjectNode().put("site", p.getSiteId()).put("version", p.getVersion())
                .put("author", p.getAuthor()).put("publishedAt", String.valueOf(p.getPublishedAt()))
                .put("contentHash", p.getContentHash());
        if (withDocument) {
            out.put("document", p.getDocument());
            try {
                out.set("form", YAML.readTree(p.getDocument()));
            } catch (IOException e) {
                out.putNull("form");
            }
        }
        return out;
    }

    // ---- orders -------------------------------------------------------------------------------------------------

    private Keys.OrderKey orderKey(Call c) {
        String raw = c.param(1).trim();
        try {
            return Keys.parseOrder(raw.contains(":") ? raw : sources.siteId() + ":" + raw);
        } catch (RuntimeException e) {
            throw new BadRequest("order", "'" + raw + "' is not an order: write its id (5001) or site:id (s1:5001)");
        }
    }

    private void order(Call c) throws IOException {
        json(c, 200, story(new OrderTrace(sources.kafkaClientProperties(), sources.topics()).of(orderKey(c))));
    }

    /** Reads the order from the store again, so that it is decided with the mapping in force (after a mapping change). */
    private void resync(Call c) throws IOException {
        Keys.OrderKey key = orderKey(c);
        if (!key.siteId().equals(sources.siteId())) {
            throw new BadRequest("order", "this DealBridge reads the orders of site " + sources.siteId() + ", not " + key.siteId());
        }
        if (sources.resync().isEmpty()) {
            json(c, 409, JSON.createObjectNode().put("error", "the store is not configured (store.webhook-url): no order can be read"));
            return;
        }
        String result = sources.resync().get().resync(key.orderId());
        boolean queued = !"DROPPED_FULL".equals(result);
        json(c, queued ? 202 : 503, JSON.createObjectNode().put("order", key.toString()).put("result", result)
                .put("message", queued ? "order " + key + " is read from the store again and decided with the mapping in force"
                        : "the store reader's queue is full; the poller will read the order at its next round"));
    }

    private void deal(Call c) throws IOException {
        long dealId = Long.parseLong(c.param(1));
        OrderTrace trace = new OrderTrace(sources.kafkaClientProperties(), sources.topics());
        Keys.OrderKey key = trace.orderOfDeal(dealId)
                .orElseThrow(() -> new NotFound("deal " + dealId + " is linked to no order: DealBridge neither made it nor made an order from it"));
        json(c, 200, story(trace.of(key)));
    }

    private ObjectNode story(OrderTrace.Story story) {
        ObjectNode out = JSON.createObjectNode().put("order", story.order().toString());
        ArrayNode entries = out.putArray("entries");
        String why = null;
        for (OrderTrace.Entry e : story.entries()) {
            entries.addObject().put("at", e.at().toString()).put("topic", e.topic()).put("text", e.text());
            if (e.text().startsWith("outcome ") || e.text().startsWith("dead letter ")) {
                why = e.text();
            }
        }
        if (story.linkedDeals().isEmpty()) {
            out.putNull("linkedDeal");
            out.put("summary", story.entries().isEmpty()
                    ? "Nothing on the topics: the order never reached DealBridge (check the store hook/poller and the dead letters)."
                    : "No deal is linked; the entries below say why.");
        } else {
            long deal = story.linkedDeals().iterator().next();
            out.put("linkedDeal", deal);
            sources.crm().ifPresent(crm -> out.put("dealUrl", crm.client().config().webhook().portalKey() + "/crm/deal/details/" + deal + "/"));
            out.put("summary", "Linked deal: " + deal);
        }
        out.put("why", why);
        return out;
    }

    // ---- dead letters -------------------------------------------------------------------------------------------

    private DeadLetterQueue queue() {
        return new DeadLetterQueue(sources.kafkaClientProperties(), sources.topics(), sources.portalRereads());
    }

    private void deadLetters(Call c) throws IOException {
        ArrayNode list = JSON.createArrayNode();
        DeadLetterQueue queue = queue();
        for (DeadLetter d : queue.current(c.query("site"))) {
            list.add(deadLetter(d, queue.replayable(d)));
        }
        json(c, 200, JSON.createObjectNode().set("deadLetters", list));
    }

    private ObjectNode deadLetter(DeadLetter d, boolean replayable) {
        ObjectNode o = JSON.createObjectNode().put("id", d.getId()).put("component", d.getComponent())
                .put("siteId", d.getSiteId()).put("sourceTopic", d.getSourceTopic())
                .put("key", d.getKey() == null ? null : StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString())
                .put("reason", d.getReason()).put("errorCode", d.getErrorCode()).put("attempts", d.getAttempts())
                .put("failedAt", d.getFailedAt().toString())
                .put("ageSeconds", Math.max(0, Duration.between(d.getFailedAt(), clock.instant()).toSeconds()))
                .put("replayable", replayable);
        return o;
    }

    private void replay(Call c) throws IOException {
        String id = c.param(1);
        DeadLetterQueue queue = queue();
        List<DeadLetter> chosen = queue.current(null).stream().filter(d -> d.getId().equals(id)).toList();
        if (chosen.isEmpty()) {
            throw new NotFound("no current dead letter has id '" + id + "' (already replayed or retired, or never existed)");
        }
        replayed(c, queue.replay(chosen));
    }

    private void replayAll(Call c) throws IOException {
        DeadLetterQueue queue = queue();
        replayed(c, queue.replay(queue.current(c.query("site"))));
    }

    private void replayed(Call c, DeadLetterQueue.ReplayResult result) throws IOException {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode replayed = out.putArray("replayed");
        result.replayed().forEach(d -> replayed.add(d.getId()));
        ArrayNode refused = out.putArray("refused");
        result.refused().forEach(refused::add);
        json(c, result.refused().isEmpty() ? 200 : 409, out);
    }

    private void retire(Call c) throws IOException {
        String id = c.param(1);
        String note = c.body().path("note").asText(null);
        if (note == null || note.isBlank()) {
            throw new BadRequest("note", "say why the dead letter is retired without a replay");
        }
        if (queue().current(null).stream().noneMatch(d -> d.getId().equals(id))) {
            throw new NotFound("no current dead letter has id '" + id + "' (already replayed or retired, or never existed)");
        }
        DeadLetter d = queue().retire(id, note, c.principal().name());
        json(c, 200, JSON.createObjectNode().put("retired", d.getId()).put("note", note.strip()));
    }

    // ---- responses ----------------------------------------------------------------------------------------------

    private static void json(Call c, int status, JsonNode body) throws IOException {
        json(c.exchange(), status, body);
    }

    static void json(HttpExchange exchange, int status, JsonNode body) throws IOException {
        respond(exchange, status, "application/json; charset=utf-8", JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
    }

    private static void error(HttpExchange exchange, int status, String field, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        json(exchange, status, body);
    }

    static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

}
