package org.dealbridge.emulator;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Outgoing-webhook events as a portal sends them: a form-encoded POST of {@code event}, {@code event_handler_id},
 * {@code data[...]}, {@code ts} and {@code auth[...]} to every handler subscribed to the event, once, asynchronously,
 * in the order the changes happened, never retried. A delivery that fails (handler down, timeout, non-2xx) is lost and
 * counted.
 */
public final class OutboundEvents implements AutoCloseable {
    private final Clock clock;
    private final Duration deliveryTimeout;
    private final HttpClient http;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bitrix-emulator-events");
        t.setDaemon(true);
        return t;
    });
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final List<EventDelivery> deliveries = new ArrayList<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger nextHandlerId = new AtomicInteger(1);
    private final Map<Portal, String> restEndpoints = new LinkedHashMap<>();
    private final Map<Portal, OfflineEventQueue> offline = new LinkedHashMap<>();

    private record Subscription(Portal portal, int id, String url, String token, Set<String> events) {
    }

    OutboundEvents(Clock clock, Duration deliveryTimeout) {
        this.clock = clock;
        this.deliveryTimeout = deliveryTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(deliveryTimeout).build();
    }

    void offlineQueue(Portal portal, OfflineEventQueue queue) {
        offline.put(portal, queue);
    }

    /** Removes the online subscriptions of {@code event} (at {@code handlerUrl}, or all when null); returns how many. */
    synchronized int unsubscribe(Portal portal, String event, String handlerUrl) {
        int count = 0;
        for (Subscription s : new ArrayList<>(subscriptions)) {
            if (s.portal == portal && s.events.contains(event) && (handlerUrl == null || s.url.equals(handlerUrl))) {
                subscriptions.remove(s);
                Set<String> rest = new TreeSet<>(s.events);
                rest.remove(event);
                if (!rest.isEmpty()) {
                    subscriptions.add(new Subscription(s.portal, s.id, s.url, s.token, rest));
                }
                count++;
            }
        }
        return count;
    }

    synchronized List<Map<String, Object>> onlineBindings(Portal portal) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Subscription s : subscriptions) {
            if (s.portal == portal) {
                for (String e : s.events) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("event", e);
                    m.put("handler", s.url);
                    m.put("auth_type", 0);
                    m.put("offline", 0);
                    out.add(m);
                }
            }
        }
        return out;
    }

    void endpoint(Portal portal, String clientEndpoint) {
        restEndpoints.put(portal, clientEndpoint);
    }

    synchronized int subscribe(Portal portal, String handlerUrl, String applicationToken, String... events) {
        URI uri = URI.create(handlerUrl);
        if (uri.getScheme() == null || !uri.getScheme().startsWith("http")) {
            throw new IllegalArgumentException("handlerUrl: must be an http(s) URL, got '" + handlerUrl + "'");
        }
        if (applicationToken == null || applicationToken.isBlank()) {
            throw new IllegalArgumentException("applicationToken: must not be blank");
        }
        if (events.length == 0) {
            throw new IllegalArgumentException("events: name at least one event");
        }
        Set<String> names = new TreeSet<>();
        for (String e : events) {
            names.add(e.toUpperCase(Locale.ROOT));
        }
        int id = nextHandlerId.getAndIncrement();
        subscriptions.add(new Subscription(portal, id, handlerUrl, applicationToken, names));
        return id;
    }

    public synchronized void unsubscribeAll() {
        subscriptions.clear();
    }

    /** Queues one delivery per matching subscription. {@code fields} become {@code data[FIELDS][...]}. */
    synchronized void fire(Portal portal, String event, Map<String, Object> fields) {
        OfflineEventQueue queue = offline.get(portal);
        if (queue != null) {
            queue.record(event, fields);
        }
        for (Subscription s : subscriptions) {
            if (s.portal != portal || !s.events.contains(event)) {
                continue;
            }
            Map<String, Object> form = new LinkedHashMap<>();
            form.put("event", event);
            form.put("event_handler_id", Integer.toString(s.id));
            form.put("data", Map.of("FIELDS", fields));
            form.put("ts", Long.toString(clock.instant().getEpochSecond()));
            String endpoint = restEndpoints.get(portal);
            URI endpointUri = URI.create(endpoint);
            Map<String, Object> auth = new LinkedHashMap<>();
            auth.put("domain", endpointUri.getAuthority());
            auth.put("client_endpoint", endpoint);
            auth.put("server_endpoint", "https://oauth.bitrix.info/rest/");
            auth.put("member_id", memberId(portal, endpoint));
            auth.put("application_token", s.token);
            form.put("auth", auth);
            String body = PhpForm.encode(form);
            Map<String, String> shown = new LinkedHashMap<>();
            shown.put("event", event);
            shown.put("event_handler_id", Integer.toString(s.id));
            fields.forEach((k, v) -> shown.put("data[FIELDS][" + k + "]", String.valueOf(v)));
            shown.put("auth[domain]", (String) auth.get("domain"));
            shown.put("auth[member_id]", (String) auth.get("member_id"));
            shown.put("auth[application_token]", "***");
            String entityId = String.valueOf(fields.get("ID"));
            pending.incrementAndGet();
            sender.execute(() -> deliver(s, event, entityId, body, shown));
        }
    }

    private void deliver(Subscription s, String event, String entityId, String body, Map<String, String> shown) {
        int status = 0;
        String failure = null;
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(s.url))
                    .timeout(deliveryTimeout)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("User-Agent", "Bitrix24 Webhook Engine")
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                    .build();
            status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status < 200 || status >= 300) {
                failure = "handler answered HTTP " + status;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } catch (Exception e) {
            failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        synchronized (this) {
            deliveries.add(new EventDelivery(s.portal, event, s.id, s.url, entityId, clock.instant(), failure == null,
                    status, failure, shown));
        }
        pending.decrementAndGet();
    }

    private static String memberId(Portal portal, String endpoint) {
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest((portal + "|" + endpoint).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** All finished delivery attempts, in the order they finished. */
    public synchronized List<EventDelivery> deliveries() {
        return new ArrayList<>(deliveries);
    }

    public synchronized long delivered() {
        return deliveries.stream().filter(EventDelivery::delivered).count();
    }

    /** Deliveries that failed and, as on a real portal, will never be retried. */
    public synchronized long lost() {
        return deliveries.stream().filter(d -> !d.delivered()).count();
    }

    /** Deliveries queued or in flight. */
    public int pending() {
        return pending.get();
    }

    /** Waits until no delivery is queued or in flight; returns false if that did not happen within {@code timeout}. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public void close() {
        sender.shutdownNow();
        try {
            sender.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
