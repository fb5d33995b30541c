package org.dealbridge.emulator;

/** A method result that carries list navigation: {@code total} and {@code next} go to the envelope's top level. */
final class ListPage {
    final Object result;
    final Integer total;
    final Integer next;

    ListPage(Object result, Integer total, Integer next) {
        this.result = result;
        this.total = total;
        this.next = next;
    }
}
