package org.dealbridge.dealprojector.crm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.crm.DealWriterTest.agreed;
import static org.dealbridge.dealprojector.crm.DealWriterTest.buyer;
import static org.dealbridge.dealprojector.crm.DealWriterTest.create;
import static org.dealbridge.dealprojector.crm.DealWriterTest.update;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.PortalRateLimiter;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Fault;
import org.dealbridge.emulator.ManualClock;
import org.dealbridge.emulator.Portal;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The next round's reads riding in this round's last write call (issue 14 item 3 (a)), against the CRM emulator over
 * HTTP: a round read ahead costs one call, and anything that makes those reads doubtful reads again.
 */
class ReadAheadTest {

    private BitrixEmulator crm;
    private BitrixClient client;
    private DealWriter writer;
    private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T10:00:00Z"));

    @BeforeEach
    void start() {
        crm = DealWriterTest.theShopsCrm();
        client = BitrixClient.builder(crm.crmWebhookUrl()).portal("crm").meterRegistry(new SimpleMeterRegistry())
                .rateLimiter(new PortalRateLimiter("crm", PortalRateLimiter.Options.of(1000, 1000).withInitialFill(0)))
                .callTimeout(Duration.ofSeconds(2)).retry(2, Duration.ofMillis(10), Duration.ofMillis(50)).build();
        DealProjectorConfig config = new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.maxAttempts(), "3"));
        writer = new DealWriter(client, config, clock, wait -> { });
    }

    @AfterEach
    void stop() {
        client.close();
        crm.close();
    }

    private static List<DealCommand> newOrders(long first, long last, Buyer buyer) {
        List<DealCommand> commands = new ArrayList<>();
        for (long order = first; order <= last; order++) {
            commands.add(create(order, Map.of(), buyer, false));
        }
        return commands;
    }

    private int callsOf(List<DealCommand> commands) throws InterruptedException {
        crm.calls().clear();
        List<DealWrite> results = writer.write(commands, DealWriter.MoveIntents.UNRECORDED, List.of());
        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isIn(Outcome.CREATED, Outcome.UPDATED));
        return crm.calls().count(Portal.CRM, "batch");
    }

    private void assertOneDealEach(long first, long last) {
        for (long order = first; order <= last; order++) {
            assertThat(crm.crm().dealsByOrigin("dealbridge:s1", Long.toString(order))).as("order %d", order).hasSize(1);
        }
    }

    @Test
    void theNextOrdersAreReadInThisRoundsWriteCallSoTheirRoundIsOneCall() throws Exception {
        List<DealCommand> next = newOrders(7101, 7105, null);
        crm.calls().clear();

        writer.write(newOrders(7001, 7005, null), DealWriter.MoveIntents.UNRECORDED, next);
        assertThat(crm.calls().count(Portal.CRM, "batch")).as("this round: its reads, then its writes with the next reads")
                .isEqualTo(2);
        assertThat(crm.calls().count(Portal.CRM, "crm.deal.list")).as("both look-ups, one per round").isEqualTo(2);

        assertThat(callsOf(next)).as("the next round: its writes only").isEqualTo(1);
        assertOneDealEach(7001, 7005);
        assertOneDealEach(7101, 7105);
    }

    @Test
    void anUpdateReadAheadIsDecidedOnTheDealAsThatCallReadIt() throws Exception {
        long dealId = writer.write(List.of(create(7201, Map.of(), null, false))).get(0).link().getDealId();
        DealCommand paid = update(7201, dealId, agreed(7201, dealId, 2, "C2:NEW", "N")).status("P").stage("C2:EXECUTING").build();
        crm.calls().clear();

        writer.write(newOrders(7202, 7203, null), DealWriter.MoveIntents.UNRECORDED, List.of(paid));

        assertThat(callsOf(List.of(paid))).isEqualTo(1);
        assertThat(crm.crm().deal(dealId)).containsEntry("STAGE_ID", "C2:EXECUTING");
    }

    @Test
    void aTitleAManagerSetBeforeTheReadsRodeStandsAgainstTheUpdateDecidedOnThem() throws Exception {
        long dealId = writer.write(List.of(create(7251, Map.of(), null, false))).get(0).link().getDealId();
        DealCommand renamed = update(7251, dealId, agreed(7251, dealId, 2, "C2:NEW", "N")).changed("TITLE", "Shop order 7251")
                .build();
        crm.crm().updateDealAsHuman(dealId, Map.of("TITLE", "Anna: corner sofa, VIP", "byUserId", 9));

        writer.write(newOrders(7252, 7253, null), DealWriter.MoveIntents.UNRECORDED, List.of(renamed));
        crm.calls().clear();
        DealWrite result = writer.write(List.of(renamed)).get(0);

        assertThat(result.outcome()).isEqualTo(Outcome.MANAGER_VALUE_KEPT);
        assertThat(crm.calls().count(Portal.CRM, "batch")).as("read ahead, and nothing to write").isZero();
        assertThat(crm.crm().deal(dealId)).containsEntry("TITLE", "Anna: corner sofa, VIP");
    }

    @Test
    void commandsThatAreNotTheObjectsReadAheadAreReadAgain() throws Exception {
        writer.write(newOrders(7301, 7302, null), DealWriter.MoveIntents.UNRECORDED, newOrders(7311, 7312, null));

        // equal values, other objects: what a run after a rebalance or a restart is handed
        assertThat(callsOf(newOrders(7311, 7312, null))).isEqualTo(2);
        assertOneDealEach(7311, 7312);
    }

    @Test
    void readsOlderThanTheirMostAgeAreReadAgain() throws Exception {
        List<DealCommand> next = newOrders(7411, 7412, null);
        writer.write(newOrders(7401, 7402, null), DealWriter.MoveIntents.UNRECORDED, next);

        clock.advance(ReadAhead.MAX_AGE.plusSeconds(1));

        assertThat(callsOf(next)).isEqualTo(2);
        assertOneDealEach(7411, 7412);
    }

    @Test
    void whenTheCallCarryingTheReadsLosesItsAnswerTheNextRoundReadsAgainAndNoDealIsMadeTwice() throws Exception {
        List<DealCommand> next = newOrders(7511, 7512, null);
        crm.faults().failNext("crm.deal.add", 1, Fault.APPLY_THEN_DROP);

        List<DealWrite> these = writer.write(newOrders(7501, 7502, null), DealWriter.MoveIntents.UNRECORDED, next);

        assertThat(these).allSatisfy(r -> assertThat(r.attempts()).isEqualTo(2));
        assertThat(callsOf(next)).isEqualTo(2);
        assertOneDealEach(7501, 7502);
        assertOneDealEach(7511, 7512);
    }

    @Test
    void aNextOrderOfABuyerThisRoundAddsAContactForWaitsForThatContactInsteadOfSearchingForIt() throws Exception {
        Buyer anna = buyer("anna@example.com", null);
        List<DealCommand> next = newOrders(7611, 7611, anna);
        next = new ArrayList<>(next);
        next.add(create(7612, Map.of(), buyer("boris@example.com", null), false));
        crm.calls().clear();

        writer.write(newOrders(7601, 7601, anna), DealWriter.MoveIntents.UNRECORDED, next);
        assertThat(crm.calls().count(Portal.CRM, "crm.duplicate.findbycomm")).as("Anna's search, then Boris's read ahead")
                .isEqualTo(2);

        crm.calls().clear();
        List<DealWrite> results = writer.write(next, DealWriter.MoveIntents.UNRECORDED, List.of());
        assertThat(crm.calls().count(Portal.CRM, "crm.duplicate.findbycomm")).as("Anna is remembered; Boris was searched").isZero();
        assertThat(crm.calls().count(Portal.CRM, "batch")).as("Anna's order is read in its own call").isEqualTo(2);
        assertThat(crm.calls().count(Portal.CRM, "crm.contact.add")).as("only Boris is new").isEqualTo(1);
        long annasFirst = Long.parseLong(crm.crm().dealsByOrigin("dealbridge:s1", "7601").get(0).get("ID").toString());
        long annasSecond = results.get(0).link().getDealId();
        assertThat(crm.crm().dealContactIds(annasSecond)).as("one contact for Anna's two orders")
                .isEqualTo(crm.crm().dealContactIds(annasFirst)).hasSize(1);
        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CREATED));
    }
}
