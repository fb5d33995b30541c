package org.dealbridge.emulator;

/** One REST method of a portal. Returns the {@code result} payload, or a {@link ListPage} for list methods. */
@FunctionalInterface
interface RestMethod {
    Object call(Params params);
}
