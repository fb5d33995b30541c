package org.dealbridge.orderprojector.store;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.dealbridge.connector.CommandConnector;
import org.dealbridge.connector.Executed;
import org.dealbridge.mapping.CompiledMapping;
import org.dealbridge.mapping.LinkRevision;
import org.dealbridge.mapping.MappingInvalidException;
import org.dealbridge.mapping.MappingProfiles;
import org.dealbridge.orderprojector.OrderProjectorConfig;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.OrderCommand;
import org.dealbridge.schemas.Outcome;
import org.dealbridge.schemas.SyncDirection;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store connector: executes {@code order-commands} with {@link OrderWriter}; the runtime ({@link CommandConnector})
 * publishes the links ({@code deal-links}, origin kept, DEAL for orders it made), outcomes, dead letters and offsets
 * in one Kafka transaction, and restarts it when it dies.
 *
 * <p>Before each poll's commands it reads {@code deal-links} and {@code mapping-config} up to their ends, so every
 * decision uses the pair's latest agreed state (written by either connector) and the mapping in force. The store is
 * outside the transaction: after a crash between a store write and the commit, the command comes again and the
 * read-back (status) or the xmlId look-up (create) makes the repeat write nothing.
 */
public final class StoreConnector extends CommandConnector<OrderCommand, OrderWrite> {

    public static final String COMPONENT = "store-connector";
    private static final Logger log = LoggerFactory.getLogger(StoreConnector.class);
    private static final int MAX_POLL_RECORDS = 100;

    private final OrderWriter writer;
    private final Map<Long, SyncLink> linksByDeal = new ConcurrentHashMap<>();
    private final Map<String, Long> dealByOrder = new ConcurrentHashMap<>();
    private final Map<String, CompiledMapping> mappings = new ConcurrentHashMap<>();

    /** @param kafka client properties shared by the consumers and the producer (at least {@code bootstrap.servers}) */
    public StoreConnector(OrderProjectorConfig config, Topics topics, Properties kafka, OrderWriter writer, MeterRegistry meters,
                          Clock clock) {
        super(COMPONENT, SyncDirection.DEAL_TO_ORDER, topics.orderCommands(), MAX_POLL_RECORDS, config, topics, kafka, meters, clock);
        this.writer = writer;
        // both written elsewhere in DealBridge (the CRM connector, the admin): read anew before each poll's decisions
        follow(topics.dealLinks(), this::applyLink, CatchUp.BEFORE_EACH_POLL);
        follow(topics.mappingConfig(), this::applyMapping, CatchUp.BEFORE_EACH_POLL);
    }

    @Override
    protected List<Executed<OrderCommand, OrderWrite>> execute(List<ConsumerRecord<String, OrderCommand>> records)
            throws InterruptedException {
        List<Executed<OrderCommand, OrderWrite>> executed = new ArrayList<>();
        OrderWrite unreachable = null;
        for (ConsumerRecord<String, OrderCommand> record : records) {
            OrderCommand command = record.value();
            if (unreachable != null) {
                // the side is away: the rest of the poll waits with it (each partition is read again from its first
                // waiting command) rather than each command running through its attempts against it
                executed.add(new Executed<>(record, new OrderWrite(command, Outcome.OTHER, "Order command " + command.getCommandId()
                        + " for deal " + command.getDealId() + " waits, not tried: " + unreachable.reason(), null, false,
                        unreachable.errorCode(), 0, true)));
                continue;
            }
            OrderWrite result = writer.write(command, mappings.get(command.getSiteId()), linksByDeal.get(command.getDealId()));
            if (result.link() != null) {
                // the next command of this poll for the same deal must see the state just agreed
                applyLink(Keys.order(result.link().getSiteId(), result.link().getOrderId()), result.link());
            }
            executed.add(new Executed<>(record, result));
            if (result.unreachable()) {
                unreachable = result;
            }
        }
        return executed;
    }

    private void applyLink(String orderKey, SyncLink link) {
        if (link == null) {
            Long deal = dealByOrder.remove(orderKey);
            if (deal != null) {
                linksByDeal.remove(deal);
            }
            return;
        }
        Long held = dealByOrder.get(orderKey);
        if (held != null && !LinkRevision.supersedes(link, linksByDeal.get(held))) {
            return;  // an older write arriving late: the view is in order of revision, as the projectors' (LinkFeeder)
        }
        Long previous = dealByOrder.put(orderKey, link.getDealId());
        if (previous != null && previous != link.getDealId()) {
            linksByDeal.remove(previous);  // the order was linked to another deal: one deal per order
        }
        linksByDeal.put(link.getDealId(), link);
    }

    /** Keeps the last valid, newer version per site, as the topology's mapping table does. */
    private void applyMapping(String site, MappingProfile profile) {
        if (profile == null) {
            mappings.remove(site);
            return;
        }
        try {
            CompiledMapping compiled = MappingProfiles.compile(site, profile);
            CompiledMapping current = mappings.get(site);
            if (current == null || compiled.version() > current.version()) {
                mappings.put(site, compiled);
            }
        } catch (MappingInvalidException e) {
            log.warn("Store connector ignores invalid mapping version {} of site {}: {}", profile.getVersion(), site, e.getMessage());
        }
    }
}
