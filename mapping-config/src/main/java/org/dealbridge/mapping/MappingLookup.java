package org.dealbridge.mapping;

import java.util.Optional;
import java.util.function.Function;

/**
 * The mapping in force for a site, compiled. Cheap to call per record: it reads the store and recompiles only
 * when the stored record changed (a new version was published).
 */
public final class MappingLookup {

    private final Function<String, byte[]> store;
    private final MappingTable table;

    MappingLookup(Function<String, byte[]> store, MappingTable table) {
        this.store = store;
        this.table = table;
    }

    /** The site's mapping in force; empty when the site has none (never published, removed): do not sync it. */
    public Optional<CompiledMapping> forSite(String siteId) {
        return table.compiledFor(siteId, store.apply(siteId));
    }
}
