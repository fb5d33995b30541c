package org.dealbridge.mapping;

import static org.dealbridge.mapping.DocumentPath.field;
import static org.dealbridge.mapping.DocumentPath.index;
import static org.dealbridge.mapping.DocumentPath.key;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.CrmUser;
import org.dealbridge.bitrix.crm.DealUserField;
import org.dealbridge.bitrix.crm.Pipeline;
import org.dealbridge.bitrix.crm.Stage;
import org.dealbridge.bitrix.store.CatalogSection;
import org.dealbridge.bitrix.store.OrderStatus;
import org.dealbridge.bitrix.store.PaySystem;
import org.dealbridge.bitrix.store.StoreApi;

/**
 * Checks a document (already valid offline) against the live CRM and store: every pipeline and stage exists in
 * the CRM, every user exists and is active, every {@code UF_CRM_*} field exists on deals, every status is an order
 * status of the store, the pay system exists and is active, every catalog section exists. An unknown id is named
 * together with the ids that would be valid.
 */
public final class LiveMappingValidator implements DocumentCheck {

    /** Status type of order statuses in {@code sale.status.list} (D is for deliveries). */
    private static final String ORDER_STATUS_TYPE = "O";
    private static final int VALID_IDS_SHOWN = 30;

    private final CrmApi crm;
    private final StoreApi store;

    public LiveMappingValidator(CrmApi crm, StoreApi store) {
        this.crm = Objects.requireNonNull(crm, "crm");
        this.store = Objects.requireNonNull(store, "store");
    }

    @Override
    public List<MappingError> check(MappingDocument doc) {
        List<MappingError> errors = new ArrayList<>();
        Map<Long, Pipeline> pipelines = byId(crm.pipelines(), Pipeline::id);
        Map<Long, Map<String, Stage>> stagesOf = new HashMap<>();
        Function<Long, Map<String, Stage>> stages = pipeline -> stagesOf.computeIfAbsent(pipeline,
                p -> byId(crm.stages(p), Stage::statusId));

        // pipelines, wherever the document names one
        checkPipeline(doc.pipelines().defaultPipeline(), "pipelines.default", pipelines, errors);
        List<MappingDocument.SectionPipeline> bySection = doc.pipelines().bySection();
        for (int i = 0; i < bySection.size(); i++) {
            checkPipeline(bySection.get(i).pipeline(), field(index("pipelines.bySection", i), "pipeline"), pipelines, errors);
        }
        doc.responsible().byPipeline().keySet().forEach(k ->
                checkPipeline(Long.parseLong(k), key("responsible.byPipeline", k), pipelines, errors));
        List<Long> orderCreating = doc.dealToOrder().pipelines();
        for (int i = 0; i < orderCreating.size(); i++) {
            checkPipeline(orderCreating.get(i), index("dealToOrder.pipelines", i), pipelines, errors);
        }

        // stage tables and their statuses
        Map<String, OrderStatus> statuses = new HashMap<>();
        store.statuses().stream().filter(s -> ORDER_STATUS_TYPE.equals(s.type())).forEach(s -> statuses.put(s.id(), s));
        doc.stages().forEach((k, pairs) -> {
            long pipeline = Long.parseLong(k);
            String tablePath = key("stages", k);
            if (!checkPipeline(pipeline, tablePath, pipelines, errors)) {
                return;  // its stages cannot exist either; one error is enough
            }
            Map<String, Stage> known = stages.apply(pipeline);
            for (int i = 0; i < pairs.size(); i++) {
                MappingDocument.StagePair pair = pairs.get(i);
                String pairPath = index(tablePath, i);
                if (!known.containsKey(pair.stage())) {
                    errors.add(unknown(field(pairPath, "stage"), pair.stage(), "stage in CRM pipeline " + pipeline,
                            known.keySet()));
                }
                if (!statuses.containsKey(pair.status())) {
                    errors.add(unknown(field(pairPath, "status"), pair.status(), "order status in the store",
                            statuses.keySet()));
                }
            }
        });
        doc.cancelled().forEach((k, stage) -> {
            long pipeline = Long.parseLong(k);
            String path = key("cancelled", k);
            if (checkPipeline(pipeline, path, pipelines, errors) && !stages.apply(pipeline).containsKey(stage)) {
                errors.add(unknown(path, stage, "stage in CRM pipeline " + pipeline, stages.apply(pipeline).keySet()));
            }
        });

        // users
        Map<Long, CrmUser> users = byId(crm.users(), CrmUser::id);
        checkUser(doc.responsible().defaultUser(), "responsible.default", users, errors);
        doc.responsible().byPipeline().forEach((k, user) -> checkUser(user, key("responsible.byPipeline", k), users, errors));

        // deal custom fields
        if (!doc.dealFields().isEmpty()) {
            Map<String, DealUserField> fields = byId(crm.dealUserFields(), DealUserField::fieldName);
            doc.dealFields().forEach((orderField, customField) -> {
                if (!fields.containsKey(customField)) {
                    errors.add(unknown(field("dealFields", orderField), customField, "custom field on deals",
                            fields.keySet()));
                }
            });
        }

        // pay system
        Map<Long, PaySystem> paySystems = byId(store.paySystems(), PaySystem::id);
        Long paySystemId = doc.payment().defaultPaySystem();
        PaySystem paySystem = paySystems.get(paySystemId);
        if (paySystem == null) {
            errors.add(unknown("payment.default", paySystemId.toString(), "pay system in the store",
                    ids(paySystems.keySet())));
        } else if (!paySystem.active()) {
            errors.add(new MappingError("payment.default", paySystemId.toString(), "pay system \"" + paySystem.name()
                    + "\" is not active; active ones: " + ids(paySystems.values().stream().filter(PaySystem::active)
                    .map(PaySystem::id).toList())));
        }

        // catalog sections
        for (int i = 0; i < bySection.size(); i++) {
            Long section = bySection.get(i).section();
            Optional<CatalogSection> found = store.section(section);
            if (found.isEmpty()) {
                errors.add(new MappingError(field(index("pipelines.bySection", i), "section"), section.toString(),
                        "no such catalog section"));
            }
        }
        return errors;
    }

    private static boolean checkPipeline(Long pipeline, String path, Map<Long, Pipeline> pipelines,
                                         List<MappingError> errors) {
        if (pipelines.containsKey(pipeline)) {
            return true;
        }
        errors.add(unknown(path, pipeline.toString(), "pipeline in the CRM", ids(pipelines.keySet())));
        return false;
    }

    private static void checkUser(Long user, String path, Map<Long, CrmUser> users, List<MappingError> errors) {
        CrmUser found = users.get(user);
        List<Long> active = users.values().stream().filter(CrmUser::active).map(CrmUser::id).sorted().toList();
        if (found == null) {
            errors.add(unknown(path, user.toString(), "user in the CRM", ids(active)));
        } else if (!found.active()) {
            errors.add(new MappingError(path, user.toString(), "user " + user + " (" + found.name() + " "
                    + found.lastName() + ") is not active; active users: " + shown(ids(active))));
        }
    }

    private static MappingError unknown(String path, String value, String what, Collection<String> valid) {
        return new MappingError(path, value, "no such " + what + "; valid: " + shown(valid));
    }

    private static String shown(Collection<String> valid) {
        // Lists come sorted (numeric ids); sets of text ids are sorted here.
        List<String> sorted = valid instanceof List<String> list ? list : new ArrayList<>(new TreeSet<>(valid));
        if (sorted.size() > VALID_IDS_SHOWN) {
            return sorted.subList(0, VALID_IDS_SHOWN) + " and " + (sorted.size() - VALID_IDS_SHOWN) + " more";
        }
        return sorted.toString();
    }

    private static List<String> ids(Collection<Long> ids) {
        return ids.stream().sorted().map(String::valueOf).collect(Collectors.toList());
    }

    private static <K, V> Map<K, V> byId(List<V> values, Function<V, K> id) {
        Map<K, V> map = new HashMap<>();
        values.forEach(v -> map.putIfAbsent(id.apply(v), v));
        return map;
    }
}
