package org.dealbridge.bitrix.crm;

/** Stage group: in progress, won, lost ({@code SEMANTICS} null/S/F; the "apology" stage is a failure). */
public enum StageSemantics {
    PROCESS, SUCCESS, FAILURE;

    static StageSemantics of(String semantics, String extraSemantics) {
        String s = semantics == null ? "" : semantics.trim().toUpperCase(java.util.Locale.ROOT);
        if (s.equals("S")) {
            return SUCCESS;
        }
        if (s.equals("F")) {
            return FAILURE;
        }
        if (s.isEmpty() && extraSemantics != null) {
            switch (extraSemantics.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "success" -> {
                    return SUCCESS;
                }
                case "failure", "apology" -> {
                    return FAILURE;
                }
                default -> {
                }
            }
        }
        return PROCESS;
    }
}
