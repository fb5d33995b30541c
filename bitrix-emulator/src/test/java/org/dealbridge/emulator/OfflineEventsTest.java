package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The offline queue (application auth): MESSAGE_ID dedup, clear / process_id reservation, loop avoidance. */
class OfflineEventsTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2024-09-01T09:00:00Z"));
    private BitrixEmulator emu;

    @BeforeEach
    void start() {
        emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled().clock(clock));
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private Rest.Answer app(String method, Map<String, Object> params) {
        return Rest.postJson(emu.applicationEndpoint() + method + "?auth=" + emu.applicationAccessToken(Portal.CRM), params);
    }

    @Test
    void applicationAuthIsCheckedByToken() {
        Rest.Answer wrong = Rest.postJson(emu.applicationEndpoint() + "event.get?auth=notatoken", Map.of());
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.body().get("error").asText()).isEqualTo("invalid_token");
        assertThat(app("event.get", Map.of()).status()).isEqualTo(200);
        Rest.Answer unknownEvent = app("event.bind", Map.of("event", "ONNOTHING", "event_type", "offline"));
        assertThat(unknownEvent.body().get("error").asText()).isEqualTo("ERROR_EVENT_NOT_FOUND");
    }

    @Test
    void repeatedChangesOfOneDealKeepOneRecordWithAFreshTimestamp() {
        assertThat(app("event.bind", Map.of("event", "ONCRMDEALUPDATE", "event_type", "offline")).result().asBoolean()).isTrue();
        long id = emu.crm().addDealAsHuman(Map.of("TITLE", "a"));
        long other = emu.crm().addDealAsHuman(Map.of("TITLE", "b"));
        emu.crm().updateDealAsHuman(id, Map.of("TITLE", "a1"));
        clock.advance(Duration.ofMinutes(1));
        emu.crm().updateDealAsHuman(id, Map.of("TITLE", "a2"));
        emu.crm().updateDealAsHuman(other, Map.of("TITLE", "b1"));
        JsonNode events = app("event.offline.get", Map.of()).result().get("events");
        assertThat(events.size()).isEqualTo(2);
        assertThat(events.get(0).get("EVENT_DATA").get("FIELDS").get("ID").asText()).isEqualTo(Long.toString(id));
        assertThat(events.get(0).get("TIMESTAMP_X").asText()).isEqualTo("2024-09-01T12:01:00+03:00");
        assertThat(events.get(0).get("MESSAGE_ID").asText()).matches("[0-9a-f]{32}");
        // clear=1 (default) deleted them
        assertThat(app("event.offline.get", Map.of()).result().get("events").size()).isZero();
    }

    @Test
    void clearZeroReservesDisjointSetsUntilCleared() {
        app("event.bind", Map.of("event", "ONCRMDEALADD", "event_type", "offline"));
        for (int i = 0; i < 5; i++) {
            emu.crm().addDealAsHuman(Map.of("TITLE", "d" + i));
        }
        JsonNode first = app("event.offline.get", Map.of("clear", 0, "limit", 3)).result();
        JsonNode second = app("event.offline.get", Map.of("clear", 0, "limit", 3)).result();
        String pid = first.get("process_id").asText();
        assertThat(pid).matches("[0-9a-f]{32}");
        assertThat(first.get("events").size()).isEqualTo(3);
        assertThat(second.get("events").size()).isEqualTo(2);
        Set<String> ids = new HashSet<>();
        first.get("events").forEach(e -> ids.add(e.get("ID").asText()));
        second.get("events").forEach(e -> ids.add(e.get("ID").asText()));
        assertThat(ids).hasSize(5);
        // re-reading a reservation returns the same records
        assertThat(app("event.offline.get", Map.of("process_id", pid)).result().get("events").size()).isEqualTo(3);
        JsonNode listed = app("event.offline.list", Map.of()).result();
        assertThat(listed.size()).isEqualTo(5);
        assertThat(listed.get(0).get("PROCESS_ID").asText()).isEqualTo(pid);
        // mark one as error, clear the rest of the reservation
        String bad = first.get("events").get(0).get("MESSAGE_ID").asText();
        app("event.offline.error", Map.of("process_id", pid, "message_id", List.of(bad)));
        assertThat(app("event.offline.clear", Map.of("process_id", pid)).result().asBoolean()).isTrue();
        assertThat(app("event.offline.list", Map.of()).result().size()).isEqualTo(3); // 2 reserved by second + 1 error
        assertThat(app("event.offline.get", Map.of("error", 1)).result().get("events").get(0).get("MESSAGE_ID").asText()).isEqualTo(bad);
    }

    @Test
    void theApplicationsOwnChangesWithItsConnectorAreNotQueued() {
        app("event.bind", Map.of("event", "ONCRMDEALADD", "event_type", "offline", "auth_connector", "sync"));
        // the app itself, marking its calls with the same connector
        assertThat(app("crm.deal.add", Map.of("fields", Map.of("TITLE", "own"), "auth_connector", "sync")).status()).isEqualTo(200);
        // an incoming-webhook call and a manager's edit are queued
        Rest.crm(emu, "crm.deal.add", Map.of("fields", Map.of("TITLE", "webhook")));
        emu.crm().addDealAsHuman(Map.of("TITLE", "manager"));
        JsonNode events = app("event.offline.get", Map.of("auth_connector", "sync")).result().get("events");
        assertThat(events.size()).isEqualTo(2);
        // a queue without connector sees nothing of the connector's queue
        assertThat(app("event.offline.get", Map.of()).result().get("events").size()).isZero();
    }

    @Test
    void onlineBindingThroughTheApplicationAndUnbind() {
        app("event.bind", Map.of("event", "ONCRMDEALUPDATE", "handler", "http://127.0.0.1:9/h"));
        JsonNode bound = app("event.get", Map.of()).result();
        assertThat(bound.get(0).get("event").asText()).isEqualTo("ONCRMDEALUPDATE");
        assertThat(bound.get(0).get("offline").asInt()).isZero();
        assertThat(app("event.unbind", Map.of("event", "ONCRMDEALUPDATE", "handler", "http://127.0.0.1:9/h")).result().get("count").asInt()).isEqualTo(1);
        assertThat(app("event.get", Map.of()).result().size()).isZero();
    }
}
