package org.dealbridge.dealprojector.crm;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.mapping.Ownership;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.ProductRow;

/**
 * The write step of a deal command, as batch sub-commands: {@code crm.contact.add} when no contact was found,
 * {@code crm.deal.add} only when no deal was found, {@code crm.item.update} for a pipeline change,
 * {@code crm.deal.update} for the other fields, {@code crm.deal.productrows.set}. Every write carries
 * {@code REGISTER_SONET_EVENT = N}: DealBridge's writes are not news for the deal's feed.
 */
final class DealWrites {

    private DealWrites() {
    }

    /**
     * The writes of a new deal: its contact when none was found, the deal, its rows. Returns the deal's fields as sent
     * (the link records them).
     *
     * @param contact the buyer's contact found by the reads
     * @param owner   the owner of that contact, when the command resolves the responsible from it
     */
    static Map<String, Object> newDeal(CommandRound round, Optional<Long> contact, Optional<Long> owner, List<ProductRow> rows) {
        DealCommand c = round.command;
        Map<String, Object> fields = new LinkedHashMap<>(c.getFields());
        fields.put(DealFields.CATEGORY_ID, DealUpdatePlan.pickedPipeline(c));  // the latest order's, when folded
        fields.put(DealFields.STAGE_ID, DealUpdatePlan.newDealStage(c));
        c.getOrderValues().forEach((field, value) -> {
            if (fields.containsKey(field) && !field.equals(Ownership.PIPELINE)) {
                fields.put(field, value);
            }
        });
        owner.ifPresent(id -> fields.put(DealFields.ASSIGNED_BY_ID, Long.toString(id)));
        if (contact.isPresent()) {
            fields.put("CONTACT_IDS", List.of(contact.get()));
        } else if (hasContactData(c.getBuyer())) {
            round.writes.add(BatchCommand.of(round.key("contact"), "crm.contact.add", Map.of(
                    "fields", contactFields(c.getBuyer(), fields.get(DealFields.ASSIGNED_BY_ID)),
                    "params", Map.of("REGISTER_SONET_EVENT", "N"))));
            fields.put("CONTACT_IDS", List.of(BatchCommand.ref(round.key("contact"))));
        }
        round.writes.add(BatchCommand.of(round.key("add"), "crm.deal.add", Map.of("fields", fields,
                "params", Map.of("REGISTER_SONET_EVENT", "N"))));
        if (!rows.isEmpty()) {
            round.writes.add(CrmApi.setProductRowsCommand(round.key("rows"), BatchCommand.ref(round.key("add")), bitrixRows(rows)));
        }
        return fields;
    }

    /** The writes of a linked deal's plan; returns the names of what they change, for the outcome's reason. */
    static List<String> plan(CommandRound round, long dealId, DealUpdatePlan.Plan plan) {
        Map<String, String> write = new LinkedHashMap<>(plan.fields());
        List<String> changed = new ArrayList<>();
        if (plan.moveTo() != null) {
            round.writes.add(CrmApi.moveDealCommand(round.key("move"), dealId, plan.moveTo(), plan.stage()));  // reference §5.6
            changed.add(DealFields.CATEGORY_ID);
        } else if (plan.stage() != null) {
            write.put(DealFields.STAGE_ID, plan.stage());
        }
        if (!write.isEmpty()) {
            round.writes.add(BatchCommand.of(round.key("update"), "crm.deal.update", Map.of("id", dealId, "fields", write,
                    "params", Map.of("REGISTER_SONET_EVENT", "N"))));
        }
        changed.addAll(write.keySet());
        if (plan.rows() != null) {
            round.writes.add(CrmApi.setProductRowsCommand(round.key("rows"), dealId, bitrixRows(plan.rows())));
            changed.add("product rows");
        }
        return changed;
    }

    /** The first of a round's writes that failed or did not run, if any. */
    static Optional<RoundFailure> failure(CommandRound round, BatchResult result) {
        return failure(round.writes, result);
    }

    /** The first of these writes that failed or did not run, if any. */
    static Optional<RoundFailure> failure(List<BatchCommand> writes, BatchResult result) {
        for (BatchCommand w : writes) {
            Optional<RoundFailure> failure = result.error(w.key()).map(RoundFailure::of);
            if (failure.isPresent()) {
                return failure;
            }
            if (!result.succeeded(w.key())) {
                return Optional.of(new RoundFailure(true, "NOT_EXECUTED", w.method() + " did not run"));
            }
        }
        return Optional.empty();
    }

    private static boolean hasContactData(Buyer buyer) {
        return buyer != null && (DealReads.notBlank(buyer.getEmail()) || DealReads.notBlank(buyer.getPhone())
                || DealReads.notBlank(buyer.getName()));
    }

    private static Map<String, Object> contactFields(Buyer buyer, Object responsible) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (DealReads.notBlank(buyer.getName())) {
            fields.put("NAME", buyer.getName());
        }
        if (DealReads.notBlank(buyer.getEmail())) {
            fields.put("EMAIL", List.of(Map.of("VALUE", buyer.getEmail(), "VALUE_TYPE", "WORK")));
        }
        if (DealReads.notBlank(buyer.getPhone())) {
            fields.put("PHONE", List.of(Map.of("VALUE", buyer.getPhone(), "VALUE_TYPE", "MOBILE")));
        }
        if (responsible != null) {
            fields.put("ASSIGNED_BY_ID", responsible);
        }
        return fields;
    }

    private static List<org.dealbridge.bitrix.crm.ProductRow> bitrixRows(List<ProductRow> rows) {
        List<org.dealbridge.bitrix.crm.ProductRow> converted = new ArrayList<>(rows.size());
        for (ProductRow row : rows) {
            converted.add(org.dealbridge.bitrix.crm.ProductRow.of(row.getProductId() == null ? 0 : row.getProductId(),
                    row.getName(), new BigDecimal(row.getPrice()), new BigDecimal(row.getQuantity())));
        }
        return converted;
    }
}
