package org.dealbridge.dealprojector.topology;

import org.dealbridge.mapping.DealValues;

import java.util.List;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.ProductRow;

/**
 * Names and value formats of the deal fields DealBridge writes, shared by the topology (which decides them) and the
 * connector (which writes them and records them in the link). Values are strings in the form the CRM returns them
 * (amounts with two decimals, ids in decimal), so "what we wrote" and "what the deal has" compare as strings.
 */
public final class DealFields {

    public static final String TITLE = "TITLE";
    public static final String CATEGORY_ID = "CATEGORY_ID";
    public static final String STAGE_ID = "STAGE_ID";
    public static final String ASSIGNED_BY_ID = "ASSIGNED_BY_ID";
    public static final String OPPORTUNITY = "OPPORTUNITY";
    public static final String IS_MANUAL_OPPORTUNITY = "IS_MANUAL_OPPORTUNITY";
    public static final String CURRENCY_ID = "CURRENCY_ID";
    public static final String ORIGINATOR_ID = "ORIGINATOR_ID";
    public static final String ORIGIN_ID = "ORIGIN_ID";

    /** The {@code DealCommand.stageByPipeline} entry for these stages (pipeline id in decimal → stage). */
    public static java.util.Map<String, String> stageByPipeline(java.util.Map<Long, String> stages) {
        java.util.Map<String, String> byPipeline = new java.util.TreeMap<>();
        stages.forEach((pipeline, stage) -> byPipeline.put(Long.toString(pipeline), stage));
        return byPipeline;
    }

    private DealFields() {
    }

    /** An amount as the CRM returns it ({@link DealValues#amount}). */
    public static String amount(String field, CharSequence value) {
        return DealValues.amount(field, value);
    }

    /**
     * The value of an order field (as named in the mapping's {@code dealFields}) for a deal custom field. Booleans
     * are written as Y/N; {@code paySystemId} is the pay system of the first payment; absent values are "".
     */
    public static String orderFieldValue(OrderChanged order, String orderField) {
        return switch (orderField) {
            case "orderId" -> Long.toString(order.getOrderId());
            case "accountNumber" -> text(order.getAccountNumber());
            case "siteId" -> order.getSiteId().toString();
            case "statusId" -> order.getStatusId().toString();
            case "canceled" -> order.getCanceled() ? "Y" : "N";
            case "paid" -> order.getPaid() ? "Y" : "N";
            case "currency" -> order.getCurrency().toString();
            case "price" -> amount("order price", order.getPrice());
            case "paySystemId" -> order.getPaySystemIds().isEmpty() ? "" : Long.toString(order.getPaySystemIds().get(0));
            case "xmlId" -> text(order.getXmlId());
            default -> throw new IllegalArgumentException("dealFields names order field \"" + orderField
                    + "\", which the deal projector does not know");
        };
    }

    private static String text(CharSequence value) {
        return value == null ? "" : value.toString();
    }

    /** A quantity in one canonical form ({@link DealValues#quantity}). */
    public static String quantity(CharSequence value) {
        return DealValues.quantity(value);
    }

    /** The digest of product rows kept in links and commands ({@link DealValues#productRowsDigest}). */
    public static String productRowsDigest(List<ProductRow> rows) {
        return DealValues.productRowsDigest(rows);
    }
}
