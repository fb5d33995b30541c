package org.dealbridge.bitrix;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.dealbridge.retry.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Webhook client of one Bitrix portal (reference §1-§4): JSON POST to {@code {webhook}/{method}}, envelope parsing,
 * error classification, the portal's rate budget, retries, batch and paging.
 *
 * <h2>Retries</h2>
 * <ul>
 *   <li>{@link #call(String, Map)} decides by method name ({@link Idempotence#ofMethod}): reads are retried on
 *       transient failures (5xx, HTML, timeouts, resets) with exponential backoff and jitter (resilience4j Retry);
 *       writes are NOT — after a timeout a {@code crm.deal.add} may have run, so the caller must look the deal up
 *       before adding again (reference §12).</li>
 *   <li>{@link #call(String, Map, Idempotence)} lets the caller say a write is safe to repeat.</li>
 *   <li>503 {@code QUERY_LIMIT_EXCEEDED} and 429 {@code OPERATION_TIME_LIMIT} are refusals before execution, so every
 *       call is retried on them; for 429 the retry waits until the method's {@code operating_reset_at}.</li>
 *   <li>{@link #callOnce(String, Map)} makes exactly one attempt, for callers running their own retry loop.</li>
 *   <li>{@link #leavingFailuresToCaller()} is this client for a caller that retries a whole operation from its
 *       look-ups (the connectors' commands): it retries only what surely did not run (refusals, requests never
 *       sent), so failures are retried by one layer, not two.</li>
 * </ul>
 * Every wait and the number of attempts follow one {@link RetryPolicy} ({@link BitrixClientConfig#retryPolicy()}): at
 * most {@code maxAttempts} tries per call, each wait at most {@code maxBackoff}; a 429 waits for the method's reset,
 * at most {@code maxOperationLimitWait}.
 * Auth, not-found and validation failures are never retried.
 *
 * <h2>Secrets</h2> The webhook code never appears in a log line, an exception message or {@code toString()}.
 *
 * <p>Thread-safe; one instance per portal webhook, shared by every caller.
 */
public final class BitrixClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BitrixClient.class);
    /** Page size of every Bitrix list method (reference §3.1). */
    public static final int PAGE_SIZE = 50;
    /** Maximum commands in one batch (reference §4.1). */
    public static final int MAX_BATCH = 50;
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(BitrixDateTimes.jacksonModule());

    private final BitrixClientConfig config;
    private final WebhookUrl webhook;
    private final HttpClient http;
    private final PortalRateLimiter limiter;
    private final MeterRegistry registry;
    private final Retry retryAll;
    private final Retry retryRefusals;
    private final Counter authFailures;
    private final DistributionSummary batchSize;
    private final Map<String, Instant> operatingResetAt;
    private final Map<String, Instant> methodBlockedUntil;
    private final HealthState state;
    /** The portal's time by its answers; shared with the views of this client. */
    private final PortalClock portalClock;
    /** True for {@link #leavingFailuresToCaller()}: every call is retried as if it were not idempotent. */
    private final boolean callerRetriesFailures;

    /** What {@link #health()} reports, shared with the views of this client. */
    private static final class HealthState {
        volatile String authError;
        volatile Instant authErrorAt;
        volatile String retryableError;
        volatile Instant retryableErrorAt;
    }

    public static BitrixClientConfig.Builder builder(String webhookUrl) {
        return new BitrixClientConfig.Builder(webhookUrl);
    }

    public BitrixClient(BitrixClientConfig config) {
        this.config = config;
        this.webhook = config.webhook();
        this.registry = config.meterRegistry();
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.limiter = config.rateLimiter() != null
                ? config.rateLimiter().bindTo(registry)
                : PortalRateLimiter.shared(webhook.portalKey(), config.portal(), config.rateLimit(), registry);
        this.retryAll = retry("all", true);
        this.retryRefusals = retry("refusals", false);
        this.authFailures = Counter.builder("dealbridge.rest.auth.failures")
                .description("calls refused for authentication, scope or plan: an operator must act")
                .tag("portal", config.portal()).register(registry);
        this.batchSize = DistributionSummary.builder("dealbridge.rest.batch.size")
                .description("commands per batch request").tag("portal", config.portal()).register(registry);
        this.operatingResetAt = new ConcurrentHashMap<>();
        this.methodBlockedUntil = new ConcurrentHashMap<>();
        this.state = new HealthState();
        this.portalClock = new PortalClock();
        this.callerRetriesFailures = false;
    }

    private BitrixClient(BitrixClient of) {
        this.config = of.config;
        this.webhook = of.webhook;
        this.registry = of.registry;
        this.http = of.http;
        this.limiter = of.limiter;
        this.retryAll = of.retryAll;
        this.retryRefusals = of.retryRefusals;
        this.authFailures = of.authFailures;
        this.batchSize = of.batchSize;
        this.operatingResetAt = of.operatingResetAt;
        this.methodBlockedUntil = of.methodBlockedUntil;
        this.state = of.state;
        this.portalClock = of.portalClock;
        this.callerRetriesFailures = true;
    }

    /**
     * This client (same rate budget, blocked methods, health and meters) for a caller that retries a whole operation
     * from its look-ups, as the connectors do with a command: only what the portal surely did not run is retried here
     * (503 {@code QUERY_LIMIT_EXCEEDED}, 429 {@code OPERATION_TIME_LIMIT}, a request never sent); a failure that may have
     * run (timeout, 5xx) goes to the caller at once, reads included, so it is retried by the caller's policy alone.
     */
    public BitrixClient leavingFailuresToCaller() {
        return callerRetriesFailures ? this : new BitrixClient(this);
    }

    private Retry retry(String name, boolean retryTransient) {
        RetryPolicy policy = config.retryPolicy();
        RetryConfig retryConfig = RetryConfig.custom()
                .maxAttempts(policy.maxAttempts())
                .retryOnException(e -> e instanceof BitrixException be && shouldRetry(be, retryTransient))
                .intervalBiFunction((attempt, outcome) -> {
                    if (outcome.isLeft() && outcome.getLeft() instanceof BitrixException.OperationTimeLimit limited) {
                        return limited.retryAfter().toMillis() + 50;
                    }
                    return policy.delayAfter(attempt).toMillis();
                })
                .failAfterMaxAttempts(false)
                .build();
        Retry retry = Retry.of(config.portal() + "-" + name, retryConfig);
        retry.getEventPublisher().onRetry(e -> log.info("retrying Bitrix call on {} (attempt {}) in {} ms: {}", config.portal(),
                e.getNumberOfRetryAttempts(), e.getWaitInterval().toMillis(), e.getLastThrowable() == null ? "" : e.getLastThrowable().getMessage()));
        return retry;
    }

    private boolean shouldRetry(BitrixException e, boolean retryTransient) {
        return switch (e.kind()) {
            case RATE_LIMITED -> true;
            case OPERATION_LIMITED -> ((BitrixException.OperationTimeLimit) e).retryAfter().compareTo(config.maxOperationLimitWait()) <= 0;
            case TRANSIENT -> retryTransient || !((BitrixException.TransientFailure) e).mayHaveBeenApplied();
            default -> false;
        };
    }

    public BitrixClientConfig config() {
        return config;
    }

    /** The portal's own clock as its latest answer reported it ({@link PortalClock}); empty before the first answer. */
    public Optional<Instant> portalNow() {
        return portalClock.now();
    }

    public PortalRateLimiter rateLimiter() {
        return limiter;
    }

    /** Calls a method, retrying as {@link Idempotence#ofMethod} allows; returns {@code result}. */
    public JsonNode call(String method, Map<String, ?> params) {
        return call(method, params, Idempotence.ofMethod(method));
    }

    /** Calls a method with an explicit idempotence; returns {@code result}. */
    public JsonNode call(String method, Map<String, ?> params, Idempotence idempotence) {
        return callForResponse(method, params, idempotence).result();
    }

    /** Calls a method and returns the whole envelope (with {@code total}/{@code next}). */
    public BitrixResponse callForResponse(String method, Map<String, ?> params, Idempotence idempotence) {
        ObjectNode body = JSON.valueToTree(params == null ? Map.of() : params);
        return withRetry(idempotence, () -> attempt(method, body));
    }

    /** Exactly one attempt, no retry of any kind. */
    public JsonNode callOnce(String method, Map<String, ?> params) {
        ObjectNode body = JSON.valueToTree(params == null ? Map.of() : params);
        return attempt(method, body).result();
    }

    /** A batch of at most 50 commands without halting; retried on transient failures only if every command is a read. */
    public BatchResult batch(List<BatchCommand> commands) {
        return batch(commands, false);
    }

    public BatchResult batch(List<BatchCommand> commands, boolean halt) {
        boolean allReads = commands.stream().allMatch(c -> Idempotence.ofMethod(c.method()) == Idempotence.IDEMPOTENT);
        return batch(commands, halt, allReads ? Idempotence.IDEMPOTENT : Idempotence.NOT_IDEMPOTENT);
    }

    /**
     * Sends up to {@value #MAX_BATCH} commands as ONE request (one unit of the rate budget). Commands run in order on the
     * portal and may reference earlier results with {@link BatchCommand#ref}. Per-command failures are in the result,
     * never thrown; a failure of the batch request itself is thrown.
     */
    public BatchResult batch(List<BatchCommand> commands, boolean halt, Idempotence idempotence) {
        if (commands.isEmpty()) {
            throw new IllegalArgumentException("batch needs at least one command");
        }
        if (commands.size() > MAX_BATCH) {
            throw new IllegalArgumentException("batch has " + commands.size() + " commands, the portal runs at most " + MAX_BATCH);
        }
        Set<String> keys = new HashSet<>();
        ObjectNode cmd = JSON.createObjectNode();
        for (BatchCommand c : commands) {
            if (!keys.add(c.key())) {
                throw new IllegalArgumentException("duplicate batch command key '" + c.key() + "'");
            }
            cmd.put(c.key(), c.encoded());
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("halt", halt ? 1 : 0);
        body.set("cmd", cmd);
        BitrixResponse response = withRetry(idempotence, () -> {
            batchSize.record(commands.size());
            return attempt("batch", body);
        });
        return parseBatch(commands, response.result());
    }

    private BatchResult parseBatch(List<BatchCommand> commands, JsonNode result) {
        Map<String, String> methodOf = new LinkedHashMap<>();
        commands.forEach(c -> methodOf.put(c.key(), c.method()));
        ObjectNode ok = LenientJson.object(result, "result");
        ObjectNode failed = LenientJson.object(result, "result_error");
        ObjectNode totals = LenientJson.object(result, "result_total");
        ObjectNode nexts = LenientJson.object(result, "result_next");
        Map<String, JsonNode> results = new LinkedHashMap<>();
        Map<String, BitrixException> errors = new LinkedHashMap<>();
        Map<String, Long> totalMap = new LinkedHashMap<>();
        Map<String, Long> nextMap = new LinkedHashMap<>();
        failed.fields().forEachRemaining(e -> {
            String method = methodOf.getOrDefault(e.getKey(), "batch[" + e.getKey() + "]");
            BitrixException ex = errorFrom(200, e.getValue(), method);
            errors.put(e.getKey(), ex);
            count(method, ex.kind().tag());
            if (ex instanceof BitrixException.AuthFailure) {
                recordAuthFailure(ex);
            }
        });
        ok.fields().forEachRemaining(e -> {
            if (!errors.containsKey(e.getKey())) {
                results.put(e.getKey(), e.getValue());
                count(methodOf.getOrDefault(e.getKey(), "batch[" + e.getKey() + "]"), "ok");
            }
        });
        totals.fields().forEachRemaining(e -> LenientJson.optLong(totals, e.getKey()).ifPresent(v -> totalMap.put(e.getKey(), v)));
        nexts.fields().forEachRemaining(e -> LenientJson.optLong(nexts, e.getKey()).ifPresent(v -> nextMap.put(e.getKey(), v)));
        return new BatchResult(commands, results, errors, totalMap, nextMap);
    }

    /**
     * Pages through a list method with {@code start}/{@code next} (reference §3.1), handing each page's items to
     * {@code pageConsumer}. {@code itemsField} names the array inside {@code result} for D7 methods ({@code orders},
     * {@code sections}…), or null when {@code result} itself is the array (classic CRM).
     */
    public void forEachPage(String method, Map<String, ?> params, String itemsField, Consumer<List<JsonNode>> pageConsumer) {
        long start = 0;
        while (true) {
            Map<String, Object> p = new LinkedHashMap<>(params == null ? Map.of() : params);
            p.put("start", start);
            BitrixResponse response = callForResponse(method, p, Idempotence.IDEMPOTENT);
            pageConsumer.accept(items(response.result(), itemsField, method));
            OptionalLong next = response.next();
            if (next.isEmpty()) {
                return;
            }
            if (next.getAsLong() <= start) {
                throw new IllegalStateException(method + " returned next=" + next.getAsLong() + " not after start=" + start + "; stopping to avoid a loop");
            }
            start = next.getAsLong();
        }
    }

    /** All items of a list method, page by page. */
    public List<JsonNode> listAll(String method, Map<String, ?> params, String itemsField) {
        List<JsonNode> all = new ArrayList<>();
        forEachPage(method, params, itemsField, all::addAll);
        return all;
    }

    /**
     * Large export without COUNT queries (reference §3.2): {@code start=-1}, {@code order {idField: ASC}} and
     * {@code filter {">idField": lastId}}, repeated until a page has fewer than 50 items. {@code params} may carry a
     * {@code filter} map, which is kept. Use {@code "ID"} for classic CRM, {@code "id"} for {@code crm.item.list}.
     */
    public void exportById(String method, Map<String, ?> params, String idField, String itemsField, Consumer<List<JsonNode>> pageConsumer) {
        Long lastId = null;
        while (true) {
            Map<String, Object> p = new LinkedHashMap<>(params == null ? Map.of() : params);
            Map<String, Object> filter = new LinkedHashMap<>();
            Object given = p.get("filter");
            if (given instanceof Map<?, ?> m) {
                m.forEach((k, v) -> filter.put(String.valueOf(k), v));
            } else if (given != null) {
                throw new IllegalArgumentException("params.filter must be a map, got " + given.getClass().getSimpleName());
            }
            if (lastId != null) {
                filter.put(">" + idField, lastId);
            }
            p.put("filter", filter);
            p.put("order", Map.of(idField, "ASC"));
            p.put("start", -1);
            List<JsonNode> page = items(callForResponse(method, p, Idempotence.IDEMPOTENT).result(), itemsField, method);
            if (!page.isEmpty()) {
                pageConsumer.accept(page);
            }
            if (page.size() < PAGE_SIZE) {
                return;
            }
            long max = lastId == null ? Long.MIN_VALUE : lastId;
            for (JsonNode item : page) {
                max = Math.max(max, LenientJson.requiredLong(item, idField));
            }
            if (lastId != null && max <= lastId) {
                throw new IllegalStateException(method + " keyset export did not advance past " + idField + "=" + lastId);
            }
            lastId = max;
        }
    }

    private static List<JsonNode> items(JsonNode result, String itemsField, String method) {
        JsonNode list = itemsField == null ? result : result.get(itemsField);
        if (list == null || list.isNull() || list.isMissingNode()) {
            if (result.isArray() && result.isEmpty()) {
                return List.of();     // PHP's [] for an empty wrapper object
            }
            throw new LenientJson.MalformedValue(method + " result." + itemsField, result, "an object with '" + itemsField + "'");
        }
        return LenientJson.asElements(method + (itemsField == null ? " result" : " result." + itemsField), list);
    }

    /** UP, DEGRADED (retryable failures within the degraded window) or AUTH_FAILED (until a call succeeds). */
    public PortalHealth health() {
        String auth = state.authError;
        if (auth != null) {
            return new PortalHealth(config.portal(), PortalHealth.Status.AUTH_FAILED, auth, state.authErrorAt);
        }
        Instant at = state.retryableErrorAt;
        if (at != null && at.plus(config.degradedWindow()).isAfter(config.clock().instant())) {
            return new PortalHealth(config.portal(), PortalHealth.Status.DEGRADED, state.retryableError, at);
        }
        return new PortalHealth(config.portal(), PortalHealth.Status.UP, state.retryableError, at);
    }

    private BitrixResponse withRetry(Idempotence idempotence, java.util.function.Supplier<BitrixResponse> attempt) {
        Retry retry = idempotence == Idempotence.IDEMPOTENT && !callerRetriesFailures ? retryAll : retryRefusals;
        return Retry.decorateSupplier(retry, attempt).get();
    }

    /** One HTTP request: limiter, send, classify. */
    private BitrixResponse attempt(String method, ObjectNode body) {
        String maskedUrl = webhook.maskedMethodUrl(method);
        String methodKey = method.toLowerCase(Locale.ROOT);
        Instant blockedUntil = methodBlockedUntil.get(methodKey);
        Instant now = config.clock().instant();
        if (blockedUntil != null && blockedUntil.isAfter(now)) {
            // the portal would refuse this method until its operating-time bucket expires; don't spend budget on it
            BitrixException e = new BitrixException.OperationTimeLimit("OPERATION_TIME_LIMIT",
                    "method blocked by an earlier OPERATION_TIME_LIMIT", 0, method, maskedUrl, Duration.between(now, blockedUntil));
            count(method, e.kind().tag());
            throw e;
        }
        try {
            limiter.acquire();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the rate limit of " + maskedUrl);
        }
        byte[] payload;
        try {
            payload = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("parameters of " + method + " cannot be written as JSON: " + e.getOriginalMessage());
        }
        HttpRequest request = HttpRequest.newBuilder(webhook.methodUri(method))
                .timeout(config.callTimeout())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("User-Agent", "dealbridge-bitrix-rest/0.1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                .build();
        log.debug("POST {} ({} bytes)", maskedUrl, payload.length);
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw fail(method, new BitrixException.TransientFailure("", "no response within " + config.callTimeout().toMillis() + " ms",
                    0, method, maskedUrl, true, masked(e)));
        } catch (ConnectException e) {
            throw fail(method, new BitrixException.TransientFailure("", "connection failed: " + webhook.mask(String.valueOf(e.getMessage())),
                    0, method, maskedUrl, false, masked(e)));
        } catch (IOException e) {
            throw fail(method, new BitrixException.TransientFailure("", "connection closed or reset without a response: "
                    + webhook.mask(e.getClass().getSimpleName() + ": " + e.getMessage()), 0, method, maskedUrl, true, masked(e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted during " + maskedUrl);
        }
        return interpret(method, maskedUrl, response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), response.body());
    }

    private BitrixResponse interpret(String method, String maskedUrl, int status, String contentType, byte[] bytes) {
        long received = System.nanoTime();
        JsonNode root;
        try {
            root = bytes.length == 0 ? null : JSON.readTree(bytes);
        } catch (IOException e) {
            root = null;
        }
        if (root == null || !root.isObject()) {
            // gateways and some limit blocks answer with an HTML page (reference §1.4)
            String head = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
            throw fail(method, new BitrixException.TransientFailure("", "non-JSON response (" + contentType + "): " + webhook.mask(head),
                    status, method, maskedUrl, true, null));
        }
        JsonNode error = root.get("error");
        if (error != null && !error.isNull()) {
            String code = error.isValueNode() ? error.asText() : error.toString();
            String description = webhook.mask(LenientJson.optText(root, "error_description").orElse(""));
            Optional<Instant> resetAt = resetAt(root);
            BitrixException e = errorFrom(status, code, description, method, resetAt);
            throw fail(method, e);
        }
        portalClock.observe(root, received);
        if (!root.has("result")) {
            throw fail(method, new BitrixException.TransientFailure("", "response has neither result nor error", status, method, maskedUrl, true, null));
        }
        Optional<Instant> resetAt = resetAt(root);
        resetAt.ifPresent(r -> operatingResetAt.put(method.toLowerCase(Locale.ROOT), r));
        Optional<Double> operating = Optional.ofNullable(root.path("time").get("operating")).filter(JsonNode::isNumber).map(JsonNode::asDouble);
        count(method, "ok");
        state.authError = null;
        state.authErrorAt = null;
        return new BitrixResponse(root.get("result"), optLong(root, "total"), optLong(root, "next"), resetAt, operating,
                PortalClock.startOf(root));
    }

    private static OptionalLong optLong(JsonNode root, String field) {
        return LenientJson.optLong(root, field).map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    private static Optional<Instant> resetAt(JsonNode root) {
        JsonNode t = root.path("time");
        return t.isObject() ? LenientJson.optLong(t, "operating_reset_at").map(Instant::ofEpochSecond) : Optional.empty();
    }

    private BitrixException errorFrom(int status, JsonNode errorEnvelope, String method) {
        JsonNode error = errorEnvelope.get("error");
        String code = error == null || error.isNull() ? "" : error.isValueNode() ? error.asText() : error.toString();
        String description = webhook.mask(LenientJson.optText(errorEnvelope, "error_description").orElse(""));
        return errorFrom(status, code, description, method, Optional.empty());
    }

    private BitrixException errorFrom(int status, String code, String description, String method, Optional<Instant> resetAtInError) {
        String methodKey = method.toLowerCase(Locale.ROOT);
        Duration block = Duration.ZERO;
        if ("OPERATION_TIME_LIMIT".equalsIgnoreCase(code)) {
            // The block is kept per method for THIS webhook: the current docs say the limit is per application/webhook
            // (older text said per account — CONFLICT, reference §2.2). A 429 carries no reset time (no Retry-After), so
            // the operating_reset_at of this method's last good answer is used, else the fallback (≥ 60 s, §2.3).
            Instant now = config.clock().instant();
            Instant until = resetAtInError.or(() -> Optional.ofNullable(operatingResetAt.get(methodKey)))
                    .filter(r -> r.isAfter(now))
                    .orElse(now.plus(config.operationLimitFallback()));
            methodBlockedUntil.put(methodKey, until);
            block = Duration.between(now, until);
            limiter.onOperationTimeLimit();
        }
        return BitrixErrors.classify(status, webhook.mask(code), description, method, webhook.maskedMethodUrl(method), block);
    }

    /** Bookkeeping for a failed attempt: limiter, health, metrics, logs. Returns the exception to throw. */
    private BitrixException fail(String method, BitrixException e) {
        count(method, e.kind().tag());
        switch (e.kind()) {
            case RATE_LIMITED -> {
                limiter.onQueryLimitExceeded();
                recordRetryable(e);
            }
            case OPERATION_LIMITED, TRANSIENT -> recordRetryable(e);
            case AUTH -> recordAuthFailure(e);
            default -> log.debug("{}", e.getMessage());
        }
        return e;
    }

    private void recordRetryable(BitrixException e) {
        state.retryableError = e.getMessage();
        state.retryableErrorAt = config.clock().instant();
        log.debug("{}", e.getMessage());
    }

    private void recordAuthFailure(BitrixException e) {
        authFailures.increment();
        state.authError = e.getMessage();
        state.authErrorAt = config.clock().instant();
        log.error("Bitrix portal '{}' rejected the webhook: {} — check the webhook code, its scopes and the user's rights", config.portal(), e.getMessage());
    }

    private void count(String method, String result) {
        Counter.builder("dealbridge.rest.calls")
                .description("Bitrix REST method calls by outcome (a batch counts once as 'batch' and once per command)")
                .tag("portal", config.portal()).tag("method", method.toLowerCase(Locale.ROOT)).tag("result", result)
                .register(registry).increment();
    }

    /** A copy of an I/O exception whose message is masked, keeping the stack trace (the original may name the URL). */
    private IOException masked(IOException e) {
        IOException copy = new IOException(e.getClass().getName() + ": " + webhook.mask(String.valueOf(e.getMessage())));
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }

    @Override
    public void close() {
        // HttpClient has no close() before Java 21; its threads are daemons and go with the client.
    }

    @Override
    public String toString() {
        return "BitrixClient{portal=" + config.portal() + ", url=" + webhook.masked() + "}";
    }
}
