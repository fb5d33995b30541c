package org.dealbridge.dealprojector.crm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.dealbridge.schemas.Buyer;

/**
 * Which CRM contact each buyer is, as far as the CRM connector has met them: keyed by the buyer's normalised e-mail
 * ({@code email:anna@example.com}) and phone ({@code phone:79990001122}). Kept in the compacted {@code buyer-contacts}
 * topic (the connector reads it when a run starts and publishes what it learns in the transaction of the command that
 * learned it), so a returning buyer costs no {@code crm.duplicate.findbycomm} and no {@code crm.contact.add}.
 *
 * <p>Normalising is DealBridge's: e-mail trimmed and lower-cased, phone reduced to its digits. Whether the CRM's own
 * duplicate search normalises the same way is not in the reference (§8.3, UNVERIFIED): a buyer written another way
 * is simply searched again, which finds the same contact when the CRM matches it.
 */
public final class BuyerContacts {
    private final Map<String, Long> contacts = new ConcurrentHashMap<>();

    /** The key of an e-mail, or empty when there is none. */
    static Optional<String> emailKey(String email) {
        if (email == null || email.isBlank()) {
            return Optional.empty();
        }
        return Optional.of("email:" + email.trim().toLowerCase(Locale.ROOT));
    }

    /** The key of a phone number (its digits), or empty when it has none. */
    static Optional<String> phoneKey(String phone) {
        if (phone == null) {
            return Optional.empty();
        }
        String digits = phone.replaceAll("[^0-9]", "");
        return digits.isEmpty() ? Optional.empty() : Optional.of("phone:" + digits);
    }

    /** The buyer's keys, e-mail first (the e-mail decides when both are known, as the search does). */
    static List<String> keys(Buyer buyer) {
        List<String> keys = new ArrayList<>(2);
        if (buyer != null) {
            emailKey(buyer.getEmail()).ifPresent(keys::add);
            phoneKey(buyer.getPhone()).ifPresent(keys::add);
        }
        return keys;
    }

    /** The buyer's contact when one of the buyer's keys is known (e-mail first). */
    Optional<Long> contactOf(Buyer buyer) {
        for (String key : keys(buyer)) {
            Long id = contacts.get(key);
            if (id != null) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /** Remembers a contact under a key; a null id forgets the key (a tombstone on the topic). */
    public void remember(String key, Long contactId) {
        if (contactId == null) {
            contacts.remove(key);
        } else {
            contacts.put(key, contactId);
        }
    }

    public int size() {
        return contacts.size();
    }
}
