package org.dealbridge.emulator;

/** The two Bitrix installations the emulator serves, each behind its own inbound webhook. */
public enum Portal {
    /** The Bitrix24 portal: {@code crm.*}, {@code user.get}. */
    CRM,
    /** The 1C-Bitrix online store: {@code sale.*}, {@code catalog.*}. */
    STORE
}
