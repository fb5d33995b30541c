package org.dealbridge.app.runtime;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The checks behind GET /health, in registration order. */
public final class HealthRegistry {
    private final Map<String, Supplier<Health>> checks = new LinkedHashMap<>();

    public synchronized void register(String name, Supplier<Health> check) {
        checks.put(name, check);
    }

    /** Every component's health, evaluated now; a check that throws is DOWN with its message. */
    public synchronized Map<String, Health> components() {
        Map<String, Health> result = new LinkedHashMap<>();
        checks.forEach((name, check) -> {
            Health h;
            try {
                h = check.get();
            } catch (RuntimeException e) {
                h = Health.down(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            result.put(name, h);
        });
        return result;
    }

    /** DOWN if anything is DOWN (or nothing is registered yet), else DEGRADED if anything is, else UP. */
    public static Health.Status overall(Map<String, Health> components) {
        if (components.isEmpty()) {
            return Health.Status.DOWN;
        }
        boolean degraded = false;
        for (Health h : components.values()) {
            if (h.status() == Health.Status.DOWN) {
                return Health.Status.DOWN;
            }
            degraded |= h.status() == Health.Status.DEGRADED;
        }
        return degraded ? Health.Status.DEGRADED : Health.Status.UP;
    }
}
