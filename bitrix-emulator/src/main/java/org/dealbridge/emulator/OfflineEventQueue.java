package org.dealbridge.emulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A portal's offline event queue ({@code event.offline.*}, application auth only). It stores current state, not
 * history: a record is keyed by {@code MESSAGE_ID = md5(EVENT_NAME|json(EVENT_DATA))}, and a repeated change of the
 * same entity refreshes the waiting record's {@code TIMESTAMP_X} instead of adding one. Changes an application makes
 * through its own token with the same {@code auth_connector} are not queued for that binding (loop avoidance).
 * {@code clear=0} reserves records under a {@code process_id}; parallel readers get disjoint sets.
 */
final class OfflineEventQueue {
    /** The connector of the application whose REST call is running on this thread; null for webhooks and UI edits. */
    static final ThreadLocal<String> APP_CALLER = new ThreadLocal<>();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PortalTime time;
    private final List<String[]> bindings = new ArrayList<>(); // {event, connector}
    private final LinkedHashMap<Long, Rec> records = new LinkedHashMap<>();
    private long nextId = 1;

    private static final class Rec {
        long id;
        String event;
        Map<String, Object> data;
        String messageId;
        String connector;
        Instant timestamp;
        String processId = "";
        boolean error;
    }

    OfflineEventQueue(PortalTime time) {
        this.time = time;
    }

    synchronized void bind(String event, String connector) {
        for (String[] b : bindings) {
            if (b[0].equals(event) && b[1].equals(connector)) {
                return;
            }
        }
        bindings.add(new String[] {event, connector});
    }

    synchronized int unbind(String event, String connector) {
        int before = bindings.size();
        bindings.removeIf(b -> b[0].equals(event) && (connector == null || b[1].equals(connector)));
        return before - bindings.size();
    }

    synchronized List<Map<String, Object>> bindingsView() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String[] b : bindings) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", b[0]);
            m.put("connector_id", b[1]);
            m.put("offline", 1);
            out.add(m);
        }
        return out;
    }

    synchronized void record(String event, Map<String, Object> fields) {
        String caller = APP_CALLER.get();
        for (String[] b : bindings) {
            if (!b[0].equals(event) || (caller != null && caller.equals(b[1]))) {
                continue;
            }
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("FIELDS", fields);
            String messageId = md5(event + "|" + json(data));
            Rec waiting = null;
            for (Rec r : records.values()) {
                if (r.messageId.equals(messageId) && r.connector.equals(b[1]) && r.processId.isEmpty() && !r.error) {
                    waiting = r;
                }
            }
            if (waiting != null) {
                waiting.timestamp = time.now();
                continue;
            }
            Rec r = new Rec();
            r.id = nextId++;
            r.event = event;
            r.data = data;
            r.messageId = messageId;
            r.connector = b[1];
            r.timestamp = time.now();
            records.put(r.id, r);
        }
    }

    synchronized Object get(Params p) {
        String connector = connector(p);
        Long limitParam = Params.asLong(p.exact("limit"));
        int limit = limitParam == null || limitParam <= 0 ? 50 : limitParam.intValue();
        boolean clear = p.exact("clear") == null || Params.isYes(p.exact("clear"));
        String processId = Params.asString(p.exact("process_id"));
        boolean errors = Params.isYes(p.exact("error"));
        Map<String, Object> filter = Params.asMap(p.exact("filter"));
        List<Rec> chosen = new ArrayList<>();
        List<Rec> sorted = sorted(Params.asMap(p.exact("order")), Map.of("TIMESTAMP_X", "ASC"));
        for (Rec r : sorted) {
            if (!r.connector.equals(connector) || chosen.size() >= limit) {
                continue;
            }
            boolean eligible = processId != null ? r.processId.equals(processId)
                    : errors ? r.error : r.processId.isEmpty() && !r.error;
            if (eligible && ListQuery.matches(row(r, false), filter, upper(), time.zone, u -> { })) {
                chosen.add(r);
            }
        }
        List<Map<String, Object>> events = new ArrayList<>();
        chosen.forEach(r -> events.add(row(r, false)));
        Map<String, Object> result = new LinkedHashMap<>();
        if (clear && processId == null) {
            chosen.forEach(r -> records.remove(r.id));
            result.put("process_id", null);
        } else {
            // reference: clear=0 needs the rest_offline_extended feature; the emulator always has it
            String pid = processId != null ? processId : HexFormat.of().formatHex(randomBytes());
            chosen.forEach(r -> r.processId = pid);
            result.put("process_id", pid);
        }
        result.put("events", events);
        return result;
    }

    synchronized Object clear(Params p) {
        String processId = Params.asString(p.exact("process_id"));
        if (processId == null || processId.isBlank()) {
            throw new BitrixError(400, "ERROR_ARGUMENT", "Required parameter process_id is missing");
        }
        List<Object> ids = Params.asList(p.exact("id"));
        List<Object> messageIds = ids == null ? Params.asList(p.exact("message_id")) : null;
        records.values().removeIf(r -> r.processId.equals(processId)
                && (ids == null || ids.stream().anyMatch(i -> Long.valueOf(r.id).equals(Params.asLong(i))))
                && (messageIds == null || messageIds.contains(r.messageId)));
        return true;
    }

    synchronized Object error(Params p) {
        String processId = Params.asString(p.exact("process_id"));
        List<Object> messageIds = Params.asList(p.exact("message_id"));
        if (processId == null || messageIds == null) {
            throw new BitrixError(400, "ERROR_ARGUMENT", "Required parameters process_id and message_id are missing");
        }
        for (Rec r : records.values()) {
            if (r.processId.equals(processId) && messageIds.contains(r.messageId)) {
                r.error = true;
                r.processId = "";
            }
        }
        return true;
    }

    synchronized Object list(Params p) {
        String connector = connector(p);
        Map<String, Object> filter = Params.asMap(p.exact("filter"));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Rec r : sorted(Params.asMap(p.exact("order")), Map.of("ID", "ASC"))) {
            Map<String, Object> row = row(r, true);
            if (r.connector.equals(connector) && ListQuery.matches(row, filter, upper(), time.zone, u -> { })) {
                rows.add(row);
            }
        }
        return ListQuery.page(rows, p.exact("start"), true, page -> page);
    }

    private List<Rec> sorted(Map<String, Object> order, Map<String, Object> fallback) {
        List<Rec> all = new ArrayList<>(records.values());
        Map<String, Object> by = order == null || order.isEmpty() ? fallback : order;
        Map<Rec, Map<String, Object>> rows = new java.util.IdentityHashMap<>();
        all.forEach(r -> rows.put(r, row(r, true)));
        java.util.Comparator<Map<String, Object>> c = ListQuery.order(by, upper(), (f, v) -> v, "ID", time.zone);
        all.sort((x, y) -> c.compare(rows.get(x), rows.get(y)));
        return all;
    }

    private static Function<String, String> upper() {
        return n -> n.toUpperCase(Locale.ROOT);
    }

    private Map<String, Object> row(Rec r, boolean withState) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ID", Long.toString(r.id));
        m.put("TIMESTAMP_X", time.render(r.timestamp));
        m.put("EVENT_NAME", r.event);
        m.put("EVENT_DATA", r.data);
        m.put("EVENT_ADDITIONAL", Map.of("user_id", "1"));
        m.put("MESSAGE_ID", r.messageId);
        if (withState) {
            m.put("PROCESS_ID", r.processId);
            m.put("ERROR", r.error ? "1" : "0");
        }
        return m;
    }

    private static String connector(Params p) {
        String c = Params.asString(p.exact("auth_connector"));
        return c == null ? "" : c;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String json(Object value) {
        try {
            return BitrixEmulator.JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
