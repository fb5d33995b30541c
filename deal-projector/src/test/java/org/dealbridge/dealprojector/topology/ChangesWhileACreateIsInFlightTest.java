package org.dealbridge.dealprojector.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.MAPPING;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.order;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new order's changes after its CREATE wait for the deal's link and become one write decided on it (issue 14 item
 * 5): without the wait each later window decided another CREATE, a second write once the connector's look-up found
 * the deal.
 */
class ChangesWhileACreateIsInFlightTest {

    static final Duration WINDOW = Duration.ofSeconds(1);
    static final Duration LINK_TIMEOUT = DealProjectorConfig.defaults().createLinkTimeout();

    @TempDir
    Path stateDir;

    private ProjectorScenario shop;

    @BeforeEach
    void openShop() {
        shop = new ProjectorScenario(stateDir, WINDOW).theAdminPublishes(MAPPING, 1);
    }

    @AfterEach
    void closeShop() {
        shop.close();
    }

    @Test
    void nineChangesInLaterWindowsBeforeTheLinkBecomeOneUpdateWithTheLatestState() {
        DealCommand create = aNewOrderIsCreatedAtStatusN();

        // N → P → N → … → P, each change in a window of its own, while the CREATE is on its way
        for (int change = 1; change <= 9; change++) {
            shop.theStoreReports(order(5001).status(change % 2 == 1 ? "P" : "N").updatedAt(at(change)).build())
                    .timePasses(WINDOW);
        }
        assertThat(shop.commands()).as("no command while the CREATE's link is on its way").isEmpty();

        shop.theConnectorLinksTheCreatedDeal(create, 812, "N").timePasses(WINDOW);

        DealCommand update = shop.onlyCommand();
        assertThat(update.getKind()).isEqualTo(DealCommandKind.UPDATE);
        assertThat(update.getDealId()).isEqualTo(812L);
        assertThat(update.getOrderStatusId()).isEqualTo("P");
        assertThat(update.getFields()).containsExactly(java.util.Map.entry(DealFields.STAGE_ID, "EXECUTING"));
        assertThat(update.getDecidedOn().getDealId()).isEqualTo(812L);
    }

    @Test
    void aHeldChangeTheLinkAlreadyAgreesWithWritesNothing() {
        DealCommand create = aNewOrderIsCreatedAtStatusN();
        shop.theStoreReports(order(5001).status("P").updatedAt(at(1)).build()).timePasses(WINDOW)
                .theStoreReports(order(5001).status("N").updatedAt(at(2)).build()).timePasses(WINDOW)
                .theConnectorLinksTheCreatedDeal(create, 812, "N").timePasses(WINDOW);

        assertThat(shop.commands()).isEmpty();
        assertThat(shop.outcomes()).singleElement().satisfies(outcome -> assertThat(outcome.getOutcome()).isEqualTo(Outcome.UNCHANGED));
    }

    @Test
    void aCreateThatBringsNoLinkReleasesTheHeldChangeAfterTheTimeoutAsBefore() {
        // e.g. the CREATE was dead-lettered (a permanent refusal writes no link) or its answer was lost for good
        aNewOrderIsCreatedAtStatusN();
        shop.theStoreReports(order(5001).status("P").updatedAt(at(1)).build()).timePasses(WINDOW);
        assertThat(shop.commands()).isEmpty();

        shop.timePasses(LINK_TIMEOUT);

        DealCommand released = shop.onlyCommand();
        // as before the wait: another CREATE, which the connector's look-up turns into an update of a deal it finds
        assertThat(released.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(released.getOrderStatusId()).isEqualTo("P");
        assertThat(released.getFields()).containsEntry(DealFields.STAGE_ID, "EXECUTING");
    }

    @Test
    void onceTheLinkIsBackTheOrdersChangesAreDecidedInTheirOwnWindowAgain() {
        DealCommand create = aNewOrderIsCreatedAtStatusN();
        shop.theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(order(5001).status("P").updatedAt(at(1)).build())
                .timePasses(WINDOW);

        assertThat(shop.onlyCommand().getKind()).isEqualTo(DealCommandKind.UPDATE);
    }

    @Test
    void withoutACoalesceWindowALaterChangeWaitsForTheLinkToo(@TempDir Path otherStateDir) {
        try (ProjectorScenario noWindow = new ProjectorScenario(otherStateDir, Duration.ZERO).theAdminPublishes(MAPPING, 1)) {
            noWindow.theStoreReports(order(5001).status("N").build());
            DealCommand create = noWindow.onlyCommand();
            noWindow.clearOutput().theStoreReports(order(5001).status("P").updatedAt(at(1)).build());
            assertThat(noWindow.commands()).isEmpty();

            noWindow.theConnectorLinksTheCreatedDeal(create, 812, "N").timePasses(OrderProjector.HELD_CHANGES_CHECK_WITHOUT_WINDOW);

            DealCommand update = noWindow.onlyCommand();
            assertThat(update.getKind()).isEqualTo(DealCommandKind.UPDATE);
            assertThat(update.getFields()).containsEntry(DealFields.STAGE_ID, "EXECUTING");
        }
    }

    /**
     * Without a window, a change that arrives after the link came back is decided at once; the change held before it,
     * not yet looked at again, is older and must not be decided after it (it would move the deal back).
     */
    @Test
    void withoutACoalesceWindowTheChangeHeldBeforeTheLinkIsNotDecidedAfterANewerOne(@TempDir Path otherStateDir) {
        try (ProjectorScenario noWindow = new ProjectorScenario(otherStateDir, Duration.ZERO).theAdminPublishes(MAPPING, 1)) {
            noWindow.theStoreReports(order(5001).status("N").updatedAt(at(0)).build());
            DealCommand create = noWindow.onlyCommand();
            noWindow.clearOutput().theStoreReports(order(5001).status("P").updatedAt(at(1)).build());  // held
            noWindow.theConnectorLinksTheCreatedDeal(create, 812, "N")
                    .theStoreReports(order(5001).status("F").updatedAt(at(2)).build())  // before the held one is looked at
                    .timePasses(OrderProjector.HELD_CHANGES_CHECK_WITHOUT_WINDOW.multipliedBy(3));

            assertThat(noWindow.commands()).as("the newest state only, F").singleElement().satisfies(update -> {
                assertThat(update.getKind()).isEqualTo(DealCommandKind.UPDATE);
                assertThat(update.getOrderStatusId()).isEqualTo("F");
            });
        }
    }

    /** Two saves in one second: the store's version tells which is newer when the older one's event comes last. */
    @Test
    void ofTwoSavesInOneSecondTheOneWithTheHigherVersionIsDecidedWhicheverCameLast() {
        DealCommand create = aNewOrderIsCreatedAtStatusN();
        shop.theConnectorLinksTheCreatedDeal(create, 812, "N")
                .theStoreReports(org.dealbridge.schemas.OrderChanged.newBuilder(order(5001).status("F").updatedAt(at(1)).build()).setVersion(3L).build())
                .theStoreReports(org.dealbridge.schemas.OrderChanged.newBuilder(order(5001).status("P").updatedAt(at(1)).build()).setVersion(2L).build())
                .timePasses(WINDOW);

        assertThat(shop.onlyCommand().getOrderStatusId()).isEqualTo("F");
    }

    private DealCommand aNewOrderIsCreatedAtStatusN() {
        shop.theStoreReports(order(5001).status("N").updatedAt(at(0)).build()).timePasses(WINDOW);
        DealCommand create = shop.onlyCommand();
        assertThat(create.getKind()).isEqualTo(DealCommandKind.CREATE);
        shop.clearOutput();
        return create;
    }

    private static String at(int secondsAfterTheOrder) {
        return Instant.parse("2026-11-29T09:00:00Z").plusSeconds(secondsAfterTheOrder).toString();
    }
}
