package org.dealbridge.emulator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code /emulator/...} JSON endpoints documented on {@link BitrixEmulator}. */
final class AdminApi implements HttpHandler {
    private static final Pattern ID_PATH = Pattern.compile("/emulator/(crm/deals|crm/contacts|store/orders)/(\\d+)(/human-update)?");
    private static final Pattern STAGES_PATH = Pattern.compile("/emulator/crm/pipelines/(\\d+)/stages");
    private final BitrixEmulator emu;

    AdminApi(BitrixEmulator emu) {
        this.emu = emu;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            Object result = route(ex.getRequestMethod().toUpperCase(Locale.ROOT), ex.getRequestURI().getPath(), body(ex));
            if (result == null) {
                respond(ex, 404, Map.of("error", "no such emulator endpoint: " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath()));
            } else {
                respond(ex, 200, result);
            }
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            respond(ex, 400, Map.of("error", String.valueOf(e.getMessage())));
        }
    }

    private static Map<String, Object> body(HttpExchange ex) throws IOException {
        byte[] bytes = ex.getRequestBody().readAllBytes();
        if (bytes.length == 0) {
            return new LinkedHashMap<>();
        }
        Object parsed = BitrixEmulator.JSON.readValue(bytes, Object.class);
        Map<String, Object> map = Params.asMap(parsed);
        if (map == null) {
            throw new IllegalArgumentException("body: expected a JSON object");
        }
        return map;
    }

    private Object route(String verb, String path, Map<String, Object> b) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        Matcher id = ID_PATH.matcher(p);
        if (id.matches()) {
            long n = Long.parseLong(id.group(2));
            boolean humanUpdate = id.group(3) != null;
            switch (id.group(1)) {
                case "crm/deals":
                    if (humanUpdate && verb.equals("POST")) {
                        emu.crm().updateDealAsHuman(n, b);
                        return emu.crm().deal(n);
                    }
                    if (verb.equals("DELETE")) {
                        emu.crm().deleteDealAsHuman(n);
                        return Map.of("deleted", n);
                    }
                    return orMissing(emu.crm().deal(n), "deal", n);
                case "crm/contacts":
                    return orMissing(emu.crm().contact(n), "contact", n);
                default:
                    if (humanUpdate && verb.equals("POST")) {
                        emu.store().updateOrderAsHuman(n, b);
                    }
                    if (verb.equals("DELETE")) {
                        emu.store().deleteOrderAsHuman(n);
                        return Map.of("deleted", n);
                    }
                    return orMissing(emu.store().order(n), "order", n);
            }
        }
        Matcher stages = STAGES_PATH.matcher(p);
        if (stages.matches()) {
            return emu.crm().stages(Integer.parseInt(stages.group(1)));
        }
        switch (verb + " " + p) {
            case "GET /emulator/crm/deals":
                return emu.crm().deals();
            case "POST /emulator/crm/deals":
                return Map.of("id", emu.crm().addDealAsHuman(b));
            case "POST /emulator/crm/pipelines":
                emu.crm().addPipeline(intOf(b, "id"), text(b, "name"), !Boolean.FALSE.equals(b.get("defaultStages")));
                return emu.crm().stages(intOf(b, "id"));
            case "POST /emulator/crm/stages":
                return Map.of("statusId", emu.crm().addStage(intOf(b, "pipelineId"), text(b, "statusId"), text(b, "name"),
                        StageSemantics.parse(Params.asString(b.get("semantics")))));
            case "POST /emulator/crm/users":
                emu.crm().addUser(intOf(b, "id"), text(b, "name"), Params.asString(b.get("lastName")),
                        Params.asString(b.get("email")), !Boolean.FALSE.equals(b.get("active")));
                return Map.of("id", intOf(b, "id"));
            case "POST /emulator/crm/contacts":
                Long assigned = Params.asLong(b.get("assignedById"));
                return Map.of("id", emu.crm().addContact(text(b, "name"), Params.asString(b.get("lastName")),
                        assigned == null ? null : assigned.intValue(), Params.asString(b.get("email")), Params.asString(b.get("phone"))));
            case "POST /emulator/crm/userfields":
                List<Object> values = Params.asList(b.get("values"));
                if (values != null && !values.isEmpty()) {
                    List<String> v = new ArrayList<>();
                    values.forEach(x -> v.add(String.valueOf(x)));
                    return emu.crm().addDealEnumerationField(text(b, "fieldName"), v.toArray(new String[0]));
                }
                emu.crm().addDealUserField(text(b, "fieldName"), text(b, "type"), Params.isYes(b.get("multiple")));
                return Map.of("fieldName", text(b, "fieldName"));
            case "GET /emulator/store/orders":
                return emu.store().orders();
            case "POST /emulator/store/orders":
                return Map.of("id", emu.store().addOrder(b));
            case "POST /emulator/store/sections":
                emu.store().addSection(longOf(b, "id"), Params.asLong(b.get("parentId")), text(b, "name"));
                return Map.of("id", longOf(b, "id"));
            case "POST /emulator/store/products":
                emu.store().addProduct(longOf(b, "id"), text(b, "name"), Params.asLong(b.get("sectionId")), decimal(b, "price"));
                return Map.of("id", longOf(b, "id"));
            case "POST /emulator/store/variations":
                emu.store().addVariation(longOf(b, "id"), longOf(b, "parentId"), text(b, "name"), decimal(b, "price"));
                return Map.of("id", longOf(b, "id"));
            case "POST /emulator/store/statuses":
                String type = Params.asString(b.get("type"));
                emu.store().addStatus(text(b, "id"), text(b, "name"), type == null ? "O" : type);
                return Map.of("id", text(b, "id"));
            case "POST /emulator/store/paysystems":
                emu.store().addPaySystem(longOf(b, "id"), text(b, "name"), Params.isYes(b.get("cash")));
                return Map.of("id", longOf(b, "id"));
            case "POST /emulator/store/persontypes":
                emu.store().addPersonType(longOf(b, "id"), text(b, "name"));
                return Map.of("id", longOf(b, "id"));
            case "POST /emulator/store/properties":
                return Map.of("id", emu.store().addOrderProperty(longOf(b, "id"), text(b, "code"), text(b, "name")));
            case "GET /emulator/calls":
                List<Map<String, Object>> calls = new ArrayList<>();
                for (Call c : emu.calls().all()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("portal", c.portal().name().toLowerCase(Locale.ROOT));
                    m.put("method", c.method());
                    m.put("httpStatus", c.httpStatus());
                    m.put("time", c.time().toString());
                    m.put("inBatch", c.inBatch());
                    m.put("error", c.error());
                    m.put("params", c.params());
                    calls.add(m);
                }
                return calls;
            case "DELETE /emulator/calls":
                emu.calls().clear();
                return Map.of("cleared", true);
            case "GET /emulator/events":
                Map<String, Object> ev = new LinkedHashMap<>();
                ev.put("delivered", emu.events().delivered());
                ev.put("lost", emu.events().lost());
                ev.put("pending", emu.events().pending());
                ev.put("deliveries", emu.events().deliveries());
                return ev;
            case "POST /emulator/subscriptions":
                List<String> names = new ArrayList<>();
                Params.asList(b.get("events")).forEach(x -> names.add(String.valueOf(x)));
                Portal portal = portal(b, true);
                int handlerId = portal == Portal.CRM
                        ? emu.subscribeCrm(text(b, "handlerUrl"), text(b, "applicationToken"), names.toArray(new String[0]))
                        : emu.subscribeStore(text(b, "handlerUrl"), text(b, "applicationToken"), names.toArray(new String[0]));
                return Map.of("handlerId", handlerId);
            case "POST /emulator/faults":
                Fault fault = Fault.valueOf(text(b, "fault").toUpperCase(Locale.ROOT));
                int count = b.get("count") == null ? 1 : intOf(b, "count");
                if (portal(b, false) == null) {
                    emu.faults().failNext(text(b, "method"), count, fault);
                } else {
                    emu.faults().failNext(portal(b, false), text(b, "method"), count, fault);
                }
                return Map.of("queued", count);
            case "POST /emulator/faults/slow":
                Duration delay = Duration.ofMillis(longOf(b, "delayMillis"));
                if (portal(b, false) == null) {
                    emu.faults().slow(text(b, "method"), delay);
                } else {
                    emu.faults().slow(portal(b, false), text(b, "method"), delay);
                }
                return Map.of("delayMillis", delay.toMillis());
            case "POST /emulator/faults/outage":
                emu.faults().outage(portal(b, true), Duration.ofSeconds(longOf(b, "seconds")),
                        Fault.valueOf(text(b, "fault").toUpperCase(Locale.ROOT)));
                return Map.of("seconds", longOf(b, "seconds"));
            case "DELETE /emulator/faults":
                emu.faults().clear();
                return Map.of("cleared", true);
            case "POST /emulator/rate-limit":
                if (Params.isYes(b.get("disabled"))) {
                    emu.rateLimitDisabled(portal(b, true));
                } else {
                    emu.rateLimit(portal(b, true), decimal(b, "requestsPerSecond").doubleValue(), intOf(b, "burst"));
                }
                return Map.of("ok", true);
            default:
                return null;
        }
    }

    private static Object orMissing(Object value, String what, long id) {
        if (value == null) {
            throw new IllegalArgumentException(what + " " + id + " does not exist");
        }
        return value;
    }

    private static Portal portal(Map<String, Object> b, boolean required) {
        String p = Params.asString(b.get("portal"));
        if (p == null) {
            if (required) {
                throw new IllegalArgumentException("portal: required, 'crm' or 'store'");
            }
            return null;
        }
        switch (p.toLowerCase(Locale.ROOT)) {
            case "crm": return Portal.CRM;
            case "store": return Portal.STORE;
            default: throw new IllegalArgumentException("portal: expected 'crm' or 'store', got '" + p + "'");
        }
    }

    private static String text(Map<String, Object> b, String name) {
        String s = Params.asString(b.get(name));
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(name + ": required");
        }
        return s;
    }

    private static long longOf(Map<String, Object> b, String name) {
        Long n = Params.asLong(b.get(name));
        if (n == null) {
            throw new IllegalArgumentException(name + ": required integer, got '" + b.get(name) + "'");
        }
        return n;
    }

    private static int intOf(Map<String, Object> b, String name) {
        return Math.toIntExact(longOf(b, name));
    }

    private static BigDecimal decimal(Map<String, Object> b, String name) {
        BigDecimal d = Params.asDecimal(b.get(name));
        if (d == null) {
            throw new IllegalArgumentException(name + ": required number, got '" + b.get(name) + "'");
        }
        return d;
    }

    private static void respond(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes = BitrixEmulator.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
