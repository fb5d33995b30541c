package org.dealbridge.orderevents;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.dealbridge.bitrix.store.CatalogProduct;
import org.dealbridge.bitrix.store.CatalogSection;
import org.dealbridge.bitrix.store.ProductOffer;
import org.dealbridge.bitrix.store.StoreApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a basket product sits in the catalog: product → (for a variation, its parent product) → section → parent
 * sections up to the root (reference §11.8, pitfall §13.19: a variation lives in the offers iblock without a section).
 * Products and sections are cached for {@code ttl}; one order of ten lines usually costs one or two catalog reads.
 *
 * <p>Decision: a product missing from the catalog (deleted after the order was placed), a product in no section, or a
 * section chain that breaks (a parent that no longer exists, a cycle) gives an EMPTY section path and a WARN naming the
 * product. The event is still published; the projector then uses the site's default pipeline. Failing the whole order
 * over a catalog gap would stop the deal from being created at all.
 */
public final class ProductSections {
    private static final Logger log = LoggerFactory.getLogger(ProductSections.class);
    private static final int MAX_DEPTH = 64;

    /** A basket product's place: its parent (for a variation) and the section ids root first, leaf last. */
    public record Placement(Long parentProductId, List<Long> sectionPath) {
        public Placement {
            sectionPath = List.copyOf(sectionPath);
        }

        static final Placement NOWHERE = new Placement(null, List.of());
    }

    private final StoreApi store;
    private final ExpiringCache<Long, Placement> placements;
    private final ExpiringCache<Long, Optional<CatalogSection>> sections;

    public ProductSections(StoreApi store, Duration ttl, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.placements = new ExpiringCache<>(ttl, 50_000, clock);
        this.sections = new ExpiringCache<>(ttl, 50_000, clock);
    }

    /** The placement of a basket product id; {@code 0} (a non-catalog line) is nowhere without a lookup. */
    public Placement placementOf(long productId) {
        if (productId <= 0) {
            return Placement.NOWHERE;
        }
        return placements.get(productId, this::resolve);
    }

    private Placement resolve(long productId) {
        Optional<CatalogProduct> product = store.product(productId);
        Long parentId = null;
        if (product.isEmpty() || product.get().isVariation()) {
            // catalog.product.get may not serve offers on every portal; the offer method names the parent either way
            Optional<ProductOffer> offer = store.offer(productId);
            if (offer.isPresent()) {
                parentId = offer.get().parentId();
                product = store.product(parentId);
                if (product.isEmpty()) {
                    log.warn("variation {} names parent product {} which is not in the catalog; its section path is empty", productId, parentId);
                    return new Placement(parentId, List.of());
                }
            } else if (product.isEmpty()) {
                log.warn("basket product {} is not in the catalog (catalog.product.get and catalog.product.offer.get found nothing); "
                        + "its section path is empty and the default pipeline applies", productId);
                return Placement.NOWHERE;
            }
        }
        Long sectionId = product.get().sectionId();
        if (sectionId == null) {
            return new Placement(parentId, List.of());
        }
        List<Long> path = new ArrayList<>();
        Set<Long> seen = new LinkedHashSet<>();
        Long next = sectionId;
        while (next != null) {
            if (!seen.add(next) || seen.size() > MAX_DEPTH) {
                log.warn("catalog sections of product {} form a cycle or are deeper than {}: {}; its section path is empty", productId, MAX_DEPTH, seen);
                return new Placement(parentId, List.of());
            }
            Optional<CatalogSection> section = sections.get(next, store::section);
            if (section.isEmpty()) {
                log.warn("product {} sits in section {} whose chain refers to missing section {}; its section path is empty",
                        product.get().id(), sectionId, next);
                return new Placement(parentId, List.of());
            }
            path.add(section.get().id());
            next = section.get().parentId();
        }
        Collections.reverse(path);
        return new Placement(parentId, path);
    }
}
