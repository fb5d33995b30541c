package org.dealbridge.mapping;

import java.util.List;
import java.util.stream.Collectors;

/** A mapping document that must not be used, with every error found in it (not just the first). */
public class MappingInvalidException extends RuntimeException {

    private final List<MappingError> errors;

    public MappingInvalidException(List<MappingError> errors) {
        super(describe(errors));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a MappingInvalidException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    public List<MappingError> errors() {
        return errors;
    }

    private static String describe(List<MappingError> errors) {
        return errors.size() + (errors.size() == 1 ? " error" : " errors") + " in the mapping document:\n"
                + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n"));
    }
}
