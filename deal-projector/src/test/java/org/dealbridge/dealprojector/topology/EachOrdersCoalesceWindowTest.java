package org.dealbridge.dealprojector.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.MAPPING;
import static org.dealbridge.dealprojector.topology.ProjectorScenario.order;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coalesce window is each order's own (issue 14, "≤ 1.1 writes per new order with 10 changes inside its first
 * window"): an order is decided one window after its first change still pending, whatever other orders do. A window
 * shared by all orders (one wall-clock tick every window) cut a burst that straddled a tick in two: a CREATE with a
 * middle state, then an update.
 */
class EachOrdersCoalesceWindowTest {

    static final Duration WINDOW = Duration.ofMillis(500);
    /** How late after its window an order may be decided: one punctuation tick (see OrderProjector). */
    static final Duration TICK = Duration.ofMillis(100);
    static final Duration STEP = Duration.ofMillis(10);
    static final Duration CHANGE_EVERY = Duration.ofMillis(50);

    @TempDir
    Path stateDir;

    @AutoClose
    private ProjectorScenario shop;
    /** Wall-clock time since the projector started. */
    private Duration elapsed = Duration.ZERO;

    @BeforeEach
    void openShop() {
        shop = new ProjectorScenario(stateDir, WINDOW).theAdminPublishes(MAPPING, 1);
    }

    @Test
    void tenChangesThatStartJustBeforeAnotherOrdersWindowEndsBecomeOneCreateWithTheLastState() {
        // a window shared by all orders ended 500 ms after the start: these changes span 400–580 ms
        pass(Duration.ofMillis(400));
        for (int change = 0; change < 10; change++) {
            shop.theStoreReports(order(5001).status(change % 2 == 0 ? "N" : "P").updatedAt(at(change)).build());
            pass(Duration.ofMillis(20));
        }
        pass(Duration.ofMillis(890).minus(elapsed));
        assertThat(shop.commands()).as("nothing before one window after the order's first change").isEmpty();

        pass(Duration.ofMillis(10));
        DealCommand create = shop.onlyCommand();
        assertThat(create.getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(create.getOrderStatusId()).as("the CREATE carries the last of the ten changes").isEqualTo("P");
        assertThat(create.getFields()).containsEntry(DealFields.STAGE_ID, "EXECUTING");

        shop.clearOutput().theConnectorLinksTheCreatedDeal(create, 812, "P");
        pass(WINDOW.multipliedBy(2));

        assertThat(shop.commands()).as("nothing is left for an update: one write for the new order").isEmpty();
    }

    @Test
    void tenChangesMadeInsideOneWindowAreOneCreateEvenWhenTheProjectorTakesThemInOverSeconds() {
        // bench coalescing at 500 ms: the store published order 5001's ten changes within 270 ms, among 50 other orders'
        // changes, but the projector took the 60 in over 3 s (a cold start, a backlog). A window by the projector's
        // clock alone decided 5001 half a second after it took the first in, with the first status, and the rest
        // became an update: two writes for a new order whose changes were all inside its first window
        Instant published = shop.wallClock();
        int other = 0;
        for (int record = 0; record < 60; record++) {
            Instant stamp = published.plusMillis(5L * record);
            if (record % 6 == 0) {
                int change = record / 6;
                shop.theStoreReportedAt(order(5001).status(change % 2 == 0 ? "N" : "P").updatedAt(at(change)).build(), stamp);
            } else {
                shop.theStoreReportedAt(order(6001 + other++).build(), stamp);
            }
            pass(CHANGE_EVERY);
        }
        assertThat(shop.commands()).as("nothing while the changes taken in are inside the first one's window").isEmpty();

        pass(WINDOW.plus(TICK));

        List<DealCommand> forTheOrder = shop.commands().stream().filter(command -> command.getOrderId() == 5001).toList();
        assertThat(forTheOrder).hasSize(1);
        assertThat(forTheOrder.get(0).getKind()).isEqualTo(DealCommandKind.CREATE);
        assertThat(forTheOrder.get(0).getOrderStatusId()).as("the CREATE carries the last of the ten changes").isEqualTo("P");
        assertThat(shop.commands()).as("every order decided once its partition is quiet").hasSize(51);
    }

    @Test
    void anOrderWhoseChangesSpanMoreThanAWindowByTheirOwnTimeIsDecidedAtItsWindowsEnd() {
        // the other side of the rule: changes published further apart than the window are not held back for a slow intake
        Instant published = shop.wallClock();
        shop.theStoreReportedAt(order(5001).status("N").updatedAt(at(0)).build(), published);
        pass(CHANGE_EVERY);
        shop.theStoreReportedAt(order(6001).build(), published.plus(WINDOW).plusMillis(1));
        pass(TICK);

        assertThat(shop.commands()).extracting(DealCommand::getOrderId).as("stream time passed 5001's window").containsExactly(5001L);
    }

    @Test
    void twoOrdersAreEachDecidedOneWindowAfterTheirOwnFirstChange() {
        pass(Duration.ofMillis(100));
        shop.theStoreReports(order(5001).build());
        Duration firstOrdersChange = elapsed;
        pass(Duration.ofMillis(300));
        shop.theStoreReports(order(5002).build());
        Duration secondOrdersChange = elapsed;

        Duration first = timeUntilDecided(5001);
        Duration second = timeUntilDecided(5002);

        assertThat(first).isBetween(firstOrdersChange.plus(WINDOW), firstOrdersChange.plus(WINDOW).plus(TICK));
        assertThat(second).isBetween(secondOrdersChange.plus(WINDOW), secondOrdersChange.plus(WINDOW).plus(TICK));
    }

    @Test
    void anOrderThatNeverStopsChangingIsStillDecidedOnceAWindow() {
        shop.theStoreReports(order(5001).build());
        pass(WINDOW);
        shop.theConnectorLinksTheCreatedDeal(shop.onlyCommand(), 812, "N").clearOutput();

        // a new price every 50 ms for 3 s: a window that waited for the order to be quiet would never close; one that
        // counts from the first change still pending closes at most a change's interval, a window and a tick after
        // the previous decision
        List<Duration> decided = new ArrayList<>();
        Duration start = elapsed;
        for (int change = 1; change <= 60; change++) {
            shop.theStoreReports(order(5001).price(Integer.toString(1500 + change)).updatedAt(at(change)).build());
            for (int step = 0; step < CHANGE_EVERY.dividedBy(STEP); step++) {
                pass(STEP);
                int before = shop.commands().size();
                if (before > decided.size()) {
                    decided.add(elapsed);
                }
            }
        }

        assertThat(shop.commands()).extracting(DealCommand::getKind).containsOnly(DealCommandKind.UPDATE);
        assertThat(decided).as("decided once a window (%s) after the first change still pending", WINDOW).hasSizeGreaterThanOrEqualTo(
                (int) (Duration.ofSeconds(3).toMillis() / CHANGE_EVERY.plus(WINDOW).plus(TICK).toMillis()));
        Duration previous = start;
        for (Duration at : decided) {
            assertThat(at.minus(previous)).isLessThanOrEqualTo(CHANGE_EVERY.plus(WINDOW).plus(TICK));
            previous = at;
        }
    }

    private Duration timeUntilDecided(long orderId) {
        for (Duration waited = Duration.ZERO; waited.compareTo(WINDOW.multipliedBy(4)) < 0; waited = waited.plus(STEP)) {
            if (shop.commands().stream().anyMatch(command -> command.getOrderId() == orderId)) {
                return elapsed;
            }
            pass(STEP);
        }
        throw new AssertionError("order " + orderId + " was not decided within " + WINDOW.multipliedBy(4));
    }

    /** Wall-clock time passes in small steps, so every punctuation due falls at its own time. */
    private void pass(Duration duration) {
        for (Duration left = duration; !left.isNegative() && !left.isZero(); left = left.minus(STEP)) {
            Duration step = left.compareTo(STEP) < 0 ? left : STEP;
            shop.timePasses(step);
            elapsed = elapsed.plus(step);
        }
    }

    private static String at(int secondsAfterTheOrder) {
        return Instant.parse("2026-11-29T09:00:00Z").plusSeconds(secondsAfterTheOrder).toString();
    }
}
