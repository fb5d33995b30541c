package org.dealbridge.connector;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connector: executes the commands of one topic against one side (the CRM, the store) and publishes what came of
 * them. Both connectors are instances of this class, as Kafka Connect's sink tasks are run by one WorkerSinkTask.
 *
 * <p>What the runtime owns ({@link ConnectorLoop}, one consumer and one transactional producer per run): the
 * read_committed consumer of the commands topic; per poll, one Kafka transaction with the links ({@code deal-links}),
 * outcomes ({@code sync-outcomes}), dead letters of permanently failed commands, the connector's extra records and the
 * consumed offsets, aborted and rewound to the last commit when it fails; a dead letter for a record that cannot be
 * read, and the partition moves past it; the wait for a side that is unreachable ({@link CommandResult#unreachable()}:
 * partitions committed up to the waiting command and paused, polled through a growing jittered wait, then resumed;
 * {@code dealbridge.portal.unreachable.seconds{portal}}, {@link #unreachableSince()} for /health); the metrics {@code dealbridge.commands{topology}}, {@code dealbridge.sync.outcomes{direction,outcome}},
 * {@code dealbridge.sync.latency{direction}} and the Kafka clients' own; a restart, with {@link RestartBackoff}, of a
 * run that died ({@code dealbridge.connector.restarts{connector}}); and the shutdown.
 *
 * <p>What a connector supplies: {@link #execute} (read the other side, decide, write → results), and where it needs
 * them the compacted topics it decides against ({@link #follow}) and {@link #extraRecords}. What the
 * runtime needs to know of a command it reads from the command's schema ({@link CommandFacts}).
 *
 * <p>The other side is outside the Kafka transaction: after a crash, a restart or an aborted transaction, the commands
 * since the last commit are executed again, so {@link #execute} must make a repeat harmless (look-ups before adds,
 * expected-value checks).
 *
 * @param <C> the command type (an Avro record with the {@link CommandFacts} fields)
 * @param <R> the connector's result type
 */
public abstract class CommandConnector<C extends SpecificRecord, R extends CommandResult<C>> implements Runnable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CommandConnector.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    final String component;
    final SyncDirection direction;
    final Topics.Topic<String, C> commands;
    final int maxPollRecords;
    final ConnectorConfig config;
    final Topics topics;
    final Properties kafka;
    final MeterRegistry meters;
    final Clock clock;
    final Timer latency;
    private final RestartBackoff restartBackoff;
    /** The waits before a command whose side is unreachable runs again: {prefix}.initial-backoff doubling to .unreachable-backoff-max. */
    final RestartBackoff unreachableBackoff;
    private volatile Instant unreachableSince;
    private volatile String unreachableReason;
    private final Counter restarts;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile ConnectorLoop<C, R> loop;
    private volatile boolean started;
    private volatile State state = State.NEW;
    private volatile AssignmentListener assignmentListener = (owned, total) -> { };

    /**
     * Told on every rebalance of the connector's group how many partitions of its commands topic this instance owns
     * now, of how many: the launcher gives each instance the share of the portal's rate budget that matches.
     */
    @FunctionalInterface
    public interface AssignmentListener {
        void assigned(int owned, int total);
    }

    /** Where a connector is in its life, for /health. */
    public enum State {
        NEW, RUNNING,
        /** its run died and it waits out the restart backoff */
        RESTARTING,
        STOPPED
    }

    /** A connector that restarts with {@link RestartBackoff#DEFAULT}. */
    protected CommandConnector(String component, SyncDirection direction, Topics.Topic<String, C> commands, int maxPollRecords,
                               ConnectorConfig config, Topics topics, Properties kafka, MeterRegistry meters, Clock clock) {
        this(component, direction, commands, maxPollRecords, config, topics, kafka, meters, clock, RestartBackoff.DEFAULT);
    }

    /**
     * @param component      the connector's name in metrics, logs and dead letters, e.g. {@code crm-connector}
     * @param commands       the topic it consumes, with its serde
     * @param maxPollRecords most commands executed per poll (one transaction)
     * @param kafka          client properties (at least {@code bootstrap.servers}); group, isolation, transactions and
     *                       serializers are set by the runtime
     */
    protected CommandConnector(String component, SyncDirection direction, Topics.Topic<String, C> commands, int maxPollRecords,
                               ConnectorConfig config, Topics topics, Properties kafka, MeterRegistry meters, Clock clock,
                               RestartBackoff restartBackoff) {
        this.component = component;
        this.direction = direction;
        this.commands = commands;
        this.maxPollRecords = maxPollRecords;
        this.config = config;
        this.topics = topics;
        this.kafka = kafka;
        this.meters = meters;
        this.clock = clock;
        this.restartBackoff = restartBackoff;
        this.latency = Timer.builder("dealbridge.sync.latency")
                .description(direction == SyncDirection.ORDER_TO_DEAL
                        ? "From the order change in the store to the deal write in the CRM"
                        : "From the deal change in the CRM to the order write in the store")
                .tag("direction", direction.name())
                .publishPercentileHistogram()
                .register(meters);
        this.unreachableBackoff = new RestartBackoff(config.initialBackoff(), config.unreachableBackoffMax());
        Gauge.builder("dealbridge.portal.unreachable.seconds", this, CommandConnector::unreachableSeconds)
                .description("How long the side a connector writes has been unreachable: its commands wait (none is "
                        + "dead-lettered) and are retried with backoff; 0 while it is reachable")
                .tag("portal", config.prefix())
                .strongReference(true)
                .register(meters);
        this.restarts = Counter.builder("dealbridge.connector.restarts")
                .description("Runs of a connector restarted after they died (a new consumer and producer, from the last commit)")
                .tag("connector", component)
                .register(meters);
    }

    /**
     * Executes one poll's commands (tombstones left out), in order: reads the other side, decides and writes. Every
     * command ends in a result: a permanently failed one as DEAD_LETTERED, one whose side stayed unreachable through the
     * connector's rounds as {@link CommandResult#unreachable()} (the runtime waits and runs it again; the commands after
     * it need not be tried, they may end as unreachable at once); an exception ends the run and the connector restarts
     * from the last commit. A command record without a result counts as done: never leave one out.
     */
    protected abstract List<Executed<C, R>> execute(List<ConsumerRecord<String, C>> commands) throws InterruptedException;

    /**
     * Executes the commands as {@link #execute(List)} does, knowing the commands read ahead after them ({@code next}:
     * polled, not yet executed; empty unless {@link #looksAhead()}). A connector may read the other side for those in
     * its last call for these ({@code DealWriter}'s read-ahead), so the next execution needs no read call of its own;
     * it must not decide or write anything for them here, since they may yet be dropped (a rebalance, a partition read
     * again) and are then handed to it again as other objects.
     */
    protected List<Executed<C, R>> execute(List<ConsumerRecord<String, C>> commands, List<ConsumerRecord<String, C>> next)
            throws InterruptedException {
        return execute(commands);
    }

    /**
     * True when the runtime should poll the next commands before executing the current ones and hand them to
     * {@link #execute(List, List)}; false by default. The poll costs nothing when nothing is pending (it returns at once
     * when the side's budget lets the call go now), but it is only worth it to a connector that uses {@code next}.
     */
    protected boolean looksAhead() {
        return false;
    }

    /**
     * How long the side would make this connector's next call wait for its rate budget; zero when the call could go
     * at once (the default: a side the connector does not ration). While it is positive the runtime spends the wait
     * polling, and what arrives joins the commands about to be executed (up to {@link #mostCommandsGathered()}), so
     * the call carries everything pending instead of leaving it to a later call. Called on the connector's thread
     * between polls: it must be quick and reserve nothing.
     */
    protected Duration untilNextCall() {
        return Duration.ZERO;
    }

    /**
     * The most commands one {@link #execute} is handed: beyond one poll the runtime gathers what the consumer already
     * holds and what arrives while the side's budget holds the call ({@link #untilNextCall()}); by default one poll's
     * worth (no gathering). They are committed together, in one transaction per partition, so a larger bound makes a
     * longer execution between two polls of the consumer.
     */
    protected int mostCommandsGathered() {
        return maxPollRecords;
    }

    /** Records to publish in the poll's transaction besides the link, the outcome and a dead letter. */
    protected List<ProducerRecord<String, byte[]>> extraRecords(R result) {
        return List.of();
    }

    protected final Topics topics() {
        return topics;
    }

    /**
     * Publishes records at once, in a Kafka transaction of their own on the producer of the commands' partition
     * {@code partition}, and returns once it is committed: for what must be durable before a call to the other side (the
     * CRM connector's pipeline move intents), which the poll's transaction, committed after the calls, cannot carry. No
     * offsets go with it, so the exactly-once of a poll's results and offsets is untouched: these records are facts
     * about a command about to run, and a command consumed again reads them. Being a transaction of the partition's
     * producer, it also fences: an instance that lost the partition is refused here, before its call. Call only from
     * {@link #execute}, for a partition of the commands it was handed. Throws when the records could not be committed
     * (the run then restarts from the last commit, and the call is not made).
     */
    protected final void publishBeforeCall(TopicPartition partition, List<ProducerRecord<String, byte[]>> records) {
        ConnectorLoop<C, R> current = loop;
        if (current == null) {
            throw new IllegalStateException(component + " is not running: nothing can be published before a call");
        }
        current.publishBeforeCall(partition, records);
    }

    /** The client properties the connector was given, for clients of its own (views of other topics). */
    protected final Properties kafka() {
        return kafka;
    }

    /** When a followed topic is read up to its end. */
    protected enum CatchUp {
        /** when a run starts: what the connector keeps fresh itself afterwards (its own links) */
        AT_START,
        /** when a run starts and before every poll's {@link #execute}: what other parts of DealBridge write */
        BEFORE_EACH_POLL
    }

    private record Followed<V>(Topics.Topic<String, V> topic, BiConsumer<String, V> apply, CatchUp when) {
        CompactedTopicView<V> open(Properties kafka) {
            return new CompactedTopicView<>(kafka, topic.name(), topic.valueSerde().deserializer(), apply);
        }
    }

    private final List<Followed<?>> followed = new ArrayList<>();

    /**
     * Declares a compacted topic this connector decides against besides its commands (links, the mapping): each run
     * opens a view of it with the connector's client settings, reads it to its end before the first poll (and before
     * every poll for {@link CatchUp#BEFORE_EACH_POLL}), handing each record to {@code apply}, and closes it when the
     * run ends. Call from the constructor.
     */
    protected final <V> void follow(Topics.Topic<String, V> topic, BiConsumer<String, V> apply, CatchUp when) {
        followed.add(new Followed<>(topic, apply, when));
    }

    /** The views of one run, in the order followed; the caller closes them. */
    final List<Map.Entry<CatchUp, CompactedTopicView<?>>> openViews() {
        List<Map.Entry<CatchUp, CompactedTopicView<?>>> views = new ArrayList<>();
        for (Followed<?> f : followed) {
            views.add(Map.entry(f.when(), f.open(kafka)));
        }
        return views;
    }

    /** Set before {@link #start()}; called on the connector's thread, so it must be quick. */
    public final void onAssignment(AssignmentListener listener) {
        this.assignmentListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    void assignmentChanged(int owned, int total) {
        assignmentListener.assigned(owned, total);
    }

    /** Runs the connector on a thread of its own, named after it. */
    public final void start() {
        new Thread(this, component).start();
    }

    /** The connector's name in metrics, logs, dead letters and /health, e.g. {@code crm-connector}. */
    public String component() {
        return component;
    }

    public State state() {
        return state;
    }

    /** Runs until {@link #close()}; a run that dies is restarted after a backoff. */
    @Override
    public final void run() {
        started = true;
        int failuresInARow = 0;
        try {
            while (running.get()) {
                ConnectorLoop<C, R> current = new ConnectorLoop<>(this);
                loop = current;
                state = State.RUNNING;
                try {
                    current.run();
                    return;
                } catch (RuntimeException e) {
                    if (!running.get()) {
                        log.info("{} failed while stopping: {}", component, e.toString());
                        return;
                    }
                    failuresInARow = current.committedAPoll() ? 1 : failuresInARow + 1;
                    Duration delay = restartBackoff.delay(failuresInARow);
                    restarts.increment();
                    state = State.RESTARTING;
                    log.error("{} failed ({} in a row) and restarts in {} ms from its last commit: {}", component, failuresInARow,
                            delay.toMillis(), e.toString(), e);
                    if (stopRequested.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            state = State.STOPPED;
            stopped.countDown();
            log.info("{} stopped", component);
        }
    }

    /** Since when the side this connector writes has been unreachable (its commands wait), or empty while it is reachable. */
    public Optional<Instant> unreachableSince() {
        return Optional.ofNullable(unreachableSince);
    }

    /** Why the side was last found unreachable (the waiting command's reason), or null. */
    public String unreachableReason() {
        return unreachableReason;
    }

    void unreachable(String reason) {
        if (unreachableSince == null) {
            unreachableSince = clock.instant();
        }
        unreachableReason = reason;
    }

    void reachable() {
        unreachableSince = null;
        unreachableReason = null;
    }

    private double unreachableSeconds() {
        Instant since = unreachableSince;
        return since == null ? 0 : Math.max(0, Duration.between(since, clock.instant()).toMillis() / 1000.0);
    }

    boolean isRunning() {
        return running.get();
    }

    /** Stops after the poll in progress is finished (its writes published and committed), or ends a restart's wait. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        stopRequested.countDown();
        ConnectorLoop<C, R> current = loop;
        if (current != null) {
            current.wakeup();
        }
        if (started && !stopped.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            log.warn("{} did not stop within {} s", component, STOP_TIMEOUT.toSeconds());
        }
    }
}
