package org.dealbridge.dealevents;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.LenientJson;
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
 * ({@link DealReader}) and published; the cursor under {@code crm-poll} in {@code ingest-cursors}. A deal listed as it
 * was published (same {@code DATE_MODIFY}, same content: {@link DealReader#content}) is not read again.
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

    /**
     * Every deal modified after {@code from}, oldest first, each with the digest of what its event would say
     * ({@link DealReader#content}): the listing selects the event's fields ({@link DealReader#SELECT}), which costs the
     * same one call per 50 deals as selecting the date alone, so a deal saved again within the second it was published
     * in is told from an unchanged one without reading it.
     */
    static List<Change> changedSince(CrmApi crm, OffsetDateTime from) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("filter", Map.of(">DATE_MODIFY", from.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)));
        params.put("select", DealReader.SELECT);
        List<Change> changes = new ArrayList<>();
        crm.client().exportById("crm.deal.list", params, "ID", null, page -> page.forEach(row -> changes.add(listed(row))));
        changes.sort(Comparator.comparing((Change c) -> c.modified() == null ? OffsetDateTime.MIN : c.modified()).thenComparingLong(Change::id));
        return changes;
    }

    // a row that does not parse is listed without a date or digest: read again (its own read names what is wrong), never skipped
    private static Change listed(JsonNode row) {
        long id = LenientJson.requiredLong(row, "ID");
        try {
            Deal deal = Deal.fromClassic(row);
            return new Change(id, deal.dateModify(), DealReader.content(DealReader.changed(deal, List.of(), ChangeSource.CRM_POLL, null)));
        } catch (RuntimeException malformed) {
            return new Change(id, null, null);
        }
    }
}
