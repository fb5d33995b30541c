/**
 * Strict HTTP emulators of a Bitrix24 portal (CRM) and a 1C-Bitrix online store, for tests, {@code demo} and
 * benchmarks. Start with {@link org.dealbridge.emulator.BitrixEmulator#start()}; seed and inspect through
 * {@link org.dealbridge.emulator.CrmPortal} and {@link org.dealbridge.emulator.Store} (or {@code /emulator/...} over
 * HTTP); inject failures with {@link org.dealbridge.emulator.Faults}; assert on
 * {@link org.dealbridge.emulator.CallLog} and {@link org.dealbridge.emulator.OutboundEvents}.
 *
 * <p>Behaviour follows {@code bitrix-rest-api.md}; where the reference is UNVERIFIED or CONFLICTing, the chosen
 * option is marked in a {@code // reference:} comment next to the code and named in a test.
 */
package org.dealbridge.emulator;
