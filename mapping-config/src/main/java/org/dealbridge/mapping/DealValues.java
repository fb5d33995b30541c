package org.dealbridge.mapping;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.dealbridge.schemas.ProductRow;

/**
 * The form deal values take in links ({@code SyncLink.dealFields}/{@code orderValues}) and commands, so that "what
 * DealBridge wrote", "what the order says" and "what the deal has" compare as strings in both directions: amounts
 * with two decimals as the CRM returns them, quantities in one canonical form, product rows as a digest.
 */
public final class DealValues {

    private DealValues() {
    }

    /** An amount as the CRM returns it: plain decimal with two places. */
    public static String amount(String field, CharSequence value) {
        try {
            return new BigDecimal(value.toString().trim()).setScale(2, RoundingMode.HALF_UP).toPlainString();
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(field + " = \"" + value + "\" is not a decimal number", e);
        }
    }

    /** A quantity in one canonical form ("2", "0.5"), so "2", "2.0" and 2.0 from the CRM are the same. */
    public static String quantity(CharSequence value) {
        try {
            BigDecimal q = new BigDecimal(value.toString().trim()).stripTrailingZeros();
            return (q.scale() < 0 ? q.setScale(0) : q).toPlainString();
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("quantity = \"" + value + "\" is not a decimal number", e);
        }
    }

    /** SHA-256 over the rows' product id, name, price and quantity (canonical forms), in row order. */
    public static String productRowsDigest(List<ProductRow> rows) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (ProductRow row : rows) {
                String line = row.getProductId() + "\u0001" + row.getName() + "\u0001"
                        + amount("row price", row.getPrice()) + "\u0001" + quantity(row.getQuantity()) + "\u0002";
                digest.update(line.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
