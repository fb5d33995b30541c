package org.dealbridge.mapping;

import java.util.List;

/** A check run on a document that passed the offline validation (the live one asks the CRM and the store). */
@FunctionalInterface
public interface DocumentCheck {

    /** No further check. */
    DocumentCheck NONE = document -> List.of();

    List<MappingError> check(MappingDocument document);
}
