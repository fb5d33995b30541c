package org.dealbridge.dealprojector.crm;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.dealbridge.connector.CommandConnector;
import org.dealbridge.connector.Executed;
import org.dealbridge.dealprojector.DealProjectorConfig;
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
 * makes the repeat harmless. Per poll, commands are folded per order ({@link CommandsPerOrder}); records of one
 * partition are never reordered, and a poll's commands are all finished (written, conflict, dead letter, or waiting
 * for an unreachable CRM) before the next poll, which bounds one poll to {@code crm.max-attempts} rounds; a command
 * that waits holds its partition until the CRM is back (the runtime's {@code crm.unreachable-backoff-max}).
 */
public final class CrmConnector extends CommandConnector<DealCommand, DealWrite> {

    public static final String COMPONENT = "crm-connector";
    private static final int MAX_POLL_RECORDS = 500;

    private final DealWriter writer;
    /** The links of this connector's latest writes and reads, by order key: fresher than the projector's view. */
    private final Map<String, SyncLink> ownLinks = new ConcurrentHashMap<>();

    /** @param kafka client properties (at least {@code bootstrap.servers}) */
    public CrmConnector(DealProjectorConfig config, Topics topics, Properties kafka, DealWriter writer, MeterRegistry meters,
                        Clock clock) {
        super(COMPONENT, SyncDirection.ORDER_TO_DEAL, topics.dealCommands(), MAX_POLL_RECORDS, config, topics, kafka, meters, clock);
        this.writer = writer;
    }

    @Override
    protected List<Executed<DealCommand, DealWrite>> execute(List<ConsumerRecord<String, DealCommand>> records)
            throws InterruptedException {
        CommandsPerOrder perOrder = new CommandsPerOrder();
        Map<String, ConsumerRecord<String, DealCommand>> lastRecord = new HashMap<>();
        Map<String, ConsumerRecord<String, DealCommand>> firstRecord = new HashMap<>();
        for (ConsumerRecord<String, DealCommand> record : records) {
            String key = orderKey(record.value());
            perOrder.add(key, record.value());
            lastRecord.put(key, record);
            firstRecord.putIfAbsent(key, record);
        }
        List<DealCommand> commands = perOrder.commands().stream()
                .map(c -> FreshestLink.apply(c, ownLinks.get(orderKey(c)))).toList();
        List<Executed<DealCommand, DealWrite>> executed = new ArrayList<>();
        for (DealWrite result : writer.write(commands)) {
            String key = orderKey(result.command());
            // what the CRM now has, whether or not the Kafka transaction commits: if it aborts, the commands are
            // consumed again, and our own writes must then read as the agreed state, not as a manager's change
            if (result.link() != null) {
                ownLinks.put(key, result.link());
            }
            // a folded command that waits for the CRM is read again from its first record (see Executed.firstOffset)
            ConsumerRecord<String, DealCommand> last = lastRecord.get(key);
            ConsumerRecord<String, DealCommand> first = firstRecord.get(key);
            executed.add(new Executed<>(last, result, first.partition() == last.partition() ? first.offset() : last.offset()));
        }
        return executed;
    }

    /**
     * The deal's later change stands against the order: the store side brings the order to it, deciding again on both
     * sides as they are (the order projector may have judged the pair on a link too old to see it).
     */
    @Override
    protected List<ProducerRecord<String, byte[]>> extraRecords(DealWrite result) {
        if (!result.reconcile() || result.link() == null || result.link().getDealId() <= 0) {
            return List.of();
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
        return List.of(new ProducerRecord<>(orderCommands.name(), Keys.deal(result.link().getDealId()),
                orderCommands.valueSerde().serializer().serialize(orderCommands.name(), reconcile)));
    }

    private static String orderKey(DealCommand c) {
        return Keys.order(c.getSiteId(), c.getOrderId());
    }
}
