package org.dealbridge.dealprojector.crm;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.connector.CommandConnector;
import org.dealbridge.connector.Executed;
import org.dealbridge.dealprojector.DealProjectorConfig;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.OrderCommandKind;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;

/**
 * The CRM connector: executes {@code deal-commands} with {@link DealWriter}; the runtime ({@link CommandConnector})
 * publishes the links, outcomes, dead letters and offsets in one Kafka transaction, and restarts it when it dies.
 *
 * <p>The CRM is outside the transaction: if the process dies after a CRM write and before the commit, the command
 * is consumed again and the writer's look-up by ORIGINATOR_ID+ORIGIN_ID (and the expected-value check of updates)
 * makes the repeat harmless. A pipeline move is the one write whose repeat the deal alone cannot judge (a manager's
 * move back reads as no move), so its intent is committed on {@code deal-links} before the call
 * ({@link #publishBeforeCall}, {@link DealWriter.MoveIntents}) and the repeat is judged with it.
 *
 * <p>Per poll, commands are grouped per order in waves ({@link CommandsPerOrder}); records of one partition are never
 * reordered, and a poll's commands are all finished (written, conflict, dead letter, or
 * waiting for an unreachable CRM) before the next poll, which bounds one poll to {@code crm.max-attempts} rounds per
 * wave; a command that waits holds its partition until the CRM is back (the runtime's
 * {@code crm.unreachable-backoff-max}), and its order's later commands wait with it.
 */
public final class CrmConnector extends CommandConnector<DealCommand, DealWrite> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CrmConnector.class);

    public static final String COMPONENT = "crm-connector";
    private static final int MAX_POLL_RECORDS = 500;
    /**
     * The most commands one round is gathered up to while the portal's budget holds the next call: with 1500 UPDATEs
     * the round's shared read call is 30 look-ups and the writes 30 full calls, 99 % of what 31 calls carry (one poll
     * of 500: 11 calls, 93 %); and a round of 1500 new buyers (~3.1 sub-commands each, 94 calls) still ends within 190 s
     * at a quarter of the budget, inside the consumer's max.poll.interval.ms (300 s).
     */
    private static final int MOST_COMMANDS_PER_ROUND = 3 * MAX_POLL_RECORDS;

    private final DealWriter writer;
    /**
     * The links of this connector's latest writes and reads, by order key: fresher than the projector's view. Filled
     * from {@code deal-links} when a run starts, so a restarted process still knows the links it committed before.
     */
    private final Map<String, SyncLink> ownLinks = new ConcurrentHashMap<>();
    /**
     * The commands whose reads the last execution sent ahead, by order key, each with what it was made from: the next
     * execution hands the writer these same objects when its commands come out the same, so it uses those reads.
     */
    private Map<String, ReadAheadCommand> readAhead = Map.of();

    /** A command read ahead: the folded command, the link it was judged on then, and the command as handed to the writer. */
    private record ReadAheadCommand(DealCommand folded, SyncLink ownLink, DealCommand command) {
    }

    /** @param kafka client properties (at least {@code bootstrap.servers}) */
    public CrmConnector(DealProjectorConfig config, Topics topics, Properties kafka, DealWriter writer, MeterRegistry meters,
                        Clock clock) {
        super(COMPONENT, SyncDirection.ORDER_TO_DEAL, topics.dealCommands(), MAX_POLL_RECORDS, config, topics, kafka, meters, clock);
        this.writer = writer;
        // A process that died forgot the links it had written; a command the projector decided on an older link before
        // the newer one came back would then be judged against that older link, and DealBridge's own committed writes
        // (a pipeline move, its stage, an amount) would read as a person's. So each run reads deal-links first; after
        // that the links of this connector's own writes are fresher than the topic.
        follow(topics.dealLinks(), this::committedLink, CatchUp.AT_START);
        // the buyers' contacts met so far, by any instance: a returning buyer costs no search and no add
        follow(topics.buyerContacts(), this::committedContact, CatchUp.AT_START);
    }

    /**
     * A buyer's contact from {@code buyer-contacts}: the buyers met before this run (by any instance) cost no search. A
     * record that is not a contact id is skipped: that buyer is searched again.
     */
    private void committedContact(String buyerKey, String contactId) {
        if (contactId == null) {
            writer.buyerContacts().remember(buyerKey, null);
            return;
        }
        try {
            writer.buyerContacts().remember(buyerKey, Long.parseLong(contactId.trim()));
        } catch (NumberFormatException e) {
            log.error("Skipping the record of buyer-contacts for {}: '{}' is not a contact id; that buyer is searched again",
                    buyerKey, contactId);
        }
    }

    /** A link kept in memory (written in a transaction that did not commit) stays when it is newer than the topic's. */
    private void committedLink(String orderKey, SyncLink link) {
        if (link == null) {
            ownLinks.remove(orderKey);
            return;
        }
        ownLinks.merge(orderKey, link, (own, committed) -> LinkRevision.isNewer(committed, own) ? committed : own);
    }

    /** The portal's budget holds the next call: the runtime gathers the commands arriving meanwhile into it. */
    @Override
    protected Duration untilNextCall() {
        return writer.untilNextCall();
    }

    @Override
    protected int mostCommandsGathered() {
        return MOST_COMMANDS_PER_ROUND;
    }

    /** The runtime polls the next commands first, so their reads travel in the last write call of these. */
    @Override
    protected boolean looksAhead() {
        return true;
    }

    @Override
    protected List<Executed<DealCommand, DealWrite>> execute(List<ConsumerRecord<String, DealCommand>> records)
            throws InterruptedException {
        return execute(records, List.of());
    }

    @Override
    protected List<Executed<DealCommand, DealWrite>> execute(List<ConsumerRecord<String, DealCommand>> records,
                                                             List<ConsumerRecord<String, DealCommand>> next)
            throws InterruptedException {
        Map<String, ReadAheadCommand> readBefore = readAhead;
        readAhead = Map.of();
        CommandsPerOrder perOrder = perOrder(records);
        List<List<CommandsPerOrder.Pending>> waves = perOrder.waves();
        // the next commands' first wave, for orders none of these touches: the links these leave change how an order
        // of both is decided, so that one is read in its own call
        Set<String> here = new HashSet<>();
        records.forEach(record -> here.add(orderKey(record.value())));
        Map<String, ReadAheadCommand> nextFirst = new LinkedHashMap<>();
        List<List<CommandsPerOrder.Pending>> nextWaves = next.isEmpty() ? List.of() : perOrder(next).waves();
        if (!nextWaves.isEmpty()) {
            for (CommandsPerOrder.Pending p : nextWaves.get(0)) {
                String key = orderKey(p.command());
                if (!here.contains(key)) {
                    SyncLink own = ownLinks.get(key);
                    nextFirst.put(key, new ReadAheadCommand(p.command(), own, FreshestLink.apply(p.command(), own)));
                }
            }
        }
        List<Executed<DealCommand, DealWrite>> executed = new ArrayList<>();
        Set<String> waiting = new HashSet<>();
        for (int w = 0; w < waves.size(); w++) {
            List<CommandsPerOrder.Pending> wave = waves.get(w);
            // an order whose command waits for the CRM keeps its later commands back: they are read again after it
            List<CommandsPerOrder.Pending> running = wave.stream().filter(p -> !waiting.contains(orderKey(p.command()))).toList();
            if (running.isEmpty()) {
                continue;
            }
            // each wave is judged against the links the waves before it left; a command read ahead is the same object
            Map<String, ReadAheadCommand> readFor = w == 0 ? readBefore : Map.of();
            List<DealCommand> commands = running.stream().map(p -> command(p, readFor)).toList();
            Map<DealCommand, TopicPartition> partitionOf = new IdentityHashMap<>();
            for (int i = 0; i < commands.size(); i++) {
                ConsumerRecord<String, DealCommand> source = records.get(running.get(i).last());
                partitionOf.put(commands.get(i), new TopicPartition(source.topic(), source.partition()));
            }
            List<DealCommand> readNext = w == waves.size() - 1
                    ? nextFirst.values().stream().map(ReadAheadCommand::command).toList() : List.of();
            List<DealWrite> results = writer.write(commands, intents -> recordBeforeTheMoves(intents, partitionOf), readNext);
            if (!readNext.isEmpty()) {
                readAhead = nextFirst;
            }
            for (int i = 0; i < results.size(); i++) {
                DealWrite result = results.get(i);
                String key = orderKey(result.command());
                // what the CRM now has, whether or not the Kafka transaction commits: if it aborts, the commands are
                // consumed again, and our own writes must then read as the agreed state, not as a manager's change
                if (result.link() != null) {
                    ownLinks.put(key, result.link());
                }
                if (result.unreachable()) {
                    waiting.add(key);
                }
                // a folded command that waits for the CRM is read again from its first record (see Executed.firstOffset)
                ConsumerRecord<String, DealCommand> last = records.get(running.get(i).last());
                ConsumerRecord<String, DealCommand> first = records.get(running.get(i).first());
                executed.add(new Executed<>(last, result, first.partition() == last.partition() ? first.offset() : last.offset()));
            }
        }
        return executed;
    }

    private CommandsPerOrder perOrder(List<ConsumerRecord<String, DealCommand>> records) {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        for (ConsumerRecord<String, DealCommand> record : records) {
            String key = orderKey(record.value());
            perOrder.add(key, record.value(), ownLinks.get(key));
        }
        return perOrder;
    }

    /**
     * The command to hand the writer: the one whose reads were sent ahead when it comes out the same (same folded
     * command, judged on the same link), else the folded command judged on the freshest link.
     */
    private DealCommand command(CommandsPerOrder.Pending pending, Map<String, ReadAheadCommand> readBefore) {
        String key = orderKey(pending.command());
        SyncLink own = ownLinks.get(key);
        ReadAheadCommand ahead = readBefore.get(key);
        if (ahead != null && ahead.ownLink() == own && ahead.folded().equals(pending.command())) {
            return ahead.command();
        }
        return FreshestLink.apply(pending.command(), own);
    }

    /**
     * Commits the move intents on {@code deal-links} before the CRM calls that make the moves ({@link DealWriter.MoveIntents}),
     * each in the partition of its command's transactional producer (one transaction per partition): the poll's own
     * transaction, with the links after the writes and the offsets, commits only after the calls. They are kept as this
     * connector's own links too, so a command run again without a restart (its CRM unreachable, its move dead-lettered)
     * is judged on them as well, and the link after the move counts on from them.
     */
    private void recordBeforeTheMoves(Map<DealCommand, SyncLink> intents, Map<DealCommand, TopicPartition> partitionOf) {
        Topics.Topic<String, SyncLink> links = topics().dealLinks();
        Map<TopicPartition, List<ProducerRecord<String, byte[]>>> byPartition = new LinkedHashMap<>();
        intents.forEach((command, intent) -> byPartition.computeIfAbsent(partitionOf.get(command), p -> new ArrayList<>())
                .add(new ProducerRecord<>(links.name(), orderKey(command),
                        links.valueSerde().serializer().serialize(links.name(), intent))));
        byPartition.forEach(this::publishBeforeCall);
        intents.forEach((command, intent) -> ownLinks.put(orderKey(command), intent));
    }

    /**
     * The deal's later change stands against the order: the store side brings the order to it, deciding again on both
     * sides as they are (the order projector may have judged the pair on a link too old to see it).
     */
    @Override
    protected List<ProducerRecord<String, byte[]>> extraRecords(DealWrite result) {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(contactsLearned(result));
        reconcile(result).ifPresent(records::add);
        return records;
    }

    /** The buyer's contact this command learned, for {@code buyer-contacts} (in the same transaction as its link). */
    private List<ProducerRecord<String, byte[]>> contactsLearned(DealWrite result) {
        Topics.Topic<String, String> contacts = topics().buyerContacts();
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        result.contacts().forEach((buyerKey, contactId) -> records.add(new ProducerRecord<>(contacts.name(), buyerKey,
                contacts.valueSerde().serializer().serialize(contacts.name(), Long.toString(contactId)))));
        return records;
    }

    private java.util.Optional<ProducerRecord<String, byte[]>> reconcile(DealWrite result) {
        if (!result.reconcile() || result.link() == null || result.link().getDealId() <= 0) {
            return java.util.Optional.empty();
        }
        DealCommand c = result.command();
        OrderCommand reconcile = OrderCommand.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setKind(OrderCommandKind.RECONCILE)
                .setSiteId(c.getSiteId())
                .setDealId(result.link().getDealId())
                .setOrderId(c.getOrderId())
                .setStatusId(c.getOrderStatusId() == null ? "" : c.getOrderStatusId())
                .setExpectedStatusId(c.getOrderStatusId())
                .setMappingVersion(c.getMappingVersion())
                .setSourceTime(c.getSourceTime())
                .build();
        Topics.Topic<String, OrderCommand> orderCommands = topics().orderCommands();
        return java.util.Optional.of(new ProducerRecord<>(orderCommands.name(), Keys.deal(result.link().getDealId()),
                orderCommands.valueSerde().serializer().serialize(orderCommands.name(), reconcile)));
    }

    private static String orderKey(DealCommand c) {
        return Keys.order(c.getSiteId(), c.getOrderId());
    }
}
