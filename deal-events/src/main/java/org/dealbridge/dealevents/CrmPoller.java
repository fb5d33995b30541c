package org.dealbridge.dealevents;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.ingestion.Change;
import org.dealbridge.ingestion.ChangePoller;
import org.dealbridge.ingestion.CursorStore;
import org.dealbridge.ingestion.FirstCursor;
import org.dealbridge.ingestion.PublishedVersions;
import org.dealbridge.schemas.ChangeSource;

/**
 * The CRM's side of the {@link ChangePoller}, the completeness behind the hooks (which the CRM sends once and loses
 * while DealBridge is down): {@code crm.deal.list} with {@code >DATE_MODIFY} the cursor minus {@code crm.poll.overlap}
 * (keyset paging by ID in {@link CrmApi#listDeals}), oldest first; the deals read with their product rows
 * ({@link DealReader}) and published; the cursor under {@code crm-poll} in {@code ingest-cursors}.
 */
public final class CrmPoller {

    public static final String CURSOR_KEY = "crm-poll";

    private CrmPoller() {
    }

    public static ChangePoller create(CrmApi crm, DealReader reader, DealPublisher publisher, CursorStore cursors,
                                      DealEventsConfig config, OffsetDateTime firstCursor) {
        return create(crm, reader, publisher, cursors, config, FirstCursor.at(firstCursor), new PublishedVersions());
    }

    /**
     * @param firstCursor where to start when no cursor was ever stored, by the CRM's clock (the CRM's history is not replayed)
     * @param published   what the CRM side put in Kafka lately (shared with the hook's queue): not read again
     */
    public static ChangePoller create(CrmApi crm, DealReader reader, DealPublisher publisher, CursorStore cursors,
                                      DealEventsConfig config, FirstCursor firstCursor, PublishedVersions published) {
        return new ChangePoller(from -> changedSince(crm, from), CrmIngestion.refresher(reader, publisher, ChangeSource.CRM_POLL, published),
                cursors, new ChangePoller.Settings("crm-poller", CURSOR_KEY, config.pollInterval(), config.pollOverlap(), firstCursor,
                        DealReader.DEALS_PER_BATCH), published);
    }

    private static List<Change> changedSince(CrmApi crm, OffsetDateTime from) {
        List<Deal> deals = crm.listDeals(Map.of(">DATE_MODIFY", from.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)), List.of("ID", "DATE_MODIFY"));
        return deals.stream()
                .sorted(Comparator.comparing((Deal d) -> d.dateModify() == null ? OffsetDateTime.MIN : d.dateModify()).thenComparing(Deal::id))
                .map(d -> new Change(d.id(), d.dateModify()))
                .toList();
    }
}
