package org.dealbridge.dealprojector.crm;

import java.util.Optional;
import org.dealbridge.mapping.PairDecision;

/**
 * The part of the mapping a deal command carries: in the deal's pipeline, the order's status maps to the command's
 * stage. The connector has no mapping of its own, and this is all {@link PairDecision} needs on this side: whether the
 * deal's current stage is consistent with the order's status, and which side wins. A stage the command does not name
 * has no known status here, which only matters when the deal wins — and then the order projector writes the order.
 */
record CommandedStage(long pipeline, String statusId, String stageId) implements PairDecision.Translation {

    @Override
    public Optional<String> stageFor(long pipeline, String statusId) {
        return pipeline == this.pipeline && this.statusId.equals(statusId) ? Optional.of(stageId) : Optional.empty();
    }

    @Override
    public Optional<String> statusFor(long pipeline, String stageId) {
        return pipeline == this.pipeline && this.stageId.equals(stageId) ? Optional.of(statusId) : Optional.empty();
    }
}
