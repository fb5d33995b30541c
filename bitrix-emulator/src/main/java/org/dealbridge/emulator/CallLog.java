package org.dealbridge.emulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/** Every call the emulator saw, in arrival order, for assertions like "how many crm.deal.update for deal 7". */
public final class CallLog {
    private final List<Call> calls = new ArrayList<>();

    synchronized void add(Call call) {
        calls.add(call);
    }

    public synchronized List<Call> all() {
        return new ArrayList<>(calls);
    }

    public synchronized List<Call> of(Portal portal, String method) {
        String m = method.toLowerCase(Locale.ROOT);
        List<Call> out = new ArrayList<>();
        for (Call c : calls) {
            if (c.portal() == portal && c.method().equals(m)) {
                out.add(c);
            }
        }
        return out;
    }

    public int count(Portal portal, String method) {
        return of(portal, method).size();
    }

    public int count(Portal portal, String method, Predicate<Call> condition) {
        return (int) of(portal, method).stream().filter(condition).count();
    }

    /** Calls answered with 200 and no error, e.g. {@code succeeded(CRM, "crm.deal.update", c -> "7".equals(c.param("id")))}. */
    public int succeeded(Portal portal, String method, Predicate<Call> condition) {
        return (int) of(portal, method).stream().filter(Call::succeeded).filter(condition).count();
    }

    public synchronized void clear() {
        calls.clear();
    }
}
