package org.dealbridge.dealevents;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completeness behind the hooks, which the CRM sends once and loses while DealBridge is down: lists the deals with
 * {@code >DATE_MODIFY} the cursor minus an overlap ({@code crm.deal.list}, every page), reads them with their product
 * rows ({@link DealReader}), publishes them, and only then stores the new cursor (the latest DATE_MODIFY seen) under
 * {@code crm-poll} in {@code ingest-cursors}. A crash before the cursor write reads the same deals again; the
 * projectors are idempotent over repeated states. Deals inside the overlap that this poller already published with
 * the same DATE_MODIFY are not published again (remembered in memory, so once more after a restart).
 */
public final class CrmPoller {

    public static final String CURSOR_KEY = "crm-poll";
    private static final Logger log = LoggerFactory.getLogger(CrmPoller.class);

    private final CrmApi crm;
    private final DealReader reader;
    private final DealPublisher publisher;
    private final CursorStore cursors;
    private final DealEventsConfig config;
    /** DATE_MODIFY of the deals this poller published lately, so the overlap does not publish them again and again. */
    private final Map<Long, Instant> published = new java.util.HashMap<>();

    public CrmPoller(CrmApi crm, DealReader reader, DealPublisher publisher, CursorStore cursors, DealEventsConfig config) {
        this.crm = crm;
        this.reader = reader;
        this.publisher = publisher;
        this.cursors = cursors;
        this.config = config;
    }

    /** One poll; returns how many deals were published. */
    public int pollOnce() throws InterruptedException {
        Optional<Instant> cursor = cursors.read(CURSOR_KEY).map(Instant::parse);
        Instant since = cursor.map(c -> c.minus(config.pollOverlap())).orElse(Instant.EPOCH);
        String filterValue = OffsetDateTime.ofInstant(since, ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        List<Deal> changed = new ArrayList<>(crm.listDeals(Map.of(">DATE_MODIFY", filterValue), List.of("ID", "DATE_MODIFY")));
        changed.removeIf(d -> d.dateModify() != null && d.dateModify().toInstant().equals(published.get(d.id())));
        if (changed.isEmpty()) {
            return 0;
        }
        changed.sort(Comparator.comparing(d -> d.dateModify() == null ? OffsetDateTime.MIN : d.dateModify()));
        List<Long> ids = changed.stream().map(Deal::id).toList();
        Map<Long, Optional<DealChanged>> read = reader.read(ids, ChangeSource.CRM_POLL);
        List<DealChanged> deals = read.values().stream().flatMap(Optional::stream).toList();
        publisher.publish(deals);
        Instant latest = changed.stream().map(Deal::dateModify).filter(java.util.Objects::nonNull)
                .map(OffsetDateTime::toInstant).max(Comparator.naturalOrder()).orElse(since);
        if (cursor.isEmpty() || latest.isAfter(cursor.get())) {
            cursors.write(CURSOR_KEY, latest.toString());
        }
        Instant keepFrom = latest.minus(config.pollOverlap());
        published.values().removeIf(at -> at.isBefore(keepFrom));
        for (Deal deal : changed) {
            if (deal.dateModify() != null && !deal.dateModify().toInstant().isBefore(keepFrom)) {
                published.put(deal.id(), deal.dateModify().toInstant());
            }
        }
        log.debug("CRM poll since {} published {} deal(s); cursor {}", since, deals.size(), latest);
        return deals.size();
    }
}
