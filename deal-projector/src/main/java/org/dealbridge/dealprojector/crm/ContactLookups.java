package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.schemas.Buyer;
import org.dealbridge.schemas.DealCommandKind;

/**
 * The buyers' contacts of a round's CREATEs. A buyer {@link BuyerContacts} knows costs nothing; the others are
 * searched in bulk: one {@code crm.duplicate.findbycomm} per up to 20 e-mails (and per up to 20 phones; reference
 * §8.3), and, in the same batch, one {@code crm.contact.list} of the contacts it found ({@code @ID} =
 * {@code $result[find][CONTACT]}, reference §4.2) with their e-mails, phones and owners — the search answers only
 * ids, so the list says which contact is which buyer's (by the normalised value; the oldest contact when several
 * match). When a CREATE takes the responsible from the contact, the owners of remembered contacts are read too, one
 * {@code crm.contact.list} per 50.
 *
 * <p>A look-up that failed leaves its buyers unresolved and their commands are retried: a contact must never be added
 * for a buyer the CRM may already have only because the search did not answer. The list shows one page (50
 * contacts); a search finding more than that for 20 values could miss a buyer's contact, who then gets a new one.
 */
final class ContactLookups {
    /** {@code crm.duplicate.findbycomm} takes at most 20 values (reference §8.3). */
    static final int VALUES = 20;
    private static final List<String> CONTACT_SELECT = List.of("ID", "ASSIGNED_BY_ID", "EMAIL", "PHONE");

    private record Found(long id, Long owner) {
    }

    private final List<CommandRound> searching = new ArrayList<>();
    private final List<CommandRound> needOwner = new ArrayList<>();
    private final List<List<BatchCommand>> groups = new ArrayList<>();
    private final List<String> listKeys = new ArrayList<>();
    /** Contacts found, by buyer key: the oldest matching contact. */
    private final Map<String, Found> byKey = new HashMap<>();
    private final Map<Long, Long> owners = new HashMap<>();
    private boolean failed;

    private ContactLookups() {
    }

    /** The contact look-ups of these rounds: remembered buyers get their contact now, the others are searched. */
    static ContactLookups plan(List<CommandRound> rounds, BuyerContacts memory) {
        ContactLookups lookups = new ContactLookups();
        Map<String, String> emails = new LinkedHashMap<>();
        Map<String, String> phones = new LinkedHashMap<>();
        for (CommandRound round : rounds) {
            Buyer buyer = round.command.getBuyer();
            if (round.command.getKind() != DealCommandKind.CREATE || BuyerContacts.keys(buyer).isEmpty()) {
                continue;
            }
            Optional<Long> known = memory.contactOf(buyer);
            if (known.isPresent()) {
                round.contact = known.get();
                if (round.command.getResolveResponsibleFromContact()) {
                    lookups.needOwner.add(round);
                }
                continue;
            }
            lookups.searching.add(round);
            BuyerContacts.emailKey(buyer.getEmail()).ifPresent(key -> emails.putIfAbsent(key, buyer.getEmail().trim()));
            BuyerContacts.phoneKey(buyer.getPhone()).ifPresent(key -> phones.putIfAbsent(key, buyer.getPhone().trim()));
        }
        lookups.search("EMAIL", new ArrayList<>(emails.values()));
        lookups.search("PHONE", new ArrayList<>(phones.values()));
        List<Long> remembered = lookups.needOwner.stream().map(r -> r.contact).distinct().toList();
        for (int from = 0; from < remembered.size(); from += DealLookups.PAGE) {
            String key = "contactOwners" + lookups.listKeys.size();
            lookups.listKeys.add(key);
            lookups.groups.add(List.of(BatchCommand.of(key, "crm.contact.list", Map.of("filter", Map.of("@ID",
                    remembered.subList(from, Math.min(remembered.size(), from + DealLookups.PAGE))),
                    "select", List.of("ID", "ASSIGNED_BY_ID"), "start", -1))));
        }
        return lookups;
    }

    private void search(String type, List<String> values) {
        for (int from = 0; from < values.size(); from += VALUES) {
            String find = "findBy" + type + groups.size();
            String list = "contactsBy" + type + groups.size();
            listKeys.add(find);
            listKeys.add(list);
            groups.add(List.of(
                    BatchCommand.of(find, "crm.duplicate.findbycomm", Map.of("type", type,
                            "values", values.subList(from, Math.min(values.size(), from + VALUES)), "entity_type", "CONTACT")),
                    BatchCommand.of(list, "crm.contact.list", Map.of("filter", Map.of("@ID", BatchCommand.ref(find, "CONTACT")),
                            "select", CONTACT_SELECT, "order", Map.of("ID", "ASC"), "start", -1))));
        }
    }

    /** The look-ups as groups of sub-commands that must travel in one batch (a list refers to its search). */
    List<List<BatchCommand>> groups() {
        return groups;
    }

    /** Takes what a read batch answered for these look-ups. */
    void absorb(BatchResult result) {
        for (String key : listKeys) {
            if (result.error(key).isPresent()) {
                failed = true;
            } else if (result.succeeded(key) && key.startsWith("contacts")) {
                result.result(key).forEach(this::contactFound);
            } else if (result.succeeded(key) && key.startsWith("contactOwners")) {
                result.result(key).forEach(c -> owners.put(DealReads.longValue(c, "ID"), owner(c)));
            }
        }
    }

    /** A read batch carrying some of these look-ups failed as a whole. */
    void batchFailed() {
        failed = true;
    }

    private void contactFound(JsonNode contact) {
        Found found = new Found(DealReads.longValue(contact, "ID"), owner(contact));
        owners.put(found.id, found.owner);
        for (String type : List.of("EMAIL", "PHONE")) {
            JsonNode values = contact.get(type);
            if (values == null || !values.isArray()) {
                continue;
            }
            for (JsonNode value : values) {
                String text = DealReads.text(value, "VALUE");
                Optional<String> key = type.equals("EMAIL") ? BuyerContacts.emailKey(text) : BuyerContacts.phoneKey(text);
                key.ifPresent(k -> byKey.merge(k, found, (a, b) -> a.id <= b.id ? a : b));
            }
        }
    }

    private static Long owner(JsonNode contact) {
        long owner = DealReads.longValue(contact, "ASSIGNED_BY_ID");
        return owner > 0 ? owner : null;
    }

    /**
     * Gives each searched buyer the contact found for them (e-mail first, then phone; none: the writes add one) and
     * the owner of every contact a CREATE takes its responsible from. A round left unresolved by a failed look-up is
     * handed to {@code fail}, to be retried.
     */
    void assign(BiConsumer<CommandRound, RoundFailure> fail) {
        for (CommandRound round : searching) {
            Optional<Found> found = BuyerContacts.keys(round.command.getBuyer()).stream().map(byKey::get)
                    .filter(f -> f != null).findFirst();
            if (found.isPresent()) {
                round.contact = found.get().id;
                round.contactOwner = found.get().owner;
                BuyerContacts.keys(round.command.getBuyer()).forEach(k -> round.learnedContacts.put(k, found.get().id));
            } else if (failed) {
                fail.accept(round, new RoundFailure(true, "CONTACT_SEARCH_FAILED",
                        "the search for the buyer's contact did not answer; no contact is added blindly"));
            }
        }
        for (CommandRound round : needOwner) {
            if (owners.containsKey(round.contact)) {
                round.contactOwner = owners.get(round.contact);
            } else if (failed) {
                fail.accept(round, new RoundFailure(true, "CONTACT_OWNER_UNREAD", "the owner of contact " + round.contact
                        + " could not be read"));
            }
        }
    }
}
