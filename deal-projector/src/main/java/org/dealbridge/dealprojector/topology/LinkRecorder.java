package org.dealbridge.dealprojector.topology;

import org.dealbridge.mapping.LinkFeeder;
import org.dealbridge.schemas.SyncLink;

/** Keeps the newest link of each order (from the compacted {@code deal-links} topic) where the projector reads it. */
final class LinkRecorder extends LinkFeeder {

    LinkRecorder() {
        super(DealProjectorTopology.LINKS_STORE);
    }

    @Override
    protected SyncLink current(String orderKey) {
        return links.get(orderKey);
    }

    @Override
    protected void apply(String orderKey, SyncLink link) {
        if (link == null) {
            links.delete(orderKey);
        } else {
            links.put(orderKey, link);
        }
    }
}
