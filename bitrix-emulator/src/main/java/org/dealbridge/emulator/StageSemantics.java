package org.dealbridge.emulator;

/** Semantics of a deal stage, as {@code crm.status.list} reports it in {@code SEMANTICS} and {@code EXTRA.SEMANTICS}. */
public enum StageSemantics {
    PROCESS(null, "process", "P"),
    SUCCESS("S", "success", "S"),
    FAILURE("F", "failure", "F"),
    APOLOGY("F", "apology", "F");

    final String statusSemantics;
    final String extraSemantics;
    final String dealSemanticId;

    StageSemantics(String statusSemantics, String extraSemantics, String dealSemanticId) {
        this.statusSemantics = statusSemantics;
        this.extraSemantics = extraSemantics;
        this.dealSemanticId = dealSemanticId;
    }

    boolean isFinal() {
        return this != PROCESS;
    }

    static StageSemantics parse(String text) {
        if (text == null || text.isBlank()) {
            return PROCESS;
        }
        switch (text.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "P": case "PROCESS": return PROCESS;
            case "S": case "SUCCESS": return SUCCESS;
            case "F": case "FAILURE": return FAILURE;
            case "APOLOGY": return APOLOGY;
            default: throw new IllegalArgumentException("semantics: unknown value '" + text + "' (expected PROCESS, SUCCESS, FAILURE or APOLOGY)");
        }
    }
}
