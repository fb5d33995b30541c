package org.dealbridge.mapping;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.MoveIntent;
import org.dealbridge.schemas.SyncLink;

/**
 * Whose data is it: the rule that decides when DealBridge may write a deal field, next to {@link PairDecision} (which
 * decides the stage ↔ status pair). Both projectors and the CRM connector decide with this one class, so the contract
 * is stated once:
 *
 * <ul>
 *   <li><b>pipeline</b>: chosen by DealBridge when it creates a deal. Afterwards DealBridge moves a deal only when the
 *       order's own basket changed and the mapping picks another pipeline for it; never because of a new mapping
 *       version, a stale link or a retry. A deal whose pipeline differs from the one DealBridge last wrote was moved by
 *       a person: that pipeline stands. A move executed again after a crash lost its link is judged with the intent
 *       recorded before it ({@link #moveIntent}): a person's move back after it stands too.</li>
 *   <li><b>title, amount, currency, mapped custom fields, product rows</b>: written when the deal is created; later only
 *       when the order's own value for that field changed since the last agreement, and only if the deal still holds
 *       what DealBridge last wrote there. A value a person set stands.</li>
 *   <li><b>responsible</b>: written when the deal is created only (the order has no value of its own for it).</li>
 *   <li><b>deals made by hand</b> (the order was made from the deal, {@link LinkOrigin#DEAL}): the deal is the source of
 *       every field; DealBridge writes only its stage.</li>
 * </ul>
 *
 * <p>The link ({@link SyncLink}) keeps both halves of "since": {@code dealFields}, what DealBridge itself last wrote,
 * and {@code orderValues}, the order's values at the last agreement (the product rows as digests: {@code dealRowsDigest},
 * {@code orderRowsDigest}). Links written before {@code orderValues} existed
 * have it empty; then what DealBridge wrote stands in for the order's agreed value, so an upgrade never rewrites a
 * deal whose order did not change.
 */
public final class Ownership {

    /** The deal's pipeline, as the link's {@code dealFields}/{@code orderValues} key it. */
    public static final String PIPELINE = "CATEGORY_ID";

    /** The stage DealBridge last wrote on the deal, as the link's {@code dealFields} key it (see {@link #agreed}). */
    public static final String STAGE = "STAGE_ID";

    /**
     * Where links and commands written by DealBridge 0.1 keep the rows digests: inside their string maps under this key
     * ({@code dealFields}, {@code orderValues}). Read in place of the named fields ({@code dealRowsDigest},
     * {@code orderRowsDigest}) when those are null, so an installation upgrades without rewriting its links; never
     * written.
     */
    private static final String ROWS_KEY_OF_0_1 = "@PRODUCT_ROWS";

    /** What may happen to one field of a linked deal. */
    public enum FieldVerdict {
        /** The order's value changed since the last agreement and the deal still holds DealBridge's value: write it. */
        WRITE,
        /** The order's value is the one last agreed: DealBridge has nothing to say about the field. */
        SOURCE_UNCHANGED,
        /** The deal already holds the order's new value: nothing to write. */
        ALREADY_THERE,
        /** A person set the deal's value since DealBridge wrote it: it stands. */
        PERSON_STANDS,
        /** The order was made from the deal, which is the source of the field: it stands. */
        DEAL_IS_SOURCE
    }

    /** What may happen to the pipeline of a linked deal. */
    public enum PipelineVerdict {
        /** The order's basket changed and the mapping picks another pipeline for it: move the deal there. */
        MOVE,
        /** The deal stays where it is (the basket did not change, or it picks the deal's pipeline). */
        STAY,
        /** A person moved the deal to another pipeline than the one DealBridge last wrote: it stands. */
        PERSON_MOVED,
        /** The order was made from the deal, whose pipeline is the manager's choice. */
        DEAL_IS_SOURCE
    }

    /**
     * Who changed the deal's stage last and when, as read: {@code MOVED_BY_ID} (DealBridge's webhook user, or a person)
     * and {@code MOVED_TIME} (by the CRM's clock, whole seconds; null when not read). A pipeline move changes the stage,
     * so it sets both.
     */
    public record LastMove(boolean byDealBridge, boolean byPerson, Instant at) {
        /** Only whether DealBridge moved it last is known. */
        public static LastMove byDealBridge(boolean byDealBridge) {
            return new LastMove(byDealBridge, false, null);
        }
    }

    /**
     * What a command's own move intent ({@code SyncLink.moveIntent}, recorded before the CRM call that moves the deal)
     * tells of the deal as read when that command is executed again: a crash lost the link of its first attempt, and
     * nothing on the deal tells a person's move back from a person's stage change inside the pipeline the move left.
     */
    public enum MoveIntentVerdict {
        /** The link carries no intent of this command (none, or another command's: it says nothing more than its link). */
        NONE,
        /** The deal is where the intent moved it: the move applied and is DealBridge's, whoever set the stage since. */
        APPLIED,
        /**
         * The deal is (still, or back) where the intent moved it from and its last stage change is DealBridge's or
         * older than the intent: the move never applied (the crash came before the call), so it is made.
         */
        NOT_APPLIED,
        /** The deal is back where the intent moved it from, moved there by a person at or after the intent: it stands. */
        MOVED_BACK_BY_PERSON
    }

    private Ownership() {
    }

    /**
     * The verdict of the link's move intent on the deal as read, for the command {@code commandId}. A person's stage
     * change is "after the intent" when its {@code MOVED_TIME} is at or after the intent's CRM time, both by the CRM's
     * clock at whole seconds ({@code MOVED_TIME} has no more): a change within the intent's second counts as after, so a
     * manager's move back is never taken for one before (the price: a person's stage change inside the pipeline in the
     * very second the move was decided, with a crash before the call, keeps the deal there). Unknown times count as after.
     *
     * @param dealPipeline the deal's pipeline as read
     */
    public static MoveIntentVerdict moveIntent(SyncLink link, String commandId, long dealPipeline, LastMove lastMove) {
        MoveIntent intent = link == null ? null : link.getMoveIntent();
        if (intent == null || commandId == null || !commandId.equals(intent.getCommandId())) {
            return MoveIntentVerdict.NONE;
        }
        if (dealPipeline == intent.getToPipeline()) {
            return MoveIntentVerdict.APPLIED;
        }
        if (dealPipeline != intent.getFromPipeline()) {
            return MoveIntentVerdict.NONE;  // a person moved it elsewhere: the link's own rule says so
        }
        if (!lastMove.byPerson() || lastMove.byDealBridge()) {
            return MoveIntentVerdict.NOT_APPLIED;
        }
        Instant intentAt = intent.getCrmTime();
        boolean beforeTheIntent = lastMove.at() != null && intentAt != null
                && lastMove.at().truncatedTo(ChronoUnit.SECONDS).isBefore(intentAt.truncatedTo(ChronoUnit.SECONDS));
        return beforeTheIntent ? MoveIntentVerdict.NOT_APPLIED : MoveIntentVerdict.MOVED_BACK_BY_PERSON;
    }

    /** The order's value of a field at the last agreement; what DealBridge wrote stands in on links that predate it. */
    public static String agreedOrderValue(SyncLink link, String field) {
        if (link == null) {
            return null;
        }
        String agreed = link.getOrderValues().get(field);
        return agreed != null ? agreed : link.getDealFields().get(field);
    }

    /** What DealBridge last wrote on the deal for a field (null when it never wrote it, or the link predates it). */
    public static String written(SyncLink link, String field) {
        return link == null ? null : link.getDealFields().get(field);
    }

    /** True when the order's own value of a field differs from the last agreement (or none was recorded). */
    public static boolean sourceChanged(SyncLink link, String field, String orderValue) {
        String agreed = agreedOrderValue(link, field);
        return agreed == null || !agreed.equals(orderValue);
    }

    /** The origin of a link; a pair without a link is DealBridge's own (ORDER) until it says otherwise. */
    public static LinkOrigin origin(SyncLink link) {
        return link == null || link.getOrigin() == null ? LinkOrigin.ORDER : link.getOrigin();
    }

    /**
     * One field of a linked deal, given the deal as read.
     *
     * @param orderValue the order's value now
     * @param dealValue  the deal's value now, as text ("" when empty)
     * @param same       when two values of this field are the same (amounts compare as decimals)
     */
    public static FieldVerdict field(SyncLink link, String field, String orderValue, String dealValue,
                                     BiPredicate<String, String> same) {
        return verdict(link, agreedOrderValue(link, field), written(link, field), orderValue, dealValue, same);
    }

    /**
     * The product rows of a linked deal, as digests ({@code DealValues.productRowsDigest}): the same rule as any
     * field, rows being replaced as a whole.
     *
     * @param orderRows the digest of the order's basket now
     * @param dealRows  the digest of the deal's rows now ("" when it has none)
     */
    public static FieldVerdict rows(SyncLink link, String orderRows, String dealRows) {
        return verdict(link, agreedRows(link), writtenRows(link), orderRows, dealRows, Objects::equals);
    }

    private static FieldVerdict verdict(SyncLink link, String agreed, String written, String orderValue, String dealValue,
                                        BiPredicate<String, String> same) {
        Objects.requireNonNull(same, "same");
        if (origin(link) == LinkOrigin.DEAL) {
            return FieldVerdict.DEAL_IS_SOURCE;
        }
        if (agreed != null && agreed.equals(orderValue)) {
            return FieldVerdict.SOURCE_UNCHANGED;
        }
        if (same.test(orderValue, dealValue)) {
            return FieldVerdict.ALREADY_THERE;
        }
        boolean stillOurs = written == null ? dealValue == null || dealValue.isEmpty() : same.test(written, dealValue);
        return stillOurs ? FieldVerdict.WRITE : FieldVerdict.PERSON_STANDS;
    }

    /** The digest of the product rows DealBridge last set on the deal, or null when it set none. */
    public static String writtenRows(SyncLink link) {
        if (link == null) {
            return null;
        }
        return link.getDealRowsDigest() != null ? link.getDealRowsDigest() : link.getDealFields().get(ROWS_KEY_OF_0_1);
    }

    /** The digest of the order's basket at the last agreement; what DealBridge set stands in on links that predate it. */
    public static String agreedRows(SyncLink link) {
        if (link == null) {
            return null;
        }
        if (link.getOrderRowsDigest() != null) {
            return link.getOrderRowsDigest();
        }
        String agreed = link.getOrderValues().get(ROWS_KEY_OF_0_1);
        return agreed != null ? agreed : writtenRows(link);
    }

    /** True when the order's basket differs from the last agreement (or none was recorded). */
    public static boolean rowsChanged(SyncLink link, String basketDigest) {
        String agreed = agreedRows(link);
        return agreed == null || !agreed.equals(basketDigest);
    }

    /** The digest of the order's basket a command carries (commands written by 0.1 carry it in {@code orderValues}). */
    public static String orderRows(DealCommand command) {
        return command.getOrderRowsDigest() != null ? command.getOrderRowsDigest()
                : command.getOrderValues().get(ROWS_KEY_OF_0_1);
    }

    /**
     * The pipeline of a linked deal.
     *
     * @param picked       the pipeline the mapping picks for the order's basket now
     * @param basketDigest the digest of the order's basket now
     * @param dealPipeline the deal's pipeline as last read or seen
     */
    public static PipelineVerdict pipeline(SyncLink link, long picked, String basketDigest, long dealPipeline) {
        return pipeline(link, picked, basketDigest, dealPipeline, false);
    }

    /**
     * The pipeline of a linked deal as read from the CRM, which also tells who moved it last.
     *
     * @param movedByDealBridge the deal's {@code MOVED_BY_ID} is DealBridge's own user (see {@link #writtenPipeline})
     */
    public static PipelineVerdict pipeline(SyncLink link, long picked, String basketDigest, long dealPipeline,
                                           boolean movedByDealBridge) {
        return pipeline(link, picked, basketDigest, dealPipeline, null, LastMove.byDealBridge(movedByDealBridge));
    }

    /**
     * The pipeline of a linked deal as read from the CRM by the command {@code commandId}, which may be executed again
     * after a crash (see {@link #writtenPipeline(SyncLink, String, long, LastMove)}).
     */
    public static PipelineVerdict pipeline(SyncLink link, long picked, String basketDigest, long dealPipeline, String commandId,
                                           LastMove lastMove) {
        if (origin(link) == LinkOrigin.DEAL) {
            return PipelineVerdict.DEAL_IS_SOURCE;
        }
        if (writtenPipeline(link, commandId, dealPipeline, lastMove) != dealPipeline) {
            return PipelineVerdict.PERSON_MOVED;
        }
        if (!rowsChanged(link, basketDigest) || picked == dealPipeline) {
            return PipelineVerdict.STAY;
        }
        return PipelineVerdict.MOVE;
    }

    /**
     * The pipeline DealBridge last wrote on a deal: the link's ({@code dealFields}, else {@code categoryId}), unless
     * the deal shows a move of DealBridge's own that the link does not know of. Such a link was lost: the CRM
     * connector moved the deal and died before the link of that write was committed, and the command, consumed again,
     * is decided on the link before it. The connector commits the intent of every move of a linked deal on
     * {@code deal-links} before the call ({@link #moveIntent}), and the link it judges on is never older than that
     * intent: a deal that DealBridge's user moved last ({@code MOVED_BY_ID}: a move changes the stage), that is not
     * where the link saw it, and that the link's intent moved there was moved there by DealBridge. Without such an
     * intent it was a person's move: DealBridge's user may have set only its stage there since, by a write whose link
     * was lost too (OwnershipPropertyTest seed 13, history 258: taken for DealBridge's, the manager's pipeline was left
     * when the basket changed).
     *
     * @param dealPipeline      the deal's pipeline as read
     * @param movedByDealBridge the deal's {@code MOVED_BY_ID} is DealBridge's own user
     */
    public static long writtenPipeline(SyncLink link, long dealPipeline, boolean movedByDealBridge) {
        return unrecordedOwnMove(link, dealPipeline, movedByDealBridge) ? dealPipeline : recordedPipeline(link);
    }

    /**
     * The pipeline DealBridge last wrote on a deal, as {@link #writtenPipeline(SyncLink, long, boolean)} tells it, for a
     * command the link may carry the move intent of ({@link #moveIntent}): a move of that command found applied is
     * DealBridge's whoever set the stage since, and a move found undone by a person after it was DealBridge's last write
     * (so the deal's pipeline differs from it: the person's pipeline stands, and later basket changes leave it too once
     * the link records it, {@link #unrecordedPipeline}).
     */
    public static long writtenPipeline(SyncLink link, String commandId, long dealPipeline, LastMove lastMove) {
        return switch (moveIntent(link, commandId, dealPipeline, lastMove)) {
            case APPLIED -> dealPipeline;
            case MOVED_BACK_BY_PERSON -> link.getMoveIntent().getToPipeline();
            default -> writtenPipeline(link, dealPipeline, lastMove.byDealBridge());
        };
    }

    /**
     * The pipeline DealBridge wrote on the deal by a write the link does not record (a move whose link a crash lost),
     * for the link after this command to record; null when the link records DealBridge's last pipeline already.
     */
    public static Long unrecordedPipeline(SyncLink link, String commandId, long dealPipeline, LastMove lastMove) {
        if (link == null) {
            return null;
        }
        long written = writtenPipeline(link, commandId, dealPipeline, lastMove);
        return written != recordedPipeline(link) ? written : null;
    }

    /** True when the deal is in a pipeline DealBridge moved it to by a write whose link was lost ({@link #writtenPipeline}). */
    public static boolean unrecordedOwnMove(SyncLink link, long dealPipeline, boolean movedByDealBridge) {
        MoveIntent intent = link.getMoveIntent();
        return movedByDealBridge && link.getCategoryId() != dealPipeline && recordedPipeline(link) != dealPipeline
                && intent != null && intent.getToPipeline() == dealPipeline;
    }

    /**
     * The pair's last agreement as {@link PairDecision} reads it, judged against the deal as read ({@code MOVED_BY_ID}
     * says who set its stage). Both connectors decide with this. Two readings of the link's stage need who moved:
     * <ul>
     *   <li>a stage DealBridge's own user set that the link does not show is one of DealBridge's writes whose link was
     *       lost in a crash or is not yet read, an echo of some status the order had: not the deal's move, so it can
     *       never win against the order's change as "the deal's later change". It is agreed with the status it maps to
     *       under the mapping (the status DealBridge wrote it for), not with the link's status: a link can be older than
     *       that write, or record a write the CRM ignored, and a stage paired with a status it does not stand for
     *       reads as "neither side moved", a tie the later change decides, which DealBridge's own write can win
     *       (CrashLoopBenchmark seed 70843509061136, order 212: the shop's F reverted to the P the deal's move was
     *       written for);</li>
     *   <li>a stage a person set that is the one DealBridge last wrote (the link's {@code dealFields} {@link #STAGE})
     *       and the link shows was set after that write: a move since the link, though the stage reads the same (a
     *       manager moving the deal back over a later write of ours that this link does not show yet; CrashLoopTest
     *       seed 37034695896898, order 87, where the manager's move was overwritten). No stage is agreed then, so the
     *       deal counts as moved.</li>
     * </ul>
     * The price, as for {@link #writtenPipeline}: a person working as the webhook's user is DealBridge.
     *
     * @param mapping the site's mapping, which tells the status a stage stands for; null when not known here (the link's
     *                status is taken then)
     * @return null when the pair has no link
     */
    public static PairDecision.Agreed agreed(SyncLink link, long dealPipeline, String dealStage, boolean stageSetByDealBridge,
                                             boolean stageSetByPerson, PairDecision.Translation mapping) {
        return agreed(link, null, dealPipeline, dealStage, new LastMove(stageSetByDealBridge, stageSetByPerson, null), mapping);
    }

    /** {@link #agreed(SyncLink, long, String, boolean, boolean, PairDecision.Translation)} without the mapping. */
    public static PairDecision.Agreed agreed(SyncLink link, String dealStage, boolean stageSetByDealBridge, boolean stageSetByPerson) {
        return agreed(link, null, 0, dealStage, new LastMove(stageSetByDealBridge, stageSetByPerson, null), null);
    }

    /**
     * {@link #agreed(SyncLink, String, boolean, boolean)} for the command {@code commandId}, which may be executed again
     * after a crash: a deal a person moved back after this command's move ({@link MoveIntentVerdict#MOVED_BACK_BY_PERSON})
     * has moved since the link, whatever its stage reads, so no stage is agreed.
     *
     * @param dealPipeline the deal's pipeline as read
     */
    public static PairDecision.Agreed agreed(SyncLink link, String commandId, long dealPipeline, String dealStage, LastMove lastMove) {
        return agreed(link, commandId, dealPipeline, dealStage, lastMove, null);
    }

    private static PairDecision.Agreed agreed(SyncLink link, String commandId, long dealPipeline, String dealStage, LastMove lastMove,
                                              PairDecision.Translation mapping) {
        if (link != null && moveIntent(link, commandId, dealPipeline, lastMove) == MoveIntentVerdict.MOVED_BACK_BY_PERSON) {
            return new PairDecision.Agreed(null, link.getStatusId().toString());
        }
        boolean stageSetByDealBridge = lastMove.byDealBridge();
        boolean stageSetByPerson = lastMove.byPerson();
        if (link == null) {
            return null;
        }
        String linkStage = link.getStageId().toString();
        String status = link.getStatusId().toString();
        if (dealStage == null) {
            return new PairDecision.Agreed(linkStage, status);
        }
        if (stageSetByDealBridge && !dealStage.equals(linkStage)) {
            String writtenFor = mapping == null ? null : mapping.statusFor(dealPipeline, dealStage).orElse(null);
            return new PairDecision.Agreed(dealStage, writtenFor != null ? writtenFor : status);
        }
        if (stageSetByPerson && dealStage.equals(linkStage) && dealStage.equals(written(link, STAGE))) {
            return new PairDecision.Agreed(null, status);
        }
        return new PairDecision.Agreed(linkStage, status);
    }

    /**
     * True when the order save a command was decided for is one the link has already taken into account (its
     * {@code orderVersion}, the store's count of saves, is at least the command's): the command's status is then no
     * newer than the link's. Such a command is a replay of a write made before a crash, or was decided before the store
     * connector moved the order (a manager's stage change reached it) or let the deal's stage stand; its older status
     * must not be written over the pair's agreement as "the order's change" (CrashLoopBenchmark seed 61255093050292,
     * orders 69 and 2634: the manager's move from WON back to NEW was overwritten by a command decided on F). Unknown
     * versions (null) are never taken as older.
     *
     * @param orderVersion the store's version of the order save the command was decided for, or null
     */
    public static boolean orderSaveSeen(SyncLink link, Long orderVersion) {
        return link != null && link.getOrderVersion() != null && orderVersion != null && orderVersion <= link.getOrderVersion();
    }

    /** The link's {@code orderVersion} once it has taken into account the order save {@code orderVersion} too. */
    public static Long laterOrderSave(SyncLink link, Long orderVersion) {
        Long seen = link == null ? null : link.getOrderVersion();
        if (seen == null || orderVersion == null) {
            return orderVersion != null ? orderVersion : seen;
        }
        return Math.max(seen, orderVersion);
    }

    /** The pipeline the link says DealBridge last wrote (links that predate {@code dealFields} have only their own). */
    private static long recordedPipeline(SyncLink link) {
        String written = written(link, PIPELINE);
        return written != null ? Long.parseLong(written) : link.getCategoryId();
    }

    /** The fields of a link's {@code dealFields} after writing {@code written} on top of what was written before. */
    public static Map<String, String> afterWriting(SyncLink link, Map<String, String> written) {
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        if (link != null) {
            fields.putAll(link.getDealFields());
            fields.remove(ROWS_KEY_OF_0_1);  // now dealRowsDigest (see rowsAfterWriting)
        }
        fields.putAll(written);
        return fields;
    }

    /** A link's {@code dealRowsDigest} after writing rows with this digest (null: no rows written now). */
    public static String rowsAfterWriting(SyncLink link, String writtenRows) {
        return writtenRows != null ? writtenRows : writtenRows(link);
    }
}
