package org.dealbridge.dealevents;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixResponse;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.LenientJson;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.ingestion.BulkRead;
import org.dealbridge.ingestion.PublishedVersions;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.ProductRow;

/**
 * Reads deals in bulk (issue 14 item 4): one {@code crm.deal.list} with an {@code @ID} filter (reference §3.5: IN, the
 * value an array) and only the fields a decision needs, up to 50 deals per call (one page), then
 * {@code crm.deal.productrows.get} in one {@code batch} for only the deals whose rows can have changed since DealBridge
 * last knew them. Before, every deal cost a {@code crm.deal.get} and a {@code crm.deal.productrows.get}.
 *
 * <p>Rows are not read again when
 * <ul>
 *   <li>the deal is an echo of DealBridge's own write: {@code MODIFY_BY_ID} is the webhook's user (reference §1.1: calls
 *       run as the employee who made the webhook) and the deal was made by an integration ({@code ORIGINATOR_ID} set,
 *       reference §12; DealBridge's deals carry {@code {prefix}:{site}}). Rows decide only whether a deal DealBridge did
 *       not make creates an order (order-projector's {@code DealToOrder}), so an echo's rows decide nothing. A deal made
 *       in the UI has no {@code ORIGINATOR_ID}: its rows are read even when the person uses the webhook's own account.
 *       Not checked: "modified no later than DealBridge's write" — its write times are in {@code deal-links}, which
 *       ingestion does not read; {@code MODIFY_BY_ID} and {@code ORIGINATOR_ID} stand for it.</li>
 *   <li>this reader read the rows at the same {@code DATE_MODIFY}, at least a second after it by the CRM's clock, and
 *       the deal otherwise reads as it did then ({@link #content}): the deal has not been saved since. The date has
 *       second precision, so a save within the second of the last read keeps it; rows read within that second are not
 *       remembered ({@link PublishedVersions#settled}), so a later save that changes only the rows is read.</li>
 * </ul>
 * Then the rows last read are published (none when never read: {@code productRows} is "when read").
 */
public final class DealReader {

    /** Deals per bulk read: one {@code crm.deal.list} page. */
    public static final int DEALS_PER_BATCH = BitrixClient.PAGE_SIZE;
    /** What a deal event needs: the fields of {@link Deal#fromClassic}, the user fields, and who changed it when. */
    static final List<String> SELECT = List.of("ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "ASSIGNED_BY_ID", "CONTACT_ID", "OPPORTUNITY",
            "CURRENCY_ID", "ORIGINATOR_ID", "ORIGIN_ID", "DATE_MODIFY", "MODIFY_BY_ID", "UF_*");
    /** Deals whose rows are remembered (most recently read first out): a bound on memory, not on correctness. */
    static final int ROWS_REMEMBERED = 10_000;

    private record KnownRows(OffsetDateTime dateModify, String content, List<ProductRow> rows) {
    }

    private final BitrixClient client;
    private final String webhookUser;
    private final Map<Long, KnownRows> knownRows = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, KnownRows> eldest) {
            return size() > ROWS_REMEMBERED;
        }
    };

    public DealReader(BitrixClient client) {
        this.client = client;
        this.webhookUser = client.config().webhook().userId();
    }

    /**
     * The current state of each deal; a deal the answer lacks (it no longer exists) maps to empty.
     *
     * @throws BitrixException when a call or a sub-command fails
     */
    public Map<Long, Optional<DealChanged>> read(Collection<Long> dealIds, ChangeSource source) {
        Map<Long, Optional<DealChanged>> out = new LinkedHashMap<>();
        readAll(List.copyOf(new java.util.LinkedHashSet<>(dealIds)), source).forEach((id, result) -> {
            if (result instanceof BulkRead.Result.Failed<DealChanged> failed) {
                throw failed.cause();
            }
            out.put(id, result instanceof BulkRead.Result.Found<DealChanged> found ? Optional.of(found.record()) : Optional.empty());
        });
        return out;
    }

    /** {@link #read} as {@link BulkRead} answers: found, gone (not in the answer), or failed for that deal alone. */
    public Map<Long, BulkRead.Result<DealChanged>> readAll(List<Long> dealIds, ChangeSource source) {
        Map<Long, BulkRead.Result<DealChanged>> out = new LinkedHashMap<>();
        for (int from = 0; from < dealIds.size(); from += DEALS_PER_BATCH) {
            out.putAll(chunk(dealIds.subList(from, Math.min(dealIds.size(), from + DEALS_PER_BATCH)), source));
        }
        return out;
    }

    private Map<Long, BulkRead.Result<DealChanged>> chunk(List<Long> ids, ChangeSource source) {
        BitrixResponse answer = client.callForResponse("crm.deal.list", Map.of("filter", Map.of("@ID", ids), "select", SELECT, "start", -1),
                Idempotence.ofMethod("crm.deal.list"));
        JsonNode listed = answer.result();
        // when the CRM began to serve the read, by its own clock: it read each deal no earlier
        Instant readAt = answer.portalStart().orElse(null);
        Map<Long, Deal> deals = new LinkedHashMap<>();
        Map<Long, String> modifiedBy = new HashMap<>();
        Map<Long, BulkRead.Result<DealChanged>> out = new LinkedHashMap<>();
        for (JsonNode row : LenientJson.asElements("crm.deal.list result", listed)) {
            Deal deal;
            try {
                deal = Deal.fromClassic(row);
            } catch (RuntimeException e) {
                LenientJson.optLong(row, "ID").ifPresent(id -> out.put(id, new BulkRead.Result.Failed<>(e)));
                continue;
            }
            deals.put(deal.id(), deal);
            modifiedBy.put(deal.id(), LenientJson.text(row, "MODIFY_BY_ID"));
        }
        List<BatchCommand> rowReads = new ArrayList<>();
        Map<Long, List<ProductRow>> rows = new HashMap<>();
        for (Deal deal : deals.values()) {
            KnownRows known;
            synchronized (knownRows) {
                known = knownRows.get(deal.id());
            }
            boolean echo = webhookUser != null && webhookUser.equals(modifiedBy.get(deal.id())) && deal.originatorId() != null;
            boolean unchanged = known != null && deal.dateModify() != null && deal.dateModify().isEqual(known.dateModify())
                    && content(changed(deal, List.of(), source, readAt)).equals(known.content());
            if (echo || unchanged) {
                rows.put(deal.id(), known == null ? List.of() : known.rows());
            } else {
                rowReads.add(BatchCommand.of("r" + deal.id(), "crm.deal.productrows.get", Map.of("id", deal.id())));
            }
        }
        if (!rowReads.isEmpty()) {
            BatchResult result = client.batch(rowReads, false);
            for (BatchCommand command : rowReads) {
                long id = Long.parseLong(command.key().substring(1));
                Optional<BitrixException> error = result.error(command.key());
                if (error.isPresent() && !(error.get() instanceof BitrixException.NotFound)) {
                    out.put(id, new BulkRead.Result.Failed<>(error.get()));
                    deals.remove(id);
                    continue;
                }
                List<ProductRow> read = error.isPresent() ? List.of() : rows(result.result(command.key()));
                rows.put(id, read);
                Deal deal = deals.get(id);
                if (deal.dateModify() != null && PublishedVersions.settled(deal.dateModify().toInstant(), readAt)) {
                    // read within the second of its DATE_MODIFY, the rows may be followed by another save in that second
                    synchronized (knownRows) {
                        knownRows.put(id, new KnownRows(deal.dateModify(), content(changed(deal, List.of(), source, readAt)), read));
                    }
                }
            }
        }
        for (long id : ids) {
            Deal deal = deals.get(id);
            if (deal != null) {
                out.put(id, new BulkRead.Result.Found<>(changed(deal, rows.get(id), source, readAt)));
            } else {
                out.putIfAbsent(id, new BulkRead.Result.Gone<>());
            }
        }
        return out;
    }

    static List<ProductRow> rows(JsonNode node) {
        List<ProductRow> rows = new ArrayList<>();
        if (node == null || !node.isArray()) {
            return rows;
        }
        for (JsonNode r : node) {
            long productId = r.path("PRODUCT_ID").asLong(0);
            rows.add(ProductRow.newBuilder()
                    .setProductId(productId > 0 ? productId : null)
                    .setName(r.path("PRODUCT_NAME").asText(""))
                    .setPrice(r.path("PRICE").asText("0"))
                    .setQuantity(r.path("QUANTITY").asText("0"))
                    .build());
        }
        return rows;
    }

    /**
     * The digest of what a deal event says of the deal, its product rows, date and cause aside: the same for an event
     * read in full and for one made from a {@code crm.deal.list} row with {@link #SELECT}, so a poller can tell from its
     * listing whether a deal published at the same {@code DATE_MODIFY} (second precision) was saved again since
     * ({@link PublishedVersions}). Fields the event does not carry ({@code MOVED_TIME}, {@code MODIFY_BY_ID}) are left
     * out: a save that changes only them changes no event.
     */
    public static String content(DealChanged deal) {
        Map<String, String> userFields = new TreeMap<>();
        deal.getUserFields().forEach((name, value) -> userFields.put(name.toString(), value == null ? null : value.toString()));
        return PublishedVersions.digest(Arrays.asList(deal.getDeleted(), deal.getTitle(), deal.getCategoryId(), deal.getStageId(),
                deal.getAssignedById(), deal.getContactId(), deal.getOpportunity(), deal.getCurrency(), deal.getOriginatorId(),
                deal.getOriginId(), userFields));
    }

    /**
     * A deal as DealChanged; {@code dateModify} falls back to now only when the portal sent none.
     *
     * @param readAt the CRM's time just before the read, null when unknown
     */
    static DealChanged changed(Deal deal, List<ProductRow> rows, ChangeSource source, Instant readAt) {
        Map<String, String> userFields = new HashMap<>();
        deal.userFields().forEach((name, value) -> {
            if (value == null || value.isNull()) {
                return;
            }
            if (value.isArray()) {
                List<String> parts = new ArrayList<>();
                value.forEach(v -> parts.add(v.asText()));
                userFields.put(name, String.join(",", parts));
            } else {
                userFields.put(name, value.asText());
            }
        });
        return DealChanged.newBuilder()
                .setDealId(deal.id())
                .setTitle(deal.title())
                .setCategoryId(deal.categoryId())
                .setStageId(deal.stageId() == null ? "" : deal.stageId())
                .setAssignedById(deal.assignedById())
                .setContactId(deal.contactId())
                .setOpportunity(deal.opportunity() == null ? null : deal.opportunity().toPlainString())
                .setCurrency(deal.currency())
                .setOriginatorId(deal.originatorId())
                .setOriginId(deal.originId())
                .setUserFields(userFields)
                .setProductRows(rows)
                .setDateModify(deal.dateModify() == null ? Instant.now() : deal.dateModify().toInstant())
                .setReadAt(readAt)
                .setCause(ChangeCause.newBuilder().setSource(source).build())
                .build();
    }
}
