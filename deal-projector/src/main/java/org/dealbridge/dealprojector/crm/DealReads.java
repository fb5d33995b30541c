package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.dealprojector.topology.DealFields;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;
import org.dealbridge.schemas.ProductRow;

/**
 * The read step of a deal command: what {@link DealWriter} reads before it decides, as batch sub-commands, and the
 * answers read back as the deal and contacts they describe.
 * <ul>
 *   <li>CREATE: the deal by ORIGINATOR_ID+ORIGIN_ID (the deal may exist: an earlier add timed out after it was
 *       applied, or a replay) — a look-up shared with the round's other CREATEs ({@link DealLookups}) — and the
 *       buyer's contact, remembered or searched in bulk ({@link ContactLookups});</li>
 *   <li>UPDATE: the deal — read with the round's other UPDATEs' deals ({@link DealLookups}) — and
 *       {@code crm.deal.productrows.get} when the command carries rows (rows are written only over rows DealBridge
 *       set).</li>
 * </ul>
 */
final class DealReads {
    private DealReads() {
    }

    /**
     * Adds the command's own reads to its round: its deal's look-up is shared ({@link DealLookups}), and so is the
     * buyer's contact ({@link ContactLookups}).
     */
    static void plan(CommandRound round) {
        DealCommand c = round.command;
        if (c.getKind() != DealCommandKind.CREATE && c.getProductRows() != null) {
            round.reads.add(BatchCommand.of(round.key("rowsNow"), "crm.deal.productrows.get", Map.of("id", c.getDealId())));
        }
    }

    /** An UPDATE's deal's product rows now, or null when they were not (or could not be) read. */
    static List<ProductRow> rowsNow(CommandRound round, BatchResult reads) {
        if (round.command.getProductRows() == null || !reads.succeeded(round.key("rowsNow"))) {
            return null;
        }
        List<ProductRow> list = new ArrayList<>();
        for (JsonNode row : elements(reads.result(round.key("rowsNow")))) {
            long product = longValue(row, "PRODUCT_ID");
            list.add(ProductRow.newBuilder()
                    .setProductId(product == 0 ? null : product)
                    .setName(orDefault(text(row, "PRODUCT_NAME"), ""))
                    .setPrice(orDefault(text(row, "PRICE"), "0"))
                    .setQuantity(orDefault(text(row, "QUANTITY"), "0"))
                    .build());
        }
        return list;
    }

    /**
     * The deal as {@link DealUpdatePlan} decides against it: the command's order fields as the deal has them, and who
     * changed its stage last and when ({@code MOVED_BY_ID}, {@code MOVED_TIME}).
     */
    static DealUpdatePlan.DealState state(DealCommand c, JsonNode deal, List<ProductRow> rows, String webhookUser) {
        return new DealUpdatePlan.DealState(longValue(deal, "CATEGORY_ID"), text(deal, "STAGE_ID"), modifiedAt(deal),
                text(deal, "DATE_MODIFY"), values(c, deal), !"N".equals(text(deal, DealFields.IS_MANUAL_OPPORTUNITY)), rows,
                webhookUser != null && webhookUser.equals(text(deal, "MOVED_BY_ID")), byPerson(deal, "MOVED_BY_ID", webhookUser),
                instant(deal, "MOVED_TIME"));
    }

    /**
     * A deal a CREATE found, as {@link FoundDeal} decides against it. DealBridge writes as the webhook's user, so a
     * {@code MODIFY_BY_ID}/{@code MOVED_BY_ID} of anybody else is a person's change.
     */
    static FoundDeal found(DealCommand c, JsonNode deal, String webhookUser) {
        return new FoundDeal(longValue(deal, "ID"), longValue(deal, "CATEGORY_ID"), text(deal, "STAGE_ID"), values(c, deal),
                byPerson(deal, "MODIFY_BY_ID", webhookUser), byPerson(deal, "MOVED_BY_ID", webhookUser));
    }

    private static boolean byPerson(JsonNode deal, String field, String webhookUser) {
        String by = text(deal, field);
        return by != null && !by.isEmpty() && !by.equals("0") && !by.equals(webhookUser);
    }

    private static Map<String, String> values(DealCommand c, JsonNode deal) {
        Map<String, String> values = new LinkedHashMap<>();
        c.getOrderValues().keySet().forEach(field -> values.put(field, valueOf(deal, field)));
        return values;
    }

    /** A deal field as text, the way the link keeps it: amounts with two decimals, null and false as "". */
    static String valueOf(JsonNode deal, String field) {
        JsonNode v = deal.get(field);
        if (v == null || v.isNull() || (v.isBoolean() && !v.booleanValue())) {
            return "";
        }
        if (field.equals(DealFields.OPPORTUNITY) && !v.asText().isEmpty()) {
            return DealFields.amount(field, v.asText());
        }
        return v.isValueNode() ? v.asText() : v.toString();
    }

    /** DATE_MODIFY of a deal as read; null when absent or unreadable (then the CRM wins ties, as PairDecision says). */
    private static Instant modifiedAt(JsonNode deal) {
        return instant(deal, "DATE_MODIFY");
    }

    /** A datetime field of a deal as read (reference §1: ISO-8601 with offset); null when absent or unreadable. */
    private static Instant instant(JsonNode deal, String field) {
        String text = text(deal, field);
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    static long longValue(JsonNode node, String field) {
        String t = text(node, field);
        return t == null || t.isEmpty() ? 0L : Long.parseLong(t);
    }

    private static List<JsonNode> elements(JsonNode node) {
        List<JsonNode> list = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(list::add);
        }
        return list;
    }

    private static String orDefault(String value, String otherwise) {
        return value == null ? otherwise : value;
    }

    static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}
