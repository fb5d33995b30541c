package org.dealbridge.dealevents;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.crm.Deal;
import org.dealbridge.schemas.ChangeCause;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.ProductRow;

/**
 * Reads deals with their product rows in batch calls: {@code crm.deal.get} and {@code crm.deal.productrows.get} per
 * deal, so at most 25 deals per call (the portal runs at most 50 commands in one batch).
 */
public final class DealReader {

    /** Deals per batch call: two commands each. */
    public static final int DEALS_PER_BATCH = BitrixClient.MAX_BATCH / 2;

    private final BitrixClient client;

    public DealReader(BitrixClient client) {
        this.client = client;
    }

    /**
     * The current state of each deal; a deal that no longer exists maps to empty.
     *
     * @throws BitrixException when a call or a sub-command fails for another reason than "not found"
     */
    public Map<Long, Optional<DealChanged>> read(Collection<Long> dealIds, ChangeSource source) {
        Map<Long, Optional<DealChanged>> out = new LinkedHashMap<>();
        List<Long> ids = new ArrayList<>(dealIds);
        for (int from = 0; from < ids.size(); from += DEALS_PER_BATCH) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + DEALS_PER_BATCH));
            List<BatchCommand> commands = new ArrayList<>();
            for (long id : chunk) {
                commands.add(BatchCommand.of("d" + id, "crm.deal.get", Map.of("id", id)));
                commands.add(BatchCommand.of("r" + id, "crm.deal.productrows.get", Map.of("id", id)));
            }
            BatchResult result = client.batch(commands, false);
            for (long id : chunk) {
                Optional<BitrixException> error = result.error("d" + id);
                if (error.isPresent()) {
                    if (error.get() instanceof BitrixException.NotFound) {
                        out.put(id, Optional.empty());
                        continue;
                    }
                    throw error.get();
                }
                Deal deal = Deal.fromClassic(result.result("d" + id));
                Optional<BitrixException> rowsError = result.error("r" + id);
                if (rowsError.isPresent() && !(rowsError.get() instanceof BitrixException.NotFound)) {
                    throw rowsError.get();
                }
                List<ProductRow> rows = rowsError.isPresent() ? List.of() : rows(result.result("r" + id));
                out.put(id, Optional.of(changed(deal, rows, source)));
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

    /** A deal as DealChanged; {@code dateModify} falls back to now only when the portal sent none. */
    static DealChanged changed(Deal deal, List<ProductRow> rows, ChangeSource source) {
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
                .setCause(ChangeCause.newBuilder().setSource(source).build())
                .build();
    }
}
