package org.dealbridge.bitrix.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixClient;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.bitrix.Idempotence;
import org.dealbridge.bitrix.LenientJson;

/**
 * The CRM methods DealBridge uses (reference §5-§9), over one {@link BitrixClient}.
 *
 * <p>Retries: reads and updates (which set absolute values) are retried on transient failures; adds never are — after a
 * {@link BitrixException.TransientFailure} on {@link #addDeal} call {@link #findDealsByOrigin} before adding again.
 */
public final class CrmApi {
    /** {@code entityTypeId} of deals in {@code crm.item.*} and {@code crm.category.*}. */
    public static final int DEAL_ENTITY_TYPE = 2;
    /** {@code crm.duplicate.findbycomm} accepts at most 20 values per call (reference §8.3). */
    public static final int MAX_COMM_VALUES = 20;

    private final BitrixClient client;

    public CrmApi(BitrixClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    public BitrixClient client() {
        return client;
    }

    /**
     * The CRM's own time now ({@link org.dealbridge.bitrix.PortalClock}); before any answer has told it, one
     * {@code crm.category.list} (small, read anyway by the mapping's checks) asks. Empty when the answers carry none.
     */
    public Optional<java.time.Instant> portalNow() {
        return client.portalNow().or(() -> {
            pipelines();
            return client.portalNow();
        });
    }

    // ---- deals ----

    /** {@code crm.deal.add}; returns the new id. Not retried on transient failures (see class doc). */
    public long addDeal(Map<String, ?> fields) {
        return asId("crm.deal.add", client.call("crm.deal.add", Map.of("fields", fields), Idempotence.NOT_IDEMPOTENT));
    }

    /**
     * {@code crm.deal.update}. Refuses {@code CATEGORY_ID}: the portal silently ignores it (pitfall §13.2) — use
     * {@link #moveDeal}. Retried on transient failures: an update sets absolute values, so repeating it is harmless.
     */
    public void updateDeal(long id, Map<String, ?> fields) {
        rejectCategory(id, fields);
        client.call("crm.deal.update", Map.of("id", id, "fields", fields), Idempotence.IDEMPOTENT);
    }

    /**
     * Moves a deal to another pipeline (and stage) with {@code crm.item.update} (reference §5.6); {@code crm.deal.update}
     * cannot. {@code stageId} must belong to {@code categoryId} ({@code C{id}:…}, or plain for pipeline 0). It is
     * required: what the portal picks when {@code stageId} is omitted is UNVERIFIED (reference §5.6).
     */
    public Deal moveDeal(long id, long categoryId, String stageId) {
        JsonNode result = client.call("crm.item.update", moveParams(id, categoryId, stageId), Idempotence.IDEMPOTENT);
        JsonNode item = result.get("item");
        if (item == null || !item.isObject()) {
            throw new LenientJson.MalformedValue("crm.item.update result.item", result, "an object");
        }
        return Deal.fromItem(item);
    }

    /** {@code crm.deal.get}; empty when the deal does not exist. */
    public Optional<Deal> getDeal(long id) {
        try {
            return Optional.of(Deal.fromClassic(client.call("crm.deal.get", Map.of("id", id))));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
    }

    /**
     * {@code crm.deal.list}, every page, by keyset on ID with {@code start=-1} (reference §3.2): no COUNT query, and a
     * deal deleted mid-scan cannot shift another out of view as it would with offsets. {@code select} null means the
     * portal default ({@code *}, {@code UF_*}); otherwise {@code ID} is added if missing.
     */
    public List<Deal> listDeals(Map<String, ?> filter, List<String> select) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("filter", filter == null ? Map.of() : filter);
        if (select != null) {
            List<String> withId = new ArrayList<>(select);
            if (withId.stream().noneMatch(f -> f.equalsIgnoreCase("ID") || f.equals("*"))) {
                withId.add(0, "ID");
            }
            params.put("select", withId);
        }
        List<Deal> deals = new ArrayList<>();
        client.exportById("crm.deal.list", params, "ID", null, page -> page.forEach(d -> deals.add(Deal.fromClassic(d))));
        return deals;
    }

    /** Deals linked to an external record (reference §12); more than one means a duplicate to clean up. */
    public List<Deal> findDealsByOrigin(String originatorId, String originId) {
        return listDeals(originFilter(originatorId, originId), List.of("*", "UF_*"));
    }

    /** The deal of an external record and whether this call created it. */
    public record OriginDeal(long dealId, boolean created) {
    }

    /**
     * The create-or-find pattern of reference §12: look the deal up by {@code ORIGINATOR_ID}+{@code ORIGIN_ID}, add it
     * only if absent, and when the add fails in a way that may have applied it (timeout, dropped connection, 5xx), look
     * again instead of adding twice. If it is still not there the failure is rethrown: a slow add may yet land, so the
     * caller retries the whole operation later. Not atomic: callers must serialize per external id (one worker per
     * key). When duplicates exist the lowest id is returned.
     */
    public OriginDeal findOrAddDeal(String originatorId, String originId, Map<String, ?> fields) {
        Optional<Long> existing = lowestDealId(originatorId, originId);
        if (existing.isPresent()) {
            return new OriginDeal(existing.get(), false);
        }
        Map<String, Object> withOrigin = new LinkedHashMap<>(fields);
        for (Map.Entry<String, String> e : Map.of("ORIGINATOR_ID", originatorId, "ORIGIN_ID", originId).entrySet()) {
            Object given = withOrigin.put(e.getKey(), e.getValue());
            if (given != null && !e.getValue().equals(String.valueOf(given))) {
                throw new IllegalArgumentException("findOrAddDeal: fields." + e.getKey() + "=" + given + " contradicts " + e.getValue());
            }
        }
        try {
            return new OriginDeal(addDeal(withOrigin), true);
        } catch (BitrixException.TransientFailure e) {
            if (!e.mayHaveBeenApplied()) {
                throw e;
            }
            Optional<Long> landed = lowestDealId(originatorId, originId);
            if (landed.isPresent()) {
                return new OriginDeal(landed.get(), true);
            }
            throw e;
        }
    }

    private Optional<Long> lowestDealId(String originatorId, String originId) {
        Map<String, Object> params = Map.of("filter", originFilter(originatorId, originId), "select", List.of("ID"),
                "order", Map.of("ID", "ASC"), "start", -1);
        return LenientJson.asElements("crm.deal.list result", client.call("crm.deal.list", params)).stream()
                .map(d -> LenientJson.requiredLong(d, "ID")).findFirst();
    }

    /** {@code crm.deal.productrows.set}: REPLACES all rows (an empty list clears them). */
    public void setProductRows(long dealId, List<ProductRow> rows) {
        client.call("crm.deal.productrows.set", Map.of("id", dealId, "rows", rows.stream().map(ProductRow::toFields).toList()),
                Idempotence.IDEMPOTENT);
    }

    public List<ProductRow> getProductRows(long dealId) {
        return LenientJson.asElements("crm.deal.productrows.get result", client.call("crm.deal.productrows.get", Map.of("id", dealId)))
                .stream().map(ProductRow::from).toList();
    }

    // ---- pipelines, stages ----

    /** Deal pipelines via {@code crm.category.list} (entityTypeId 2), which — unlike {@code crm.dealcategory.list} — includes id 0. */
    public List<Pipeline> pipelines() {
        return client.listAll("crm.category.list", Map.of("entityTypeId", DEAL_ENTITY_TYPE), "categories").stream()
                .map(Pipeline::from).toList();
    }

    /** Stages of a pipeline in board order: {@code ENTITY_ID} {@code DEAL_STAGE} for 0, {@code DEAL_STAGE_{id}} otherwise. */
    public List<Stage> stages(long pipelineId) {
        String entityId = pipelineId == 0 ? "DEAL_STAGE" : "DEAL_STAGE_" + pipelineId;
        Map<String, Object> params = Map.of("filter", Map.of("ENTITY_ID", entityId), "order", Map.of("SORT", "ASC"));
        return client.listAll("crm.status.list", params, null).stream().map(s -> Stage.from(s, pipelineId)).toList();
    }

    // ---- users ----

    /** Every user {@code user.get} returns, dismissed ones included (with {@code active=false}). */
    public List<CrmUser> users() {
        return client.listAll("user.get", Map.of("order", "ASC", "sort", "ID"), null).stream().map(CrmUser::from).toList();
    }

    /** One user; empty when no such user (the portal answers an empty list, not an error). */
    public Optional<CrmUser> user(long id) {
        JsonNode result = client.call("user.get", Map.of("FILTER", Map.of("ID", id)));
        return LenientJson.asElements("user.get result", result).stream().map(CrmUser::from).filter(u -> u.id() == id).findFirst();
    }

    // ---- contacts ----

    public ContactMatches findContactsByEmail(Collection<String> emails) {
        return findByComm("EMAIL", emails);
    }

    /**
     * Values are sent as given. Whether the portal matches differently formatted numbers ({@code +7 (999) 000-11-22}
     * vs {@code 79990001122}) is UNVERIFIED (reference §8.3), so callers should pass the number as the store holds it.
     */
    public ContactMatches findContactsByPhone(Collection<String> phones) {
        return findByComm("PHONE", phones);
    }

    /** {@code crm.duplicate.findbycomm} in chunks of 20 values; {@code []} from the portal means no match. */
    private ContactMatches findByComm(String type, Collection<String> values) {
        List<String> distinct = values.stream().filter(v -> v != null && !v.isBlank()).map(String::trim).distinct().toList();
        if (distinct.isEmpty()) {
            return ContactMatches.NONE;
        }
        Set<Long> contacts = new LinkedHashSet<>();
        Set<Long> leads = new LinkedHashSet<>();
        Set<Long> companies = new LinkedHashSet<>();
        for (int i = 0; i < distinct.size(); i += MAX_COMM_VALUES) {
            List<String> chunk = distinct.subList(i, Math.min(distinct.size(), i + MAX_COMM_VALUES));
            JsonNode result = LenientJson.asObject("crm.duplicate.findbycomm result",
                    client.call("crm.duplicate.findbycomm", Map.of("type", type, "values", chunk, "entity_type", "CONTACT")));
            contacts.addAll(LenientJson.longs(result, "CONTACT"));
            leads.addAll(LenientJson.longs(result, "LEAD"));
            companies.addAll(LenientJson.longs(result, "COMPANY"));
        }
        return new ContactMatches(List.copyOf(contacts), List.copyOf(leads), List.copyOf(companies));
    }

    /** {@code crm.contact.add}; returns the id. Not retried on transient failures: look the contact up first. */
    public long addContact(Map<String, ?> fields) {
        return asId("crm.contact.add", client.call("crm.contact.add", Map.of("fields", fields), Idempotence.NOT_IDEMPOTENT));
    }

    /** {@code crm.contact.get}; empty when it does not exist. */
    public Optional<Contact> contact(long id) {
        try {
            return Optional.of(Contact.from(client.call("crm.contact.get", Map.of("id", id))));
        } catch (BitrixException.NotFound e) {
            return Optional.empty();
        }
    }

    // ---- custom fields ----

    public List<DealUserField> dealUserFields() {
        JsonNode result = client.call("crm.deal.userfield.list", Map.of("order", Map.of("SORT", "ASC", "ID", "ASC")));
        return LenientJson.asElements("crm.deal.userfield.list result", result).stream().map(DealUserField::from).toList();
    }

    // ---- batch-friendly variants ----

    public static BatchCommand addDealCommand(String key, Map<String, ?> fields) {
        return BatchCommand.of(key, "crm.deal.add", Map.of("fields", fields));
    }

    public static BatchCommand updateDealCommand(String key, long id, Map<String, ?> fields) {
        rejectCategory(id, fields);
        return BatchCommand.of(key, "crm.deal.update", Map.of("id", id, "fields", fields));
    }

    public static BatchCommand moveDealCommand(String key, long id, long categoryId, String stageId) {
        return BatchCommand.of(key, "crm.item.update", moveParams(id, categoryId, stageId));
    }

    public static BatchCommand setProductRowsCommand(String key, Object dealIdOrRef, List<ProductRow> rows) {
        return BatchCommand.of(key, "crm.deal.productrows.set", Map.of("id", dealIdOrRef, "rows", rows.stream().map(ProductRow::toFields).toList()));
    }

    /** A list command whose first row can be referenced as {@code BatchCommand.ref(key, "0", "ID")}. */
    public static BatchCommand findDealsByOriginCommand(String key, String originatorId, String originId) {
        return BatchCommand.of(key, "crm.deal.list", Map.of("filter", originFilter(originatorId, originId), "select", List.of("ID"),
                "order", Map.of("ID", "ASC"), "start", -1));
    }

    /** The id created by an {@link #addDealCommand}; throws that command's error if it failed. */
    public static long addedId(BatchResult result, String key) {
        return asId("batch[" + key + "]", result.result(key));
    }

    /** The ids listed by a {@link #findDealsByOriginCommand}. */
    public static List<Long> foundDealIds(BatchResult result, String key) {
        List<Long> ids = new ArrayList<>();
        for (JsonNode row : LenientJson.asElements("batch[" + key + "]", result.result(key))) {
            ids.add(LenientJson.requiredLong(row, "ID"));
        }
        return ids;
    }

    private static Map<String, Object> originFilter(String originatorId, String originId) {
        Objects.requireNonNull(originatorId, "originatorId");
        Objects.requireNonNull(originId, "originId");
        return Map.of("ORIGINATOR_ID", originatorId, "ORIGIN_ID", originId);
    }

    private static Map<String, Object> moveParams(long id, long categoryId, String stageId) {
        Objects.requireNonNull(stageId, "stageId");
        String expectedPrefix = categoryId == 0 ? null : "C" + categoryId + ":";
        if (categoryId < 0 || (expectedPrefix != null && !stageId.startsWith(expectedPrefix)) || (expectedPrefix == null && stageId.matches("C\\d+:.*"))) {
            throw new IllegalArgumentException("moveDeal(" + id + "): stageId '" + stageId + "' does not belong to pipeline " + categoryId);
        }
        return Map.of("entityTypeId", DEAL_ENTITY_TYPE, "id", id, "fields", Map.of("categoryId", categoryId, "stageId", stageId));
    }

    private static void rejectCategory(long id, Map<String, ?> fields) {
        for (String k : fields.keySet()) {
            if (k.toUpperCase(Locale.ROOT).equals("CATEGORY_ID")) {
                throw new IllegalArgumentException("updateDeal(" + id + "): fields.CATEGORY_ID=" + fields.get(k)
                        + " would be silently ignored by crm.deal.update; use moveDeal(id, categoryId, stageId)");
            }
        }
    }

    private static long asId(String what, JsonNode result) {
        if (result != null && (result.isIntegralNumber() || (result.isTextual() && result.asText().matches("\\d+")))) {
            return result.asLong();
        }
        throw new LenientJson.MalformedValue(what + " result", result, "a new entity id");
    }
}
