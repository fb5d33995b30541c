package org.dealbridge.dealprojector.crm;

import org.dealbridge.bitrix.BitrixException;

/** Why a round failed for a command, and whether another round may succeed. */
record RoundFailure(boolean retryable, String code, String message) {
    static RoundFailure of(BitrixException e) {
        String code = e.errorCode() == null || e.errorCode().isEmpty() ? e.getClass().getSimpleName() : e.errorCode();
        return new RoundFailure(e.retryable(), code, e.getMessage());
    }

    /** A failure that is not the CRM's: the command cannot be written as it is (never a poison pill). */
    static RoundFailure permanent(RuntimeException e) {
        return new RoundFailure(false, e.getClass().getSimpleName(), e.getMessage());
    }

    /** The add ran but its answer is unreadable: the next round finds the deal by its origin. */
    static RoundFailure unreadableAnswer(RuntimeException e) {
        return new RoundFailure(true, e.getClass().getSimpleName(), e.getMessage());
    }
}
