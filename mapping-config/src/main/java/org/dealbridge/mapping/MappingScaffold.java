package org.dealbridge.mapping;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.CrmUser;
import org.dealbridge.bitrix.crm.DealUserField;
import org.dealbridge.bitrix.crm.Pipeline;
import org.dealbridge.bitrix.crm.Stage;
import org.dealbridge.bitrix.crm.StageSemantics;
import org.dealbridge.bitrix.store.OrderStatus;
import org.dealbridge.bitrix.store.PaySystem;
import org.dealbridge.bitrix.store.StoreApi;

/**
 * Writes a starting document from the live portal and store: every pipeline with every stage, every order status.
 *
 * <p>Only pairs that are certain become live entries, so the result is valid as written and never maps a status
 * by guesswork: a stage whose id (without its {@code C{n}:} prefix) equals a status id is paired with it (the
 * seed's advice: mirror the stages as statuses), the store's system status {@code N} goes to the first stage and
 * {@code F} to the first success stage when those are not taken, and the first failure stage becomes the
 * {@code cancelled} stage. Every other stage is written as a commented pair for the admin to complete, and the
 * store's statuses are listed in a comment.
 */
public final class MappingScaffold {

    private static final String NEW_ORDER_STATUS = "N";
    private static final String COMPLETED_ORDER_STATUS = "F";

    private MappingScaffold() {
    }

    public static String generate(String siteId, CrmApi crm, StoreApi store) {
        List<Pipeline> pipelines = new ArrayList<>(crm.pipelines());
        pipelines.sort(Comparator.comparingLong(Pipeline::id));
        List<OrderStatus> statuses = store.statuses().stream().filter(s -> "O".equals(s.type())).toList();
        Set<String> statusIds = new HashSet<>();
        statuses.forEach(s -> statusIds.add(s.id()));
        List<CrmUser> activeUsers = crm.users().stream().filter(CrmUser::active)
                .sorted(Comparator.comparingLong(CrmUser::id)).toList();
        List<PaySystem> activePaySystems = store.paySystems().stream().filter(PaySystem::active)
                .sorted(Comparator.comparingLong(PaySystem::id)).toList();
        if (pipelines.isEmpty() || activeUsers.isEmpty() || activePaySystems.isEmpty()) {
            throw new IllegalStateException("cannot scaffold: the portal has " + pipelines.size() + " pipelines, "
                    + activeUsers.size() + " active users and " + activePaySystems.size() + " active pay systems; "
                    + "each needs at least one");
        }
        long defaultPipeline = pipelines.stream().filter(Pipeline::isDefault).findFirst()
                .orElse(pipelines.get(0)).id();

        StringBuilder out = new StringBuilder();
        out.append("# Starting mapping for site ").append(siteId).append(", written by `dealbridge mapping scaffold --live`.\n");
        out.append("# Live entries are certain matches; complete the commented pairs, then `mapping publish`.\n");
        out.append("# Store order statuses: ");
        out.append(String.join(", ", statuses.stream().map(s -> s.name() == null || s.name().isBlank()
                ? s.id() : s.id() + " (" + s.name() + ")").toList())).append('\n');
        out.append("site: ").append(siteId).append('\n');
        out.append("pipelines:\n");
        out.append("  default: ").append(defaultPipeline).append('\n');
        out.append("  bySection: []        # e.g. - { section: 12, pipeline: 2 }   (subsections inherit)\n");
        out.append("stages:\n");
        Map<Long, String> cancelled = new TreeMap<>();
        for (Pipeline pipeline : pipelines) {
            List<Stage> stages = crm.stages(pipeline.id());
            out.append("  \"").append(pipeline.id()).append("\":   # ").append(oneLine(pipeline.name())).append('\n');
            List<String> lines = stageLines(pipeline.id(), stages, statusIds);
            lines.forEach(l -> out.append("    ").append(l).append('\n'));
            stages.stream().filter(s -> s.semantics() == StageSemantics.FAILURE).findFirst()
                    .ifPresent(s -> cancelled.put(pipeline.id(), s.statusId()));
        }
        out.append("responsible:\n");
        out.append("  default: ").append(activeUsers.get(0).id()).append("   # ")
                .append(oneLine(activeUsers.get(0).name() + " " + activeUsers.get(0).lastName())).append('\n');
        out.append("  byPipeline: {}\n");
        out.append("  contactOwner: false\n");
        List<DealUserField> fields = crm.dealUserFields();
        out.append("dealFields: {}   # order field -> deal field, e.g. paySystemId: UF_CRM_...");
        if (!fields.isEmpty()) {
            out.append("; deal fields: ").append(String.join(", ", fields.stream().map(DealUserField::fieldName).toList()));
        }
        out.append('\n');
        out.append("payment:\n");
        out.append("  default: ").append(activePaySystems.get(0).id()).append("   # ")
                .append(oneLine(activePaySystems.get(0).name())).append('\n');
        out.append("deal:\n  title: \"").append(MappingDocument.DEFAULT_DEAL_TITLE).append("\"\n");
        out.append("dealToOrder:\n  pipelines: []   # pipelines whose deals may create store orders\n");
        if (!cancelled.isEmpty()) {
            out.append("cancelled:         # stage a deal moves to when its order is cancelled\n");
            cancelled.forEach((p, stage) -> out.append("  \"").append(p).append("\": ").append(quoted(stage)).append('\n'));
        }
        return out.toString();
    }

    /** One line per stage: a live pair when certain, else a commented one. At least one live pair per pipeline. */
    private static List<String> stageLines(long pipeline, List<Stage> stages, Set<String> statusIds) {
        String prefix = pipeline == 0 ? "" : "C" + pipeline + ":";
        Map<Stage, String> paired = new java.util.LinkedHashMap<>();
        Set<String> usedStatuses = new HashSet<>();
        for (Stage stage : stages) {
            String bare = stage.statusId().startsWith(prefix) ? stage.statusId().substring(prefix.length()) : stage.statusId();
            if (statusIds.contains(bare) && usedStatuses.add(bare)) {
                paired.put(stage, bare);
            }
        }
        if (!stages.isEmpty() && statusIds.contains(NEW_ORDER_STATUS) && !usedStatuses.contains(NEW_ORDER_STATUS)
                && !paired.containsKey(stages.get(0))) {
            paired.put(stages.get(0), NEW_ORDER_STATUS);
            usedStatuses.add(NEW_ORDER_STATUS);
        }
        Optional<Stage> won = stages.stream().filter(s -> s.semantics() == StageSemantics.SUCCESS).findFirst();
        if (won.isPresent() && statusIds.contains(COMPLETED_ORDER_STATUS) && !usedStatuses.contains(COMPLETED_ORDER_STATUS)
                && !paired.containsKey(won.get())) {
            paired.put(won.get(), COMPLETED_ORDER_STATUS);
            usedStatuses.add(COMPLETED_ORDER_STATUS);
        }
        List<String> lines = new ArrayList<>();
        for (Stage stage : stages) {
            String status = paired.get(stage);
            String comment = "   # " + oneLine(stage.name());
            if (status != null) {
                lines.add("- { stage: " + quoted(stage.statusId()) + ", status: " + quoted(status) + " }" + comment);
            } else {
                lines.add("# - { stage: " + quoted(stage.statusId()) + ", status: ? }" + comment);
            }
        }
        if (paired.isEmpty()) {
            throw new IllegalStateException("cannot scaffold pipeline " + pipeline + ": none of its stages "
                    + stages.stream().map(Stage::statusId).toList() + " can be paired with a store status for sure");
        }
        return lines;
    }

    private static String quoted(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("[\\r\\n]+", " ").trim();
    }
}
