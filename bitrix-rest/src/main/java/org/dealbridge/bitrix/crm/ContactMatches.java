package org.dealbridge.bitrix.crm;

import java.util.List;

/** Ids found by {@code crm.duplicate.findbycomm}, per entity type. */
public record ContactMatches(List<Long> contacts, List<Long> leads, List<Long> companies) {
    public static final ContactMatches NONE = new ContactMatches(List.of(), List.of(), List.of());

    public boolean isEmpty() {
        return contacts.isEmpty() && leads.isEmpty() && companies.isEmpty();
    }
}
