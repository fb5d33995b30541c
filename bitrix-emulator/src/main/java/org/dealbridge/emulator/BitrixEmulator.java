package org.dealbridge.emulator;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP server emulating a Bitrix24 portal (CRM) and a 1C-Bitrix online store at two inbound-webhook paths, as
 * strictly as the API reference describes them (see {@code bitrix-rest-api.md} §13–14). For tests, {@code demo} and
 * benchmarks only; production code never depends on it.
 *
 * <pre>{@code
 * try (BitrixEmulator emu = BitrixEmulator.start()) {
 *     emu.crm().addPipeline(1, "Online store");
 *     emu.store().addStatus("P", "Paid");
 *     client = new BitrixClient(emu.crmWebhookUrl());          // http://127.0.0.1:{port}/rest/1/{crmCode}/
 *     emu.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);
 *     emu.subscribeCrm(handlerUrl, "token", "ONCRMDEALUPDATE");
 *     emu.calls().count(Portal.CRM, "crm.deal.update");
 * }
 * }</pre>
 *
 * <h2>REST routing</h2>
 * {@code GET|POST /rest/{userId}/{code}/{method}[.json][/]}: method names are case-insensitive; an unknown method is
 * 404 {@code ERROR_METHOD_NOT_FOUND}, a wrong code or user is 403 {@code INVALID_CREDENTIALS} (reference CONFLICT:
 * docs 403, server code 401), {@code /rest/{method}} without {@code auth} is 401 {@code NO_AUTH_FOUND}, with an
 * unknown token 401 {@code invalid_token}. {@code /rest/{method}?auth={applicationAccessToken(portal)}} runs with the
 * installed application's auth, which {@code event.bind/unbind/get} and {@code event.offline.get/clear/error/list}
 * require (through a webhook they answer 403 {@code WRONG_AUTH_TYPE}). Bodies may be JSON, form-urlencoded or
 * multipart with PHP bracket names; the query string is merged in. Plain http is served on purpose: the real cloud requires https and answers
 * plain http with {@code INVALID_REQUEST}/"Https required.", but tests run on loopback.
 *
 * <h2>Inspection and seeding over HTTP ({@code /emulator/...}, JSON, no auth)</h2>
 * <ul>
 *   <li>{@code GET /emulator/crm/deals}, {@code GET /emulator/crm/deals/{id}}, {@code DELETE /emulator/crm/deals/{id}}</li>
 *   <li>{@code POST /emulator/crm/deals} (fields, a manager's add; fires ONCRMDEALADD) → {@code {"id":n}}</li>
 *   <li>{@code POST /emulator/crm/deals/{id}/human-update} (fields; fires ONCRMDEALUPDATE, or ONCRMDEALMOVETOCATEGORY
 *       when CATEGORY_ID changes)</li>
 *   <li>{@code POST /emulator/crm/pipelines} {@code {"id":1,"name":"Shop","defaultStages":true}};
 *       {@code GET /emulator/crm/pipelines/{id}/stages};
 *       {@code POST /emulator/crm/stages} {@code {"pipelineId":1,"statusId":"PAID","name":"Paid","semantics":"PROCESS"}}</li>
 *   <li>{@code POST /emulator/crm/users} {@code {"id":7,"name":"Ivan","active":true}};
 *       {@code POST /emulator/crm/contacts} {@code {"name","lastName","assignedById","email","phone"}} → {@code {"id":n}};
 *       {@code GET /emulator/crm/contacts/{id}};
 *       {@code POST /emulator/crm/userfields} {@code {"fieldName":"UF_CRM_PAY_SYSTEM","type":"string","multiple":false}}</li>
 *   <li>{@code GET /emulator/store/orders}, {@code GET /emulator/store/orders/{id}},
 *       {@code POST /emulator/store/orders} ({@link NewOrder#toMap()} shape: {@code statusId, currency, userId, xmlId,
 *       basketItems:[{productId,name,price,quantity}], payments:[{paySystemId,sum,paid}], properties:{CODE:value}})
 *       → {@code {"id":n}}; {@code POST /emulator/store/orders/{id}/human-update} (fires ONSALEORDERSAVED)</li>
 *   <li>{@code POST /emulator/store/sections} {@code {id,parentId,name}}, {@code /products} {@code {id,name,sectionId,price}},
 *       {@code /variations} {@code {id,parentId,name,price}}, {@code /statuses} {@code {id,name,type}},
 *       {@code /paysystems} {@code {id,name,cash}}, {@code /persontypes} {@code {id,name}},
 *       {@code /properties} {@code {id,code,name}}</li>
 *   <li>{@code GET /emulator/calls}, {@code DELETE /emulator/calls}; {@code GET /emulator/events}</li>
 *   <li>{@code POST /emulator/subscriptions} {@code {"portal":"crm","handlerUrl":"...","applicationToken":"...","events":["ONCRMDEALUPDATE"]}}</li>
 *   <li>{@code POST /emulator/faults} {@code {"portal":"crm","method":"crm.deal.add","count":1,"fault":"APPLY_THEN_DROP"}}
 *       (portal optional = both); {@code POST /emulator/faults/slow} {@code {"method","delayMillis","portal"}};
 *       {@code POST /emulator/faults/outage} {@code {"portal","seconds","fault"}}; {@code DELETE /emulator/faults}</li>
 *   <li>{@code POST /emulator/rate-limit} {@code {"portal":"crm","requestsPerSecond":2,"burst":50}} or
 *       {@code {"portal":"crm","disabled":true}}</li>
 * </ul>
 */
public final class BitrixEmulator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BitrixEmulator.class);
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final Pattern REFERENCE = Pattern.compile("\\$(result|next|total|time|error)((?:\\[[^\\]]*\\])+)");
    private static final int MAX_BATCH = 50;
    /** Methods that exist but need application (OAuth) context; an inbound webhook gets WRONG_AUTH_TYPE. */
    private static final java.util.Set<String> APPLICATION_ONLY = java.util.Set.of("event.bind", "event.unbind",
            "event.get", "event.offline.get", "event.offline.clear", "event.offline.error", "event.offline.list",
            "placement.bind", "placement.unbind");

    static {
        // The JDK server writes headers and body separately; with Nagle on, every answer waits for the client's
        // delayed ACK (~40 ms). Must be set before the server's configuration class loads; affects only this JVM.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final EmulatorOptions options;
    /** Replaced when the port is opened again after {@link #refuseConnections}. */
    private volatile HttpServer server;
    /** The port, kept across {@link #refuseConnections} (the options may have asked for any free one). */
    private final int port;
    private final ExecutorService executor;
    /** Each portal's own time: the emulator's clock plus that portal's offset ({@link EmulatorOptions#crmClockOffset}). */
    private final Map<Portal, PortalTime> times = new java.util.EnumMap<>(Portal.class);
    private final OutboundEvents events;
    private final CrmPortal crm;
    private final Store store;
    private final Faults faults;
    private final CallLog calls = new CallLog();
    private final Map<Portal, RequestRateLimiter> rateLimiters = new EnumMap<>(Portal.class);
    private final Map<Portal, OperatingTimeLimiter> operatingLimiters = new EnumMap<>(Portal.class);
    private final Map<Portal, Map<String, RestMethod>> methods = new EnumMap<>(Portal.class);
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Map<Portal, OfflineEventQueue> offlineQueues = new EnumMap<>(Portal.class);
    private final Map<Portal, Map<String, RestMethod>> applicationMethods = new EnumMap<>(Portal.class);

    /** Thrown out of the exchange handler: the JDK server then closes the connection without an HTTP response. */
    /** A person's action placed right after this call ({@link Faults#afterNext}). */
    private void runAfterCall(Portal portal, String method) {
        Runnable action = faults.takeAfterCall(portal, method);
        if (action != null) {
            action.run();
        }
    }

    private static final class ConnectionDropped extends RuntimeException {
        ConnectionDropped() {
            super("connection dropped on purpose", null, false, false);
        }
    }

    /** A fault inside a batch command that cuts the whole HTTP call. */
    private static final class BatchCut extends RuntimeException {
        final Fault fault;

        BatchCut(Fault fault) {
            super(null, null, false, false);
            this.fault = fault;
        }
    }

    private BitrixEmulator(EmulatorOptions options) throws IOException {
        this.options = options;
        times.put(Portal.CRM, new PortalTime(Clock.offset(options.clock, options.crmClockOffset), options.zone));
        times.put(Portal.STORE, new PortalTime(Clock.offset(options.clock, options.storeClockOffset), options.zone));
        this.events = new OutboundEvents(options.clock, options.eventDeliveryTimeout);
        this.crm = new CrmPortal(times.get(Portal.CRM), events, options.webhookUserId, options.currency);
        this.store = new Store(times.get(Portal.STORE), events);
        this.faults = new Faults(options.clock);
        rateLimiters.put(Portal.CRM, new RequestRateLimiter(options.clock, options.crmDrainPerSecond, options.crmBurst, options.crmRateLimited));
        rateLimiters.put(Portal.STORE, new RequestRateLimiter(options.clock, options.storeDrainPerSecond, options.storeBurst, options.storeRateLimited));
        for (Portal p : Portal.values()) {
            operatingLimiters.put(p, new OperatingTimeLimiter(options.clock, options.operatingTimeLimit));
        }
        methods.put(Portal.CRM, crm.methods());
        methods.put(Portal.STORE, store.methods());
        for (Portal p : Portal.values()) {
            OfflineEventQueue queue = new OfflineEventQueue(times.get(p));
            offlineQueues.put(p, queue);
            events.offlineQueue(p, queue);
            applicationMethods.put(p, eventMethods(p, queue));
        }
        AtomicInteger threadNo = new AtomicInteger();
        // Threads are created on demand and time out when idle; held TIMEOUT calls each occupy one.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(options.threads, options.threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "bitrix-emulator-http-" + threadNo.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
        this.server = listen(options.port);
        this.port = server.getAddress().getPort();
        events.endpoint(Portal.CRM, baseUrl() + "/rest/");
        events.endpoint(Portal.STORE, baseUrl() + "/rest/");
        log.debug("Bitrix emulator listening on {}", baseUrl());
    }

    public static BitrixEmulator start() {
        return start(EmulatorOptions.defaults());
    }

    public static BitrixEmulator start(EmulatorOptions options) {
        try {
            return new BitrixEmulator(options);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Bitrix emulator on " + options.host + ":" + options.port, e);
        }
    }

    public int port() {
        return port;
    }

    private HttpServer listen(int onPort) throws IOException {
        HttpServer listening = HttpServer.create(new InetSocketAddress(options.host, onPort), 128);
        listening.createContext("/rest/", this::handleRest);
        listening.createContext("/emulator/", new AdminApi(this));
        listening.setExecutor(executor);
        listening.start();
        return listening;
    }

    /**
     * Closes the port for {@code duration} of wall-clock time, then listens on it again: meanwhile the operating system
     * refuses every connection (RST), so a client sees {@code ConnectException}, as when the portal's host is down.
     * Both portals share the port, so both are refused (and the admin API); connections already open are closed.
     * Returns at once; {@link Faults#outage} covers faults one portal answers while it listens.
     */
    public synchronized void refuseConnections(Duration duration) {
        server.stop(0);
        log.info("Bitrix emulator refuses connections on port {} for {} ms", port, duration.toMillis());
        Thread reopen = new Thread(() -> {
            try {
                if (closing.await(duration.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                for (int attempt = 1; ; attempt++) {
                    try {
                        synchronized (this) {
                            if (closing.getCount() == 0) {
                                return;
                            }
                            server = listen(port);
                        }
                        log.info("Bitrix emulator listens on port {} again", port);
                        return;
                    } catch (IOException e) {
                        if (attempt == 50) {
                            log.error("Bitrix emulator cannot listen on port {} again", port, e);
                            return;
                        }
                        Thread.sleep(100);  // the port is still held by the old socket
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bitrix-emulator-reopen");
        reopen.setDaemon(true);
        reopen.start();
    }

    /** {@code http://127.0.0.1:{port}} */
    public String baseUrl() {
        return "http://" + options.host + ":" + port();
    }

    /** Inbound webhook of the CRM portal: {@code http://127.0.0.1:{port}/rest/1/{crmCode}/}. */
    public String crmWebhookUrl() {
        return baseUrl() + "/rest/" + options.webhookUserId + "/" + options.crmCode + "/";
    }

    /** Inbound webhook of the store: {@code http://127.0.0.1:{port}/rest/1/{storeCode}/}. */
    public String storeWebhookUrl() {
        return baseUrl() + "/rest/" + options.webhookUserId + "/" + options.storeCode + "/";
    }

    public String webhookUrl(Portal portal) {
        return portal == Portal.CRM ? crmWebhookUrl() : storeWebhookUrl();
    }

    public CrmPortal crm() {
        return crm;
    }

    public Store store() {
        return store;
    }

    public Faults faults() {
        return faults;
    }

    public CallLog calls() {
        return calls;
    }

    /** Outbound event deliveries and their counters. */
    public OutboundEvents events() {
        return events;
    }

    /** Subscribes an outgoing-webhook handler to CRM events ({@code ONCRMDEALADD/UPDATE/DELETE/MOVETOCATEGORY}). */
    public int subscribeCrm(String handlerUrl, String applicationToken, String... eventNames) {
        return events.subscribe(Portal.CRM, handlerUrl, applicationToken, eventNames);
    }

    /** Subscribes an outgoing-webhook handler to store events ({@code ONSALEORDERSAVED}). */
    public int subscribeStore(String handlerUrl, String applicationToken, String... eventNames) {
        return events.subscribe(Portal.STORE, handlerUrl, applicationToken, eventNames);
    }

    public void rateLimit(Portal portal, double requestsPerSecond, int burst) {
        if (requestsPerSecond <= 0 || burst <= 0) {
            throw new IllegalArgumentException("rateLimit: requestsPerSecond and burst must be positive");
        }
        rateLimiters.get(portal).configure(requestsPerSecond, burst);
    }

    public void rateLimitDisabled(Portal portal) {
        rateLimiters.get(portal).disable();
    }

    /** The next {@code requests} calls to {@code portal} get 503 {@code QUERY_LIMIT_EXCEEDED}, whatever the bucket says. */
    public void forceQueryLimitExceeded(Portal portal, int requests) {
        rateLimiters.get(portal).forceRefusals(requests);
    }

    /** While on, every call to {@code portal} gets 503 {@code QUERY_LIMIT_EXCEEDED}. */
    public void forceQueryLimitExceeded(Portal portal, boolean on) {
        rateLimiters.get(portal).forceAlways(on);
    }

    /** {@code http://127.0.0.1:{port}/rest/}: call {@code {endpoint}{method}?auth={token}} with application auth. */
    public String applicationEndpoint() {
        return baseUrl() + "/rest/";
    }

    /** The installed application's OAuth access token on {@code portal}. */
    public String applicationAccessToken(Portal portal) {
        return portal == Portal.CRM ? options.crmAppToken : options.storeAppToken;
    }

    private static final Map<Portal, java.util.Set<String>> KNOWN_EVENTS = Map.of(
            Portal.CRM, java.util.Set.of("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMDEALMOVETOCATEGORY"),
            Portal.STORE, java.util.Set.of("ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE"));

    /** {@code event.*} for application auth: online handlers, the offline queue. */
    private Map<String, RestMethod> eventMethods(Portal portal, OfflineEventQueue queue) {
        Map<String, RestMethod> m = new java.util.HashMap<>();
        java.util.function.Function<Params, String> eventName = p -> {
            String e = Params.asString(p.exact("event"));
            String upper = e == null ? "" : e.toUpperCase(Locale.ROOT);
            if (!KNOWN_EVENTS.get(portal).contains(upper)) {
                throw new BitrixError(400, "ERROR_EVENT_NOT_FOUND", "Event not found");
            }
            return upper;
        };
        m.put("event.bind", p -> {
            String event = eventName.apply(p);
            if ("offline".equalsIgnoreCase(Params.asString(p.exact("event_type")))) {
                String connector = Params.asString(p.exact("auth_connector"));
                queue.bind(event, connector == null ? "" : connector);
            } else {
                String handler = Params.asString(p.exact("handler"));
                if (handler == null || handler.isBlank()) {
                    throw new BitrixError(400, "ERROR_ARGUMENT", "Handler URL is required for online events");
                }
                events.subscribe(portal, handler, options.applicationToken, event);
            }
            return true;
        });
        m.put("event.unbind", p -> {
            String event = eventName.apply(p);
            int count = "offline".equalsIgnoreCase(Params.asString(p.exact("event_type")))
                    ? queue.unbind(event, Params.asString(p.exact("auth_connector")))
                    : events.unsubscribe(portal, event, Params.asString(p.exact("handler")));
            return Map.of("count", count);
        });
        m.put("event.get", p -> {
            List<Map<String, Object>> all = new ArrayList<>(events.onlineBindings(portal));
            all.addAll(queue.bindingsView());
            return all;
        });
        m.put("event.offline.get", queue::get);
        m.put("event.offline.clear", queue::clear);
        m.put("event.offline.error", queue::error);
        m.put("event.offline.list", queue::list);
        m.put("placement.bind", p -> true);
        m.put("placement.unbind", p -> true);
        return m;
    }

    /** Enables (or with null disables) the operating-time limit on both portals at runtime. */
    public void operatingTimeLimit(Duration limit) {
        operatingLimiters.values().forEach(l -> l.limit(limit));
    }

    /** Charges {@code perCall} of simulated execution time to every call of {@code method}, to reach the limit fast. */
    public void chargeOperatingTime(Portal portal, String method, Duration perCall) {
        operatingLimiters.get(portal).chargeExtra(method.toLowerCase(Locale.ROOT), perCall);
    }

    @Override
    public void close() {
        synchronized (this) {
            closing.countDown();
            server.stop(0);
        }
        executor.shutdownNow();
        events.close();
    }

    // =====================================================================================================
    // REST
    // =====================================================================================================

    private void handleRest(HttpExchange ex) throws IOException {
        Instant started = options.clock.instant();
        long startNanos = System.nanoTime();
        Map<String, Object> raw = new LinkedHashMap<>();
        String path = ex.getRequestURI().getPath();
        List<String> segments = new ArrayList<>();
        for (String s : path.substring("/rest/".length()).split("/")) {
            if (!s.isEmpty()) {
                segments.add(s);
            }
        }
        try {
            readParams(ex, raw);
        } catch (BitrixError e) {
            respond(ex, e.httpStatus, e.body());
            return;
        }
        if (!segments.isEmpty() && segments.get(0).equals("api")) {
            // REST 3.0 (/rest/api/...) does not carry CRM or sale methods
            respond(ex, 404, BitrixError.methodNotFound().body());
            return;
        }
        Portal portal;
        String method;
        boolean applicationAuth = segments.size() <= 1;
        if (applicationAuth) {
            // OAuth application style: /rest/{method}?auth={access token}
            String token = Params.asString(raw.get("auth"));
            if (token == null || token.isEmpty()) {
                respond(ex, 401, new BitrixError(401, "NO_AUTH_FOUND", "Wrong authorization data").body());
                return;
            }
            portal = constantTimeEquals(token, options.crmAppToken) ? Portal.CRM
                    : constantTimeEquals(token, options.storeAppToken) ? Portal.STORE : null;
            if (portal == null) {
                respond(ex, 401, new BitrixError(401, "invalid_token", "The access token provided is invalid").body());
                return;
            }
            method = segments.isEmpty() ? "" : normalize(segments.get(0));
        } else {
            portal = portalFor(segments.get(1));
            if (portal == null || !segments.get(0).equals(Integer.toString(options.webhookUserId))) {
                respond(ex, 403, new BitrixError(403, "INVALID_CREDENTIALS", "Invalid request credentials").body());
                return;
            }
            method = segments.size() == 3 ? normalize(segments.get(2)) : "";
        }
        raw.remove("auth");
        RestMethod restMethod = methods.get(portal).get(method);
        if (APPLICATION_ONLY.contains(method)) {
            restMethod = applicationAuth ? applicationMethods.get(portal).get(method) : p -> {
                throw new BitrixError(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method");
            };
        }
        boolean isBatch = method.equals("batch");
        if (restMethod != null && !applicationAuth && !scopeGranted(portal, method)) {
            BitrixError e = new BitrixError(403, "insufficient_scope",
                    "The request requires higher privileges than provided by the webhook token");
            record(portal, method, e.httpStatus, started, raw, false, e);
            respond(ex, e.httpStatus, e.body());
            return;
        }
        if (restMethod == null && !isBatch) {
            BitrixError e = BitrixError.methodNotFound();
            record(portal, method, e.httpStatus, started, raw, false, e);
            respond(ex, e.httpStatus, e.body());
            return;
        }
        String clientIp = ex.getRemoteAddress().getAddress().getHostAddress();
        if (!rateLimiters.get(portal).tryAcquire(clientIp)) {
            BitrixError e = new BitrixError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
            record(portal, method, e.httpStatus, started, raw, false, e);
            respond(ex, e.httpStatus, e.body());
            return;
        }
        Fault fault = faults.outage(portal);
        if (fault == null) {
            fault = faults.take(portal, method);
        }
        if (fault != null && fault != Fault.APPLY_THEN_DROP) {
            record(portal, method, statusOf(fault), started, raw, false, null);
            answerFault(ex, fault);
            return;
        }
        Duration slow = faults.slowness(portal, method);
        if (slow != null) {
            pause(slow);
        }
        OperatingTimeLimiter operating = operatingLimiters.get(portal);
        if (!isBatch && operating.blocked(method)) {
            BitrixError e = new BitrixError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.");
            record(portal, method, e.httpStatus, started, raw, false, e);
            respond(ex, e.httpStatus, e.body());
            return;
        }
        Object result;
        Integer total = null;
        Integer next = null;
        if (applicationAuth) {
            String connector = Params.asString(raw.get("auth_connector"));
            OfflineEventQueue.APP_CALLER.set(connector == null ? "" : connector);
        }
        try {
            if (isBatch) {
                result = runBatch(portal, new Params(raw));
            } else {
                long t0 = System.nanoTime();
                try {
                    result = restMethod.call(new Params(raw));
                } finally {
                    operating.record(method, System.nanoTime() - t0);
                }
                runAfterCall(portal, method);
                if (result instanceof ListPage) {
                    ListPage page = (ListPage) result;
                    result = page.result;
                    total = page.total;
                    next = page.next;
                }
            }
        } catch (BitrixError e) {
            record(portal, method, e.httpStatus, started, raw, false, e);
            respond(ex, e.httpStatus, e.body());
            return;
        } catch (BatchCut cut) {
            record(portal, method, 0, started, raw, false, null);
            answerFault(ex, cut.fault);
            return;
        } catch (RuntimeException e) {
            log.error("emulator bug in {} {}", portal, method, e);
            BitrixError err = new BitrixError(500, "INTERNAL_SERVER_ERROR", "Internal server error");
            record(portal, method, 500, started, raw, false, err);
            respond(ex, 500, err.body());
            return;
        } finally {
            OfflineEventQueue.APP_CALLER.remove();
        }
        if (fault == Fault.APPLY_THEN_DROP) {
            record(portal, method, 0, started, raw, false, null);
            throw new ConnectionDropped();
        }
        record(portal, method, 200, started, raw, false, null);
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("result", result);
        if (total != null) {
            envelope.put("total", total);
        }
        if (next != null) {
            envelope.put("next", next);
        }
        envelope.put("time", timing(portal, started, System.nanoTime() - startNanos, isBatch ? null : operating, method));
        respond(ex, 200, envelope);
    }

    private boolean scopeGranted(Portal portal, String method) {
        java.util.Set<String> granted = portal == Portal.CRM ? options.crmScopes : options.storeScopes;
        return granted == null || granted.contains(scopeOf(method));
    }

    static String scopeOf(String method) {
        if (method.startsWith("sale.paysystem.")) {
            return "pay_system";
        }
        int dot = method.indexOf('.');
        return dot < 0 ? method : method.substring(0, dot);
    }

    private Portal portalFor(String code) {
        if (constantTimeEquals(code, options.crmCode)) {
            return Portal.CRM;
        }
        if (constantTimeEquals(code, options.storeCode)) {
            return Portal.STORE;
        }
        return null;
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static String normalize(String method) {
        String m = method.toLowerCase(Locale.ROOT);
        return m.endsWith(".json") ? m.substring(0, m.length() - 5) : m;
    }

    private static int statusOf(Fault fault) {
        switch (fault) {
            case HTTP_500: return 500;
            case HTTP_503: return 503;
            case HTTP_502_HTML: return 502;
            default: return 0;
        }
    }

    private void answerFault(HttpExchange ex, Fault fault) throws IOException {
        switch (fault) {
            case HTTP_500:
                respond(ex, 500, new BitrixError(500, "INTERNAL_SERVER_ERROR", "Internal server error").body());
                return;
            case HTTP_503:
                respond(ex, 503, new BitrixError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests").body());
                return;
            case HTTP_502_HTML:
                byte[] html = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                        + "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/html");
                ex.sendResponseHeaders(502, html.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(html);
                }
                return;
            case TIMEOUT:
                pause(options.timeoutHold);
                throw new ConnectionDropped();
            default: // DROP, APPLY_THEN_DROP
                throw new ConnectionDropped();
        }
    }

    private void pause(Duration d) {
        try {
            closing.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readParams(HttpExchange ex, Map<String, Object> into) throws IOException {
        PhpForm.parseQuery(ex.getRequestURI().getRawQuery(), into);
        byte[] body = ex.getRequestBody().readAllBytes();
        if (body.length == 0) {
            return;
        }
        String contentType = ex.getRequestHeaders().getFirst("Content-Type");
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (ct.startsWith("application/json")) {
            Object parsed;
            try {
                parsed = JSON.readValue(body, Object.class);
            } catch (IOException e) {
                // reference: UNVERIFIED — PHP would see no parameters; the emulator says what is wrong instead
                throw new BitrixError(400, "INVALID_REQUEST", "Body is not valid JSON");
            }
            Map<String, Object> map = Params.asMap(parsed);
            if (map != null) {
                into.putAll(map);
            }
        } else if (ct.startsWith("multipart/form-data")) {
            PhpForm.parseMultipart(body, contentType, into);
        } else {
            PhpForm.parseQuery(new String(body, StandardCharsets.UTF_8), into);
        }
    }

    /** The envelope's {@code time}, by the portal's own clock ({@code started} is the emulator's). */
    private Map<String, Object> timing(Portal portal, Instant emulatorStarted, long nanos, OperatingTimeLimiter operating, String method) {
        PortalTime time = times.get(portal);
        Instant started = emulatorStarted.plus(portal == Portal.CRM ? options.crmClockOffset : options.storeClockOffset);
        Map<String, Object> t = new LinkedHashMap<>();
        // plain decimals, as PHP prints microtime(true)
        java.math.BigDecimal start = java.math.BigDecimal.valueOf(started.getEpochSecond())
                .add(java.math.BigDecimal.valueOf(started.getNano(), 9)).setScale(6, java.math.RoundingMode.HALF_UP);
        java.math.BigDecimal duration = java.math.BigDecimal.valueOf(nanos, 9).setScale(6, java.math.RoundingMode.HALF_UP);
        t.put("start", start);
        t.put("finish", start.add(duration));
        t.put("duration", duration);
        t.put("processing", duration);
        t.put("date_start", time.render(started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        t.put("date_finish", time.render(started.plusNanos(nanos).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        if (operating != null && operating.enabled()) {
            t.put("operating_reset_at", operating.resetAt(method));
            t.put("operating", operating.operatingSeconds(method));
        }
        return t;
    }

    private void record(Portal portal, String method, int status, Instant at, Map<String, Object> params,
                        boolean inBatch, BitrixError error) {
        calls.add(new Call(portal, method, status, at, params, inBatch,
                error == null ? null : String.valueOf(error.error).isEmpty() ? error.description : String.valueOf(error.error)));
    }

    private void respond(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a response", e);
        }
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    // =====================================================================================================
    // batch
    // =====================================================================================================

    private Object runBatch(Portal portal, Params params) {
        Map<String, Object> cmd = Params.asMap(params.anyCase("cmd"));
        if (cmd == null) {
            cmd = new LinkedHashMap<>();
        }
        boolean halt = Params.isYes(params.anyCase("halt"));
        Map<String, Object> results = new LinkedHashMap<>();
        Map<String, Object> errors = new LinkedHashMap<>();
        Map<String, Object> totals = new LinkedHashMap<>();
        Map<String, Object> nexts = new LinkedHashMap<>();
        Map<String, Object> times = new LinkedHashMap<>();
        Map<String, Map<String, Object>> refs = Map.of("result", results, "error", errors, "total", totals,
                "next", nexts, "time", times);
        int index = 0;
        OperatingTimeLimiter operating = operatingLimiters.get(portal);
        for (Map.Entry<String, Object> entry : cmd.entrySet()) {
            String key = entry.getKey();
            if (++index > MAX_BATCH) {
                errors.put(key, new BitrixError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded").body());
                continue;
            }
            Instant started = options.clock.instant();
            long t0 = System.nanoTime();
            String command = Params.asString(entry.getValue());
            command = command == null ? "" : command;
            int q = command.indexOf('?');
            String method = normalize(q < 0 ? command : command.substring(0, q));
            Map<String, Object> sub = new LinkedHashMap<>();
            PhpForm.parseQuery(q < 0 ? "" : command.substring(q + 1), sub);
            substitute(sub, refs);
            BitrixError error = null;
            Object result = null;
            RestMethod m = methods.get(portal).get(method);
            Fault fault = m == null ? null : faults.take(portal, method);
            if (method.equals("batch")) {
                error = new BitrixError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage");
            } else if (m == null) {
                error = BitrixError.methodNotFound();
            } else if (!scopeGranted(portal, method)) {
                error = new BitrixError(403, "insufficient_scope",
                        "The request requires higher privileges than provided by the webhook token");
            } else if (fault == Fault.TIMEOUT || fault == Fault.DROP) {
                record(portal, method, 0, started, sub, true, null);
                throw new BatchCut(fault);
            } else if (fault == Fault.HTTP_500 || fault == Fault.HTTP_502_HTML) {
                error = new BitrixError(500, "INTERNAL_SERVER_ERROR", "Internal server error");
            } else if (fault == Fault.HTTP_503) {
                error = new BitrixError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
            } else if (operating.blocked(method)) {
                error = new BitrixError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.");
            } else {
                Duration slowCommand = faults.slowness(portal, method);
                if (slowCommand != null) {
                    pause(slowCommand);
                }
                try {
                    result = m.call(new Params(sub));
                } catch (BitrixError e) {
                    error = e;
                } finally {
                    operating.record(method, System.nanoTime() - t0);
                }
                runAfterCall(portal, method);
            }
            record(portal, method, error == null ? (fault == Fault.APPLY_THEN_DROP ? 0 : 200) : error.httpStatus,
                    started, sub, true, error);
            if (fault == Fault.APPLY_THEN_DROP) {
                throw new BatchCut(Fault.APPLY_THEN_DROP);
            }
            if (error != null) {
                errors.put(key, error.body());
            } else if (result instanceof ListPage) {
                ListPage page = (ListPage) result;
                results.put(key, page.result);
                if (page.total != null) {
                    totals.put(key, page.total);
                }
                if (page.next != null) {
                    nexts.put(key, page.next);
                }
            } else {
                results.put(key, result);
            }
            times.put(key, timing(portal, started, System.nanoTime() - t0, null, method));
            if (halt && error != null) {
                break;
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("result", phpArray(results));
        out.put("result_error", phpArray(errors));
        out.put("result_total", phpArray(totals));
        out.put("result_next", phpArray(nexts));
        out.put("result_time", phpArray(times));
        return out;
    }

    /** PHP's json_encode: an empty array is {@code []}, a 0..n-1 keyed array a list, anything else an object. */
    static Object phpArray(Map<String, Object> map) {
        if (map.isEmpty()) {
            return new ArrayList<>();
        }
        int i = 0;
        for (String key : map.keySet()) {
            if (!key.equals(Integer.toString(i++))) {
                return map;
            }
        }
        return new ArrayList<>(map.values());
    }

    /** Replaces {@code $result[cmd][0][ID]}-style references in every parameter value of a batch command. */
    @SuppressWarnings("unchecked")
    private static void substitute(Map<String, Object> params, Map<String, Map<String, Object>> refs) {
        for (Map.Entry<String, Object> e : params.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Map) {
                substitute((Map<String, Object>) v, refs);
            } else if (v instanceof String) {
                String s = (String) v;
                Matcher whole = REFERENCE.matcher(s);
                if (whole.matches()) {
                    e.setValue(resolve(refs.get(whole.group(1)), whole.group(2)));
                    continue;
                }
                Matcher m = REFERENCE.matcher(s);
                StringBuilder out = new StringBuilder();
                while (m.find()) {
                    Object value = resolve(refs.get(m.group(1)), m.group(2));
                    String text = value instanceof Map || value instanceof List ? m.group() : Params.asString(value);
                    m.appendReplacement(out, Matcher.quoteReplacement(text == null ? "" : text));
                }
                m.appendTail(out);
                e.setValue(out.toString());
            }
        }
    }

    // Walks the keys as far as they exist and returns the deepest value reached (no error for a missing path).
    private static Object resolve(Map<String, Object> root, String brackets) {
        Object current = root;
        Matcher keys = Pattern.compile("\\[([^\\]]*)\\]").matcher(brackets);
        while (keys.find()) {
            String key = keys.group(1);
            Object next = null;
            if (current instanceof Map) {
                next = ((Map<?, ?>) current).get(key);
            } else if (current instanceof List) {
                Long index = Params.asLong(key);
                List<?> list = (List<?>) current;
                next = index != null && index >= 0 && index < list.size() ? list.get(index.intValue()) : null;
            }
            if (next == null) {
                break;
            }
            current = next;
        }
        return current;
    }
}
