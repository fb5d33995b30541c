package org.dealbridge.emulator;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The emulated Bitrix24 portal: pipelines and stages, users, contacts, deal user fields and deals, behind the classic
 * {@code crm.*} REST methods and {@code crm.item.*} for deals. Seeding and inspection methods are public; "as human"
 * changes behave like a manager's edit in the UI (they fire events, they are not in the call log).
 *
 * <p>Strictness follows the API reference: every classic value is a string ({@code "ID":"410"},
 * {@code "OPPORTUNITY":"1500.00"}), empty references are null, an unknown {@code CATEGORY_ID}/{@code STAGE_ID} on add
 * is silently defaulted, {@code CATEGORY_ID} and foreign stages are silently ignored on update, {@code CONTACT_IDS} is
 * never echoed, {@code UF_CRM_*} values are stored only for existing user fields.
 */
public final class CrmPortal {
    static final List<String> DEAL_FIELDS = List.of("ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID",
            "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING", "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH", "PROBABILITY",
            "CURRENCY_ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "LEAD_ID", "COMPANY_ID", "CONTACT_ID",
            "QUOTE_ID", "BEGINDATE", "CLOSEDATE", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE",
            "DATE_MODIFY", "OPENED", "CLOSED", "COMMENTS", "ADDITIONAL_INFO", "LOCATION_ID", "SOURCE_ID",
            "SOURCE_DESCRIPTION", "ORIGINATOR_ID", "ORIGIN_ID", "MOVED_BY_ID", "MOVED_TIME", "LAST_ACTIVITY_TIME",
            "LAST_ACTIVITY_BY", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM");
    private static final Set<String> TEXT_FIELDS = Set.of("TITLE", "TYPE_ID", "COMMENTS", "ADDITIONAL_INFO",
            "LOCATION_ID", "SOURCE_ID", "SOURCE_DESCRIPTION", "ORIGINATOR_ID", "ORIGIN_ID", "UTM_SOURCE", "UTM_MEDIUM",
            "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM");
    private static final Set<String> INT_FIELDS = Set.of("COMPANY_ID", "ASSIGNED_BY_ID", "PROBABILITY");
    private static final Set<String> MONEY_FIELDS = Set.of("OPPORTUNITY", "TAX_VALUE");
    private static final Set<String> CHAR_FIELDS = Set.of("IS_RECURRING", "IS_REPEATED_APPROACH",
            "IS_MANUAL_OPPORTUNITY", "OPENED");
    private static final Set<String> DATE_FIELDS = Set.of("BEGINDATE", "CLOSEDATE");
    private static final Set<String> CURRENCIES = Set.of("RUB", "USD", "EUR", "UAH", "BYN", "KZT");
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
    private static final List<String> DEFAULT_STAGES = List.of("NEW", "PREPARATION", "PREPAYMENT_INVOICE",
            "EXECUTING", "FINAL_INVOICE", "WON", "LOSE", "APOLOGY");
    private static final List<String> DEFAULT_STAGE_NAMES = List.of("New", "Preparing documents",
            "Prepayment invoice", "In progress", "Final invoice", "Deal won", "Deal lost", "Analyze failure");

    private final PortalTime time;
    private final OutboundEvents events;
    private final int webhookUserId;
    private final String currency;

    private final TreeMap<Integer, Pipeline> pipelines = new TreeMap<>();
    private final TreeMap<Integer, User> users = new TreeMap<>();
    private final TreeMap<Long, Map<String, Object>> contacts = new TreeMap<>();
    private final TreeMap<Long, Deal> deals = new TreeMap<>();
    private final LinkedHashMap<String, UserField> userFields = new LinkedHashMap<>();
    private long nextDealId = 1;
    private long nextContactId = 1;
    private long nextMultiFieldId = 1;
    private long nextRowId = 1;
    private int nextStatusRowId = 1;
    private int nextUserFieldId = 1;
    private int nextEnumItemId = 1;

    private static final class Pipeline {
        final int id;
        final String name;
        final int sort;
        final String created;
        final List<Stage> stages = new ArrayList<>();

        Pipeline(int id, String name, int sort, String created) {
            this.id = id;
            this.name = name;
            this.sort = sort;
            this.created = created;
        }

        String entityId() {
            return id == 0 ? "DEAL_STAGE" : "DEAL_STAGE_" + id;
        }

        Stage stage(String statusId) {
            for (Stage s : stages) {
                if (s.statusId.equals(statusId)) {
                    return s;
                }
            }
            return null;
        }

        Stage first() {
            return stages.stream().min(Comparator.comparingInt(s -> s.sort)).orElseThrow(
                    () -> new IllegalStateException("pipeline " + id + " has no stages"));
        }
    }

    private record Stage(int rowId, String statusId, String name, int sort, StageSemantics semantics, boolean system,
                         String color) {
    }

    private record User(int id, String name, String lastName, String email, boolean active) {
    }

    private record UserField(int id, String name, String type, boolean multiple, List<Map<String, Object>> items) {
    }

    private static final class Deal {
        final Map<String, Object> fields = new LinkedHashMap<>();
        final List<Long> contactIds = new ArrayList<>();
        final List<Map<String, Object>> rows = new ArrayList<>();

        String get(String name) {
            return (String) fields.get(name);
        }
    }

    CrmPortal(PortalTime time, OutboundEvents events, int webhookUserId, String currency) {
        this.time = time;
        this.events = events;
        this.webhookUserId = webhookUserId;
        this.currency = currency;
        Pipeline general = new Pipeline(0, "General", 100, time.nowText());
        pipelines.put(0, general);
        addDefaultStages(general);
        users.put(webhookUserId, new User(webhookUserId, "Webhook", "Owner", "admin@example.com", true));
        users.put(shopManagerId(), new User(shopManagerId(), "Shop", "Manager", "manager@example.com", true));
    }

    // =====================================================================================================
    // Seeding and inspection
    // =====================================================================================================

    /** Adds a deal pipeline with the historical default stage set, prefixed {@code C{id}:}. */
    public void addPipeline(int id, String name) {
        addPipeline(id, name, true);
    }

    /** Adds a deal pipeline; without default stages, add them with {@link #addStage}. */
    public synchronized void addPipeline(int id, String name, boolean withDefaultStages) {
        if (id <= 0) {
            throw new IllegalArgumentException("pipeline id: must be positive (0 is the built-in General), got " + id);
        }
        if (pipelines.containsKey(id)) {
            throw new IllegalArgumentException("pipeline id: " + id + " already exists");
        }
        Pipeline p = new Pipeline(id, requireText(name, "pipeline name"), 100 + 10 * pipelines.size(), time.nowText());
        pipelines.put(id, p);
        if (withDefaultStages) {
            addDefaultStages(p);
        }
    }

    private void addDefaultStages(Pipeline p) {
        for (int i = 0; i < DEFAULT_STAGES.size(); i++) {
            String code = DEFAULT_STAGES.get(i);
            StageSemantics sem = code.equals("WON") ? StageSemantics.SUCCESS : code.equals("LOSE")
                    ? StageSemantics.FAILURE : code.equals("APOLOGY") ? StageSemantics.APOLOGY : StageSemantics.PROCESS;
            boolean system = code.equals("NEW") || code.equals("WON") || code.equals("LOSE");
            String color = sem == StageSemantics.SUCCESS ? "#7BD500" : sem.isFinal() ? "#FF5752" : "#39A8EF";
            p.stages.add(new Stage(nextStatusRowId++, prefixed(p.id, code), DEFAULT_STAGE_NAMES.get(i), (i + 1) * 10,
                    sem, system, color));
        }
    }

    /** Adds a stage after the existing ones; {@code statusId} gets the {@code C{id}:} prefix if it lacks it. */
    public synchronized String addStage(int pipelineId, String statusId, String name, StageSemantics semantics) {
        Pipeline p = pipeline(pipelineId);
        int sort = p.stages.stream().mapToInt(s -> s.sort).max().orElse(0) + 10;
        return addStage(pipelineId, statusId, name, semantics, sort);
    }

    public synchronized String addStage(int pipelineId, String statusId, String name, StageSemantics semantics, int sort) {
        Pipeline p = pipeline(pipelineId);
        String id = prefixed(pipelineId, requireText(statusId, "statusId"));
        if (p.stage(id) != null) {
            throw new IllegalArgumentException("statusId: " + id + " already exists in pipeline " + pipelineId);
        }
        p.stages.add(new Stage(nextStatusRowId++, id, requireText(name, "stage name"), sort,
                semantics == null ? StageSemantics.PROCESS : semantics, false, "#ACE9FB"));
        p.stages.sort(Comparator.comparingInt(s -> s.sort));
        return id;
    }

    /** Stage ids of a pipeline in stage order. */
    public synchronized List<String> stages(int pipelineId) {
        List<String> ids = new ArrayList<>();
        pipeline(pipelineId).stages.forEach(s -> ids.add(s.statusId));
        return ids;
    }

    private Pipeline pipeline(int id) {
        Pipeline p = pipelines.get(id);
        if (p == null) {
            throw new IllegalArgumentException("pipelineId: no pipeline " + id);
        }
        return p;
    }

    private static String prefixed(int pipelineId, String statusId) {
        if (pipelineId == 0 || statusId.startsWith("C" + pipelineId + ":")) {
            return statusId;
        }
        return "C" + pipelineId + ":" + statusId;
    }

    public void addUser(int id, String name, boolean active) {
        addUser(id, name, "", "user" + id + "@example.com", active);
    }

    public synchronized void addUser(int id, String name, String lastName, String email, boolean active) {
        if (id <= 0) {
            throw new IllegalArgumentException("user id: must be positive, got " + id);
        }
        users.put(id, new User(id, requireText(name, "user name"), lastName == null ? "" : lastName, email, active));
    }

    /** Adds a contact (no event); {@code email}/{@code phone} may be null. Returns its id. */
    public synchronized long addContact(String name, String lastName, Integer assignedById, String email, String phone) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("NAME", name);
        fields.put("LAST_NAME", lastName);
        if (assignedById != null) {
            fields.put("ASSIGNED_BY_ID", assignedById);
        }
        if (email != null) {
            fields.put("EMAIL", List.of(Map.of("VALUE", email, "VALUE_TYPE", "WORK")));
        }
        if (phone != null) {
            fields.put("PHONE", List.of(Map.of("VALUE", phone, "VALUE_TYPE", "MOBILE")));
        }
        return contactAdd(fields);
    }

    /** Adds a deal user field such as {@code UF_CRM_PAY_SYSTEM} of type {@code string}, {@code integer}, ... */
    public synchronized void addDealUserField(String fieldName, String type) {
        addUserField(fieldName, type, false, List.of());
    }

    public synchronized void addDealUserField(String fieldName, String type, boolean multiple) {
        addUserField(fieldName, type, multiple, List.of());
    }

    /** Adds an enumeration deal user field; returns the item ids by value (deals store the item id). */
    public synchronized Map<String, String> addDealEnumerationField(String fieldName, String... values) {
        UserField field = addUserField(fieldName, "enumeration", false, List.of(values));
        Map<String, String> ids = new LinkedHashMap<>();
        for (Map<String, Object> item : field.items) {
            ids.put((String) item.get("VALUE"), (String) item.get("ID"));
        }
        return ids;
    }

    private UserField addUserField(String fieldName, String type, boolean multiple, List<String> values) {
        String name = requireText(fieldName, "fieldName").toUpperCase(Locale.ROOT);
        if (!name.startsWith("UF_CRM_")) {
            name = "UF_CRM_" + (name.startsWith("UF_") ? name.substring(3) : name);
        }
        if (!name.matches("[A-Z0-9_]{1,50}")) {
            throw new IllegalArgumentException("fieldName: '" + fieldName + "' is not a valid user field code");
        }
        if (userFields.containsKey(name)) {
            throw new IllegalArgumentException("fieldName: " + name + " already exists");
        }
        List<Map<String, Object>> items = new ArrayList<>();
        int sort = 10;
        for (String v : values) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("ID", Integer.toString(nextEnumItemId++));
            item.put("SORT", Integer.toString(sort));
            item.put("VALUE", v);
            item.put("DEF", "N");
            item.put("XML_ID", v);
            items.add(item);
            sort += 10;
        }
        UserField f = new UserField(nextUserFieldId++, name, requireText(type, "type"), multiple, items);
        userFields.put(name, f);
        for (Deal d : deals.values()) {
            d.fields.put(name, emptyUserFieldValue(f));
        }
        return f;
    }

    /** A snapshot of a deal as {@code crm.deal.get} returns it, or null. */
    public synchronized Map<String, Object> deal(long id) {
        Deal d = deals.get(id);
        return d == null ? null : new LinkedHashMap<>(d.fields);
    }

    public synchronized List<Map<String, Object>> deals() {
        List<Map<String, Object>> out = new ArrayList<>();
        deals.values().forEach(d -> out.add(new LinkedHashMap<>(d.fields)));
        return out;
    }

    /** Deals carrying this {@code ORIGINATOR_ID}/{@code ORIGIN_ID} pair; more than one means the client duplicated. */
    public synchronized List<Map<String, Object>> dealsByOrigin(String originatorId, String originId) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Deal d : deals.values()) {
            if (java.util.Objects.equals(d.get("ORIGINATOR_ID"), originatorId)
                    && java.util.Objects.equals(d.get("ORIGIN_ID"), originId)) {
                out.add(new LinkedHashMap<>(d.fields));
            }
        }
        return out;
    }

    public synchronized List<Long> dealContactIds(long dealId) {
        Deal d = deals.get(dealId);
        return d == null ? List.of() : new ArrayList<>(d.contactIds);
    }

    public synchronized List<Map<String, Object>> dealProductRows(long dealId) {
        Deal d = deals.get(dealId);
        List<Map<String, Object>> out = new ArrayList<>();
        if (d != null) {
            d.rows.forEach(r -> out.add(new LinkedHashMap<>(r)));
        }
        return out;
    }

    public synchronized Map<String, Object> contact(long id) {
        Map<String, Object> c = contacts.get(id);
        return c == null ? null : new LinkedHashMap<>(c);
    }

    /**
     * Creates a deal the way a manager does in the UI (same defaulting as REST), firing {@code ONCRMDEALADD}. The
     * manager is {@code byUserId} when given, else the deal's {@code ASSIGNED_BY_ID}, else the webhook's user.
     */
    public synchronized long addDealAsHuman(Map<String, ?> fields) {
        Map<String, Object> f = new LinkedHashMap<>(fields);
        Long by = Params.asLong(f.remove("byUserId"));
        Long responsible = Params.asLong(f.get("ASSIGNED_BY_ID"));
        return dealAdd(f, by != null ? by.intValue() : person(responsible));
    }

    /**
     * Who a manager's edit is made by: {@code byUserId} when given, else the deal's responsible (the manager who owns
     * it). A person's edit then carries their id in {@code MODIFY_BY_ID}/{@code MOVED_BY_ID}, as in the UI, which is
     * how DealBridge tells a person's change from its own writes (made as the webhook's user).
     */
    private int humanUser(Deal d, Map<String, Object> changes) {
        Long by = Params.asLong(changes.remove("byUserId"));
        if (by != null) {
            return by.intValue();
        }
        String responsible = d.get("ASSIGNED_BY_ID");
        return person(responsible == null || responsible.isEmpty() ? null : Long.parseLong(responsible));
    }

    /**
     * The person behind an edit in the UI when a test names none: the responsible, unless there is none or it is the
     * webhook's user (deals DealBridge made and assigned to its own account); then the portal's shop manager. An edit
     * in the UI is never the webhook's user's unless a test says so ({@code byUserId}): that user is DealBridge, whose
     * writes are told from a person's by {@code MODIFY_BY_ID}/{@code MOVED_BY_ID}.
     */
    private int person(Long responsible) {
        return responsible != null && responsible > 0 && responsible != webhookUserId ? responsible.intValue() : shopManagerId();
    }

    /** The shop manager who works in the UI (added at start, its id next to the webhook user's). */
    public int shopManagerId() {
        return webhookUserId + 1;
    }

    /**
     * Edits a deal the way a manager does in the UI, firing {@code ONCRMDEALUPDATE}. Unlike REST, a manager can also
     * move the deal to another pipeline ({@code CATEGORY_ID}), which fires only {@code ONCRMDEALMOVETOCATEGORY}.
     */
    public synchronized void updateDealAsHuman(long id, Map<String, ?> fields) {
        Deal d = requireDeal(id);
        Map<String, Object> changes = new LinkedHashMap<>(fields);
        int by = humanUser(d, changes);
        Long category = Params.asLong(changes.remove("CATEGORY_ID"));
        if (category != null && category.intValue() != Integer.parseInt(d.get("CATEGORY_ID"))) {
            Pipeline target = pipelines.get(category.intValue());
            if (target == null) {
                throw new IllegalArgumentException("CATEGORY_ID: no pipeline " + category);
            }
            String stage = Params.asString(changes.remove("STAGE_ID"));
            moveToCategory(d, target, stage, by);
            if (!changes.isEmpty()) {
                applyUpdate(d, changes, by);
            }
            return;
        }
        dealUpdate(id, changes, by);
    }

    /**
     * Sets a deal's product rows the way a manager does in the deal card ({@code PRODUCT_ID}, {@code PRODUCT_NAME},
     * {@code PRICE}, {@code QUANTITY} per row, as {@code crm.deal.productrows.set} takes them), then saves the deal,
     * which fires {@code ONCRMDEALUPDATE}.
     */
    public synchronized void setProductRowsAsHuman(long dealId, List<Map<String, ?>> rows) {
        Deal d = requireDeal(dealId);
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("id", dealId);
        raw.put("rows", new ArrayList<Object>(rows));
        productRowsSet(new Params(raw));
        // saving the deal card: the manager is its last modifier
        d.fields.put("MODIFY_BY_ID", Integer.toString(humanUser(d, new LinkedHashMap<>())));
        d.fields.put("DATE_MODIFY", time.nowText());
        events.fire(Portal.CRM, "ONCRMDEALUPDATE", Map.of("ID", Long.toString(dealId)));
    }

    public synchronized void deleteDealAsHuman(long id) {
        requireDeal(id);
        deals.remove(id);
        events.fire(Portal.CRM, "ONCRMDEALDELETE", Map.of("ID", Long.toString(id)));
    }

    private Deal requireDeal(long id) {
        Deal d = deals.get(id);
        if (d == null) {
            throw new IllegalArgumentException("deal id: no deal " + id);
        }
        return d;
    }

    private static String requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + ": must not be blank");
        }
        return value;
    }

    // =====================================================================================================
    // REST methods
    // =====================================================================================================

    Map<String, RestMethod> methods() {
        Map<String, RestMethod> m = new HashMap<>();
        m.put("crm.deal.add", p -> sync(() -> dealAdd(fieldsParam(p), webhookUserId)));
        m.put("crm.deal.update", p -> sync(() -> {
            long id = idParam(p, "ID is not defined or invalid.");
            if (!deals.containsKey(id)) {
                throw BitrixError.classic("Not found");
            }
            dealUpdate(id, fieldsParam(p), webhookUserId);
            return true;
        }));
        m.put("crm.deal.get", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "ID is not defined or invalid."));
            if (d == null) {
                throw BitrixError.classic("Not found");
            }
            return new LinkedHashMap<>(d.fields);
        }));
        m.put("crm.deal.delete", p -> sync(() -> {
            long id = idParam(p, "ID is not defined or invalid.");
            if (deals.remove(id) == null) {
                throw BitrixError.classic("Not found");
            }
            events.fire(Portal.CRM, "ONCRMDEALDELETE", Map.of("ID", Long.toString(id)));
            return true;
        }));
        m.put("crm.deal.list", p -> sync(() -> dealList(p)));
        m.put("crm.deal.fields", p -> sync(this::dealFields));
        m.put("crm.deal.productrows.set", p -> sync(() -> productRowsSet(p)));
        m.put("crm.deal.productrows.get", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "The parameter id is invalid or not defined."));
            if (d == null) {
                throw BitrixError.classic("Not found.");
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            d.rows.forEach(r -> rows.add(new LinkedHashMap<>(r)));
            return rows;
        }));
        m.put("crm.deal.userfield.list", p -> sync(this::userFieldList));
        m.put("crm.deal.contact.items.get", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "The parameter ownerEntityID is invalid or not defined."));
            if (d == null) {
                throw BitrixError.classic("Not found.");
            }
            List<Map<String, Object>> items = new ArrayList<>();
            for (int i = 0; i < d.contactIds.size(); i++) {
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("CONTACT_ID", d.contactIds.get(i));
                item.put("SORT", (i + 1) * 10);
                item.put("ROLE_ID", 0);
                item.put("IS_PRIMARY", i == 0 ? "Y" : "N");
                items.add(item);
            }
            return items;
        }));
        m.put("crm.deal.contact.items.set", p -> sync(() -> contactItemsSet(p)));
        m.put("crm.deal.contact.add", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "The parameter ownerEntityID is invalid or not defined."));
            if (d == null) {
                throw BitrixError.classic("Not found.");
            }
            Map<String, Object> f = fieldsParam(p);
            Long cid = Params.asLong(f.get("CONTACT_ID"));
            if (cid == null || cid <= 0) {
                throw BitrixError.classic("The parameter fields must contain CONTACT_ID.");
            }
            if (d.contactIds.contains(cid)) {
                return false; // already linked
            }
            List<Long> ids = new ArrayList<>(d.contactIds);
            if (Params.isYes(f.get("IS_PRIMARY"))) {
                ids.add(0, cid);
            } else {
                ids.add(cid);
            }
            setContacts(d, ids);
            return true;
        }));
        m.put("crm.deal.contact.delete", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "The parameter ownerEntityID is invalid or not defined."));
            if (d == null) {
                throw BitrixError.classic("Not found.");
            }
            Long cid = Params.asLong(fieldsParam(p).get("CONTACT_ID"));
            List<Long> ids = new ArrayList<>(d.contactIds);
            boolean removed = ids.remove(cid);
            setContacts(d, ids);
            return removed;
        }));
        m.put("crm.deal.contact.items.delete", p -> sync(() -> {
            Deal d = deals.get(idParam(p, "The parameter ownerEntityID is invalid or not defined."));
            if (d == null) {
                throw BitrixError.classic("Not found.");
            }
            setContacts(d, List.of());
            return true;
        }));
        m.put("crm.item.get", p -> sync(() -> Map.of("item", itemOf(itemDeal(p)))));
        m.put("crm.item.update", p -> sync(() -> itemUpdate(p)));
        m.put("crm.item.list", p -> sync(() -> itemList(p)));
        m.put("crm.category.list", p -> sync(() -> categoryList(p)));
        m.put("crm.category.get", p -> sync(() -> {
            requireDealEntityType(p);
            Long id = Params.asLong(p.exact("id"));
            Pipeline pl = id == null ? null : pipelines.get(id.intValue());
            if (pl == null) {
                throw new BitrixError(400, "NOT_FOUND", "Element not found");
            }
            return Map.of("category", categoryOf(pl));
        }));
        m.put("crm.dealcategory.list", p -> sync(() -> dealCategoryList(p)));
        m.put("crm.dealcategory.get", p -> sync(() -> {
            Long id = Params.asLong(p.anyCase("id"));
            Pipeline pl = id == null || id == 0 ? null : pipelines.get(id.intValue());
            if (pl == null) {
                throw BitrixError.classic("Not found");
            }
            return dealCategoryOf(pl);
        }));
        m.put("crm.dealcategory.default.get", p -> sync(() -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("ID", 0);
            r.put("NAME", pipelines.get(0).name);
            return r;
        }));
        m.put("crm.dealcategory.status", p -> sync(() -> {
            Long id = Params.asLong(p.anyCase("id"));
            return id == null || id == 0 ? "DEAL_STAGE" : "DEAL_STAGE_" + id;
        }));
        m.put("crm.dealcategory.stage.list", p -> sync(() -> {
            Long id = Params.asLong(p.anyCase("id"));
            Pipeline pl = pipelines.get(id == null ? 0 : id.intValue());
            List<Map<String, Object>> out = new ArrayList<>();
            if (pl != null) {
                pl.stages.forEach(s -> out.add(statusOf(pl, s)));
            }
            return out;
        }));
        m.put("crm.status.list", p -> sync(() -> statusList(p)));
        m.put("crm.status.entity.items", p -> sync(() -> {
            String entityId = Params.asString(p.anyCase("entityId"));
            if (entityId == null || entityId.isBlank()) {
                throw new BitrixError(400, "The parameter entityId is not defined or invalid.", "The parameter entityId is not defined or invalid.");
            }
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> s : allStatuses()) {
                if (entityId.equals(s.get("ENTITY_ID"))) {
                    Map<String, Object> item = new LinkedHashMap<>();
                    item.put("NAME", s.get("NAME"));
                    item.put("SORT", Integer.parseInt((String) s.get("SORT")));
                    item.put("STATUS_ID", s.get("STATUS_ID"));
                    out.add(item);
                }
            }
            return out;
        }));
        m.put("user.get", p -> sync(() -> userGet(p)));
        m.put("crm.contact.add", p -> sync(() -> contactAdd(fieldsParam(p))));
        m.put("crm.contact.get", p -> sync(() -> {
            Map<String, Object> c = contacts.get(idParam(p, "ID is not defined or invalid."));
            if (c == null) {
                throw BitrixError.classic("Not found");
            }
            Map<String, Object> out = new LinkedHashMap<>(c);
            for (String multi : List.of("PHONE", "EMAIL")) {
                if (((List<?>) out.get(multi)).isEmpty()) {
                    out.remove(multi);
                }
            }
            return out;
        }));
        m.put("crm.contact.update", p -> sync(() -> {
            long id = idParam(p, "ID is not defined or invalid.");
            Map<String, Object> c = contacts.get(id);
            if (c == null) {
                throw BitrixError.classic("Not found");
            }
            contactWrite(c, fieldsParam(p), false);
            c.put("DATE_MODIFY", time.nowText());
            return true;
        }));
        m.put("crm.contact.list", p -> sync(() -> contactList(p)));
        m.put("crm.duplicate.findbycomm", p -> sync(() -> findByComm(p)));
        return m;
    }

    private Object sync(java.util.function.Supplier<Object> body) {
        synchronized (this) {
            return body.get();
        }
    }

    private static Map<String, Object> fieldsParam(Params p) {
        // reference: UNVERIFIED — a missing 'fields' fails like a non-array one (PHP's is_array check)
        Map<String, Object> fields = Params.asMap(p.anyCase("fields"));
        if (fields == null) {
            throw BitrixError.classic("Parameter 'fields' must be array.");
        }
        return fields;
    }

    private static long idParam(Params p, String error) {
        Long id = Params.asLong(p.anyCase("id"));
        if (id == null || id <= 0) {
            throw BitrixError.classic(error);
        }
        return id;
    }

    // ---- deals

    private long dealAdd(Map<String, Object> fields, int byUser) {
        String currencyId = Params.asString(fields.get("CURRENCY_ID"));
        if (currencyId != null && !currencyId.isEmpty() && !CURRENCIES.contains(currencyId)) {
            throw BitrixError.classic("Invalid value for the \"Currency\" field");
        }
        long id = nextDealId++;
        Deal d = new Deal();
        String now = time.nowText();
        LocalDate today = time.today();
        for (String f : DEAL_FIELDS) {
            d.fields.put(f, null);
        }
        d.fields.put("ID", Long.toString(id));
        d.fields.put("TYPE_ID", "SALE");
        d.fields.put("IS_RECURRING", "N");
        d.fields.put("IS_RETURN_CUSTOMER", "N");
        d.fields.put("IS_REPEATED_APPROACH", "N");
        d.fields.put("CURRENCY_ID", currency);
        d.fields.put("OPPORTUNITY", "0.00");
        d.fields.put("IS_MANUAL_OPPORTUNITY", "N");
        d.fields.put("TAX_VALUE", "0.00");
        d.fields.put("COMPANY_ID", "0");
        d.fields.put("BEGINDATE", time.renderDate(today));
        d.fields.put("CLOSEDATE", time.renderDate(today.plusDays(7)));
        d.fields.put("ASSIGNED_BY_ID", Integer.toString(byUser));
        d.fields.put("CREATED_BY_ID", Integer.toString(byUser));
        d.fields.put("MODIFY_BY_ID", Integer.toString(byUser));
        d.fields.put("DATE_CREATE", now);
        d.fields.put("DATE_MODIFY", now);
        d.fields.put("OPENED", "Y");
        d.fields.put("SOURCE_ID", "CALL");
        d.fields.put("MOVED_BY_ID", Integer.toString(byUser));
        d.fields.put("MOVED_TIME", now);
        d.fields.put("LAST_ACTIVITY_TIME", now);
        d.fields.put("LAST_ACTIVITY_BY", Integer.toString(byUser));
        for (UserField uf : userFields.values()) {
            d.fields.put(uf.name, emptyUserFieldValue(uf));
        }
        writeCommon(d, fields, true);
        // reference: server source crm_deal.php — unknown CATEGORY_ID silently becomes 0, unknown STAGE_ID the first stage
        Long category = Params.asLong(fields.get("CATEGORY_ID"));
        Pipeline pipeline = category == null ? null : pipelines.get(category.intValue());
        if (pipeline == null) {
            pipeline = pipelines.get(0);
        }
        d.fields.put("CATEGORY_ID", Integer.toString(pipeline.id));
        Stage stage = pipeline.stage(String.valueOf(Params.asString(fields.get("STAGE_ID"))));
        setStage(d, pipeline, stage == null ? pipeline.first() : stage);
        String title = Params.asString(fields.get("TITLE"));
        d.fields.put("TITLE", title == null || title.isBlank() ? "Deal #" + id : title);
        deals.put(id, d);
        events.fire(Portal.CRM, "ONCRMDEALADD", Map.of("ID", Long.toString(id)));
        return id;
    }

    private void dealUpdate(long id, Map<String, Object> fields, int byUser) {
        Deal d = deals.get(id);
        applyUpdate(d, fields, byUser);
    }

    private void applyUpdate(Deal d, Map<String, Object> fields, int byUser) {
        String currencyId = Params.asString(fields.get("CURRENCY_ID"));
        if (currencyId != null && !currencyId.isEmpty() && !CURRENCIES.contains(currencyId)) {
            throw BitrixError.classic("Invalid value for the \"Currency\" field");
        }
        // reference: crm.deal.update silently drops CATEGORY_ID, DATE_CREATE, DATE_MODIFY, MOVED_*, blank TITLE
        String title = Params.asString(fields.get("TITLE"));
        if (title != null && !title.isBlank()) {
            d.fields.put("TITLE", title);
        }
        writeCommon(d, fields, false);
        String stageId = Params.asString(fields.get("STAGE_ID"));
        if (stageId != null) {
            Pipeline pipeline = pipelines.get(Integer.parseInt(d.get("CATEGORY_ID")));
            Stage stage = pipeline.stage(stageId);
            // a stage of another pipeline is ignored; the call still answers true
            if (stage != null && !stage.statusId.equals(d.get("STAGE_ID"))) {
                setStage(d, pipeline, stage);
                d.fields.put("MOVED_BY_ID", Integer.toString(byUser));
                d.fields.put("MOVED_TIME", time.nowText());
            }
        }
        recalculateOpportunity(d);
        d.fields.put("MODIFY_BY_ID", Integer.toString(byUser));
        d.fields.put("DATE_MODIFY", time.nowText());
        events.fire(Portal.CRM, "ONCRMDEALUPDATE", Map.of("ID", d.get("ID")));
    }

    private void setStage(Deal d, Pipeline pipeline, Stage stage) {
        d.fields.put("STAGE_ID", stage.statusId);
        d.fields.put("STAGE_SEMANTIC_ID", stage.semantics.dealSemanticId);
        d.fields.put("IS_NEW", stage.statusId.equals(pipeline.first().statusId) ? "Y" : "N");
        d.fields.put("CLOSED", stage.semantics.isFinal() ? "Y" : "N");
    }

    private void moveToCategory(Deal d, Pipeline target, String stageId, int byUser) {
        Stage stage = stageId == null ? target.first() : target.stage(stageId);
        if (stage == null) {
            // reference: UNVERIFIED — the error for a stage outside the target pipeline in crm.item.update
            throw new BitrixError(400, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
                    "Stage '" + stageId + "' does not belong to pipeline " + target.id);
        }
        d.fields.put("CATEGORY_ID", Integer.toString(target.id));
        setStage(d, target, stage);
        String now = time.nowText();
        d.fields.put("MOVED_BY_ID", Integer.toString(byUser));
        d.fields.put("MOVED_TIME", now);
        d.fields.put("MODIFY_BY_ID", Integer.toString(byUser));
        d.fields.put("DATE_MODIFY", now);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("ID", d.get("ID"));
        data.put("CATEGORY_ID", d.get("CATEGORY_ID"));
        data.put("STAGE_ID", d.get("STAGE_ID"));
        events.fire(Portal.CRM, "ONCRMDEALMOVETOCATEGORY", data);
    }

    /** Writes the plainly writable fields; unknown keys and unknown user fields are silently ignored. */
    private void writeCommon(Deal d, Map<String, Object> fields, boolean isAdd) {
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            String name = e.getKey();
            Object value = e.getValue();
            if (TEXT_FIELDS.contains(name) && !name.equals("TITLE")) {
                d.fields.put(name, value == null ? null : Params.asString(value));
            } else if (name.equals("CURRENCY_ID")) {
                String c = Params.asString(value);
                if (c != null && !c.isEmpty()) {
                    d.fields.put(name, c);
                }
            } else if (INT_FIELDS.contains(name)) {
                Long n = Params.asLong(value);
                if (n != null && !(name.equals("ASSIGNED_BY_ID") && n <= 0)) {
                    d.fields.put(name, Long.toString(n));
                }
            } else if (MONEY_FIELDS.contains(name)) {
                BigDecimal n = Params.asDecimal(value);
                if (n != null) {
                    d.fields.put(name, n.setScale(2, RoundingMode.HALF_UP).toPlainString());
                }
            } else if (CHAR_FIELDS.contains(name)) {
                d.fields.put(name, Params.isYes(value) ? "Y" : "N");
            } else if (DATE_FIELDS.contains(name)) {
                LocalDate date = time.parseDate(value);
                if (date != null) { // empty or unparseable dates are silently dropped
                    d.fields.put(name, time.renderDate(date));
                }
            } else if (name.equals("CONTACT_IDS")) {
                List<Long> ids = new ArrayList<>();
                List<Object> list = Params.asList(value);
                if (list != null) {
                    for (Object o : list) {
                        Long cid = Params.asLong(o);
                        if (cid != null && cid > 0 && !ids.contains(cid)) {
                            ids.add(cid);
                        }
                    }
                }
                setContacts(d, ids);
            } else if (name.equals("CONTACT_ID") && !fields.containsKey("CONTACT_IDS")) {
                Long cid = Params.asLong(value);
                List<Long> ids = new ArrayList<>(d.contactIds);
                ids.remove(cid);
                if (cid != null && cid > 0) {
                    ids.add(0, cid);
                }
                setContacts(d, ids);
            } else if (name.startsWith("UF_CRM_")) {
                UserField uf = userFields.get(name);
                if (uf != null) {
                    d.fields.put(name, userFieldValue(uf, value));
                }
            }
        }
    }

    private void setContacts(Deal d, List<Long> ids) {
        d.contactIds.clear();
        d.contactIds.addAll(ids);
        d.fields.put("CONTACT_ID", ids.isEmpty() ? null : Long.toString(ids.get(0)));
    }

    private static Object emptyUserFieldValue(UserField uf) {
        if (uf.multiple) {
            return new ArrayList<>();
        }
        return uf.type.equals("boolean") ? "0" : "";
    }

    private static Object userFieldValue(UserField uf, Object value) {
        if (uf.multiple) {
            List<Object> out = new ArrayList<>();
            List<Object> list = Params.asList(value);
            if (list != null) {
                for (Object o : list) {
                    out.add(single(uf, o));
                }
            }
            return out;
        }
        return single(uf, value);
    }

    // reference: UNVERIFIED — boolean UF values come back as "1"/"0" here
    private static String single(UserField uf, Object value) {
        if (uf.type.equals("boolean")) {
            return Params.isYes(value) ? "1" : "0";
        }
        String s = Params.asString(value);
        return s == null ? "" : s;
    }

    private Object dealList(Params p) {
        Map<String, Object> filter = Params.asMap(p.anyCase("filter"));
        Map<String, Object> order = Params.asMap(p.anyCase("order"));
        List<Object> selectRaw = Params.asList(p.anyCase("select"));
        List<String> select = resolveDealSelect(selectRaw);
        List<Map<String, Object>> matches = new ArrayList<>();
        Function<String, String> field = name -> {
            String n = name.toUpperCase(Locale.ROOT);
            return DEAL_FIELDS.contains(n) || userFields.containsKey(n) ? n : null;
        };
        for (Deal d : deals.values()) {
            if (ListQuery.matches(d.fields, filter, field, time.zone, unknown -> { })) {
                matches.add(d.fields);
            }
        }
        matches.sort(ListQuery.order(order, field, this::dealSortKey, "ID", time.zone));
        return ListQuery.page(matches, p.anyCase("start"), true, page -> {
            List<Map<String, Object>> out = new ArrayList<>();
            page.forEach(row -> out.add(ListQuery.select(row, select)));
            return out;
        });
    }

    // Sorting by STAGE_ID follows the stage order, not the alphabet.
    private Object dealSortKey(String field, Object value) {
        if (field.equals("STAGE_ID") && value != null) {
            for (Pipeline p : pipelines.values()) {
                Stage s = p.stage((String) value);
                if (s != null) {
                    return p.id * 100000 + s.sort;
                }
            }
        }
        return value;
    }

    private List<String> resolveDealSelect(List<Object> select) {
        List<String> names = new ArrayList<>();
        if (select == null || select.isEmpty()) {
            select = List.of("*", "UF_*");
        }
        for (Object o : select) {
            String n = String.valueOf(o).toUpperCase(Locale.ROOT);
            if (n.equals("*")) {
                names.addAll(DEAL_FIELDS);
            } else if (n.equals("UF_*")) {
                names.addAll(userFields.keySet());
            } else if (DEAL_FIELDS.contains(n) || userFields.containsKey(n)) {
                names.add(n);
            }
        }
        return new ArrayList<>(new LinkedHashSet<>(names));
    }

    private Object dealFields() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String f : DEAL_FIELDS) {
            String type = f.equals("ID") || INT_FIELDS.contains(f) || f.endsWith("_BY_ID") || f.equals("LEAD_ID")
                    || f.equals("QUOTE_ID") ? "integer" : MONEY_FIELDS.contains(f) ? "double"
                    : CHAR_FIELDS.contains(f) || f.startsWith("IS_") || f.equals("CLOSED") ? "char"
                    : DATE_FIELDS.contains(f) ? "date" : f.startsWith("DATE_") || f.endsWith("_TIME") ? "datetime"
                    : f.equals("STAGE_ID") || f.equals("TYPE_ID") || f.equals("SOURCE_ID") ? "crm_status"
                    : f.equals("CATEGORY_ID") ? "crm_category" : f.equals("CONTACT_ID") ? "crm_contact" : "string";
            boolean readOnly = !(TEXT_FIELDS.contains(f) || INT_FIELDS.contains(f) || MONEY_FIELDS.contains(f)
                    || CHAR_FIELDS.contains(f) || DATE_FIELDS.contains(f) || f.equals("STAGE_ID")
                    || f.equals("CATEGORY_ID") || f.equals("CURRENCY_ID") || f.equals("CONTACT_ID"));
            out.put(f, fieldDescription(type, readOnly, f.equals("CATEGORY_ID"), false, false, f));
        }
        out.put("CONTACT_IDS", fieldDescription("crm_contact", false, false, true, false, "Contacts"));
        for (UserField uf : userFields.values()) {
            Map<String, Object> d = fieldDescription(uf.type, false, false, uf.multiple, true, uf.name);
            d.put("listLabel", uf.name);
            d.put("formLabel", uf.name);
            d.put("filterLabel", uf.name);
            if (!uf.items.isEmpty()) {
                List<Map<String, Object>> items = new ArrayList<>();
                uf.items.forEach(i -> items.add(Map.of("ID", i.get("ID"), "VALUE", i.get("VALUE"))));
                d.put("items", items);
            }
            out.put(uf.name, d);
        }
        return out;
    }

    private static Map<String, Object> fieldDescription(String type, boolean readOnly, boolean immutable,
                                                        boolean multiple, boolean dynamic, String title) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("type", type);
        d.put("isRequired", false);
        d.put("isReadOnly", readOnly);
        d.put("isImmutable", immutable);
        d.put("isMultiple", multiple);
        d.put("isDynamic", dynamic);
        d.put("title", title);
        return d;
    }

    private Object userFieldList() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (UserField uf : userFields.values()) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("ID", Integer.toString(uf.id));
            item.put("ENTITY_ID", "CRM_DEAL");
            item.put("FIELD_NAME", uf.name);
            item.put("USER_TYPE_ID", uf.type);
            item.put("XML_ID", null);
            item.put("SORT", "100");
            item.put("MULTIPLE", uf.multiple ? "Y" : "N");
            item.put("MANDATORY", "N");
            item.put("SHOW_FILTER", "N");
            item.put("SHOW_IN_LIST", "Y");
            item.put("EDIT_IN_LIST", "Y");
            item.put("IS_SEARCHABLE", "N");
            item.put("SETTINGS", new ArrayList<>());
            if (uf.type.equals("enumeration")) {
                List<Map<String, Object>> items = new ArrayList<>();
                uf.items.forEach(i -> items.add(new LinkedHashMap<>(i)));
                item.put("LIST", items);
            }
            out.add(item);
        }
        return new ListPage(out, out.size(), null);
    }

    private Object productRowsSet(Params p) {
        Deal d = deals.get(idParam(p, "The parameter id is invalid or not defined."));
        if (d == null) {
            throw BitrixError.classic("Not found.");
        }
        List<Object> rows = Params.asList(p.anyCase("rows"));
        if (rows == null) {
            rows = List.of();
        }
        List<Map<String, Object>> stored = new ArrayList<>();
        BigDecimal sum = BigDecimal.ZERO;
        for (Object o : rows) {
            Map<String, Object> in = Params.asMap(o);
            if (in == null) {
                throw BitrixError.classic("The parameter rows must be array.");
            }
            long rowId = nextRowId++;
            Map<String, Object> r = new LinkedHashMap<>();
            BigDecimal price = orZero(Params.asDecimal(in.get("PRICE")));
            BigDecimal quantity = in.get("QUANTITY") == null ? BigDecimal.ONE : orZero(Params.asDecimal(in.get("QUANTITY")));
            Long productId = Params.asLong(in.get("PRODUCT_ID"));
            String name = Params.asString(in.get("PRODUCT_NAME"));
            long discountType = Params.asLong(in.get("DISCOUNT_TYPE_ID")) == null ? 2 : Params.asLong(in.get("DISCOUNT_TYPE_ID"));
            if (discountType == 1 && in.get("DISCOUNT_SUM") == null && in.get("DISCOUNT_RATE") != null) {
                throw new BitrixError(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Discount Type (DISCOUNT_TYPE_ID) is 1");
            }
            r.put("ID", Long.toString(rowId));
            r.put("OWNER_ID", d.get("ID"));
            r.put("OWNER_TYPE", "D");
            r.put("PRODUCT_ID", productId == null ? 0 : productId);
            r.put("PRODUCT_NAME", name == null || name.isBlank() ? "[" + rowId + "]" : name);
            r.put("ORIGINAL_PRODUCT_NAME", r.get("PRODUCT_NAME"));
            r.put("PRODUCT_DESCRIPTION", null);
            r.put("PRICE", number(price));
            r.put("PRICE_EXCLUSIVE", number(orDefault(in.get("PRICE_EXCLUSIVE"), price)));
            r.put("PRICE_NETTO", number(orDefault(in.get("PRICE_NETTO"), price)));
            r.put("PRICE_BRUTTO", number(orDefault(in.get("PRICE_BRUTTO"), price)));
            r.put("PRICE_ACCOUNT", price.setScale(2, RoundingMode.HALF_UP).toPlainString());
            r.put("QUANTITY", number(quantity));
            r.put("DISCOUNT_TYPE_ID", discountType);
            r.put("DISCOUNT_RATE", number(orZero(Params.asDecimal(in.get("DISCOUNT_RATE")))));
            r.put("DISCOUNT_SUM", number(orZero(Params.asDecimal(in.get("DISCOUNT_SUM")))));
            r.put("TAX_RATE", in.get("TAX_RATE") == null ? null : number(Params.asDecimal(in.get("TAX_RATE"))));
            r.put("TAX_INCLUDED", Params.isYes(in.get("TAX_INCLUDED")) ? "Y" : "N");
            r.put("CUSTOMIZED", "Y");
            r.put("MEASURE_CODE", Params.asLong(in.get("MEASURE_CODE")) == null ? 0 : Params.asLong(in.get("MEASURE_CODE")));
            r.put("MEASURE_NAME", Params.asString(in.get("MEASURE_NAME")) == null ? "" : Params.asString(in.get("MEASURE_NAME")));
            r.put("SORT", Params.asLong(in.get("SORT")) == null ? 0 : Params.asLong(in.get("SORT")));
            r.put("XML_ID", Params.asString(in.get("XML_ID")));
            r.put("TYPE", Params.asLong(in.get("TYPE")) == null ? 1 : Params.asLong(in.get("TYPE")));
            stored.add(r);
            sum = sum.add(price.multiply(quantity));
        }
        d.rows.clear();
        d.rows.addAll(stored);
        if (!"Y".equals(d.get("IS_MANUAL_OPPORTUNITY"))) {
            d.fields.put("OPPORTUNITY", sum.setScale(2, RoundingMode.HALF_UP).toPlainString());
        }
        d.fields.put("DATE_MODIFY", time.nowText());
        return true;
    }

    /** With {@code IS_MANUAL_OPPORTUNITY=N} and product rows present, the amount follows the rows, not the write. */
    private static void recalculateOpportunity(Deal d) {
        if ("Y".equals(d.get("IS_MANUAL_OPPORTUNITY")) || d.rows.isEmpty()) {
            return;
        }
        BigDecimal sum = BigDecimal.ZERO;
        for (Map<String, Object> r : d.rows) {
            sum = sum.add(Params.asDecimal(r.get("PRICE")).multiply(Params.asDecimal(r.get("QUANTITY"))));
        }
        d.fields.put("OPPORTUNITY", sum.setScale(2, RoundingMode.HALF_UP).toPlainString());
    }

    private static BigDecimal orZero(BigDecimal d) {
        return d == null ? BigDecimal.ZERO : d;
    }

    private static BigDecimal orDefault(Object value, BigDecimal fallback) {
        BigDecimal d = Params.asDecimal(value);
        return d == null ? fallback : d;
    }

    static Number number(BigDecimal d) {
        if (d == null) {
            return null;
        }
        BigDecimal s = d.stripTrailingZeros();
        if (s.scale() <= 0) {
            return s.longValueExact();
        }
        return s.doubleValue();
    }

    private Object contactItemsSet(Params p) {
        Deal d = deals.get(idParam(p, "The parameter ownerEntityID is invalid or not defined."));
        if (d == null) {
            throw BitrixError.classic("Not found.");
        }
        List<Object> items = Params.asList(p.anyCase("items"));
        if (items == null) {
            throw BitrixError.classic("The parameter items must be array.");
        }
        List<Long> ids = new ArrayList<>();
        Long primary = null;
        for (Object o : items) {
            Map<String, Object> item = Params.asMap(o);
            Long cid = item == null ? null : Params.asLong(item.get("CONTACT_ID"));
            if (cid == null || cid <= 0) {
                continue;
            }
            ids.add(cid);
            if (primary == null && Params.isYes(item.get("IS_PRIMARY"))) {
                primary = cid;
            }
        }
        if (primary != null) {
            ids.remove(primary);
            ids.add(0, primary);
        }
        setContacts(d, ids);
        return true;
    }

    // ---- crm.item (deals only)

    private Deal itemDeal(Params p) {
        requireDealEntityType(p);
        Long id = Params.asLong(p.exact("id"));
        Deal d = id == null ? null : deals.get(id);
        if (d == null) {
            throw new BitrixError(400, "NOT_FOUND", "Element not found");
        }
        return d;
    }

    private static void requireDealEntityType(Params p) {
        Long type = Params.asLong(p.exact("entityTypeId"));
        if (type == null) {
            throw new BitrixError(400, "ERROR_ARGUMENT", "Required parameter \"entityTypeId\" is missing");
        }
        if (type != 2) {
            // reference: the emulator only knows deals; other entity types are "not found" smart processes
            throw new BitrixError(400, "NOT_FOUND", "Smart process not found");
        }
    }

    private Object itemUpdate(Params p) {
        Deal d = itemDeal(p);
        Map<String, Object> fields = Params.asMap(p.exact("fields"));
        if (fields == null) {
            throw new BitrixError(400, "ERROR_ARGUMENT", "Required parameter \"fields\" is missing");
        }
        Map<String, Object> upper = new LinkedHashMap<>();
        Object categoryRaw = null;
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            if (e.getKey().equals("categoryId")) {
                categoryRaw = e.getValue();
            } else {
                upper.put(camelToUpper(e.getKey()), e.getValue());
            }
        }
        Long category = Params.asLong(categoryRaw);
        int current = Integer.parseInt(d.get("CATEGORY_ID"));
        if (category != null && category.intValue() != current) {
            Pipeline target = pipelines.get(category.intValue());
            if (target == null) {
                // reference: UNVERIFIED — error code for an unknown categoryId in crm.item.update
                throw new BitrixError(400, "CRM_FIELD_ERROR_VALUE_NOT_VALID", "Pipeline " + category + " not found");
            }
            String stage = Params.asString(upper.remove("STAGE_ID"));
            moveToCategory(d, target, stage, webhookUserId);
            if (!upper.isEmpty()) {
                writeCommon(d, upper, false);
                String title = Params.asString(upper.get("TITLE"));
                if (title != null && !title.isBlank()) {
                    d.fields.put("TITLE", title);
                }
            }
        } else {
            String stageId = Params.asString(upper.get("STAGE_ID"));
            Pipeline pipeline = pipelines.get(current);
            if (stageId != null && pipeline.stage(stageId) == null) {
                // reference: UNVERIFIED — crm.item.update refuses a stage of another pipeline (crm.deal.update ignores it)
                throw new BitrixError(400, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
                        "Stage '" + stageId + "' does not belong to pipeline " + current);
            }
            applyUpdate(d, upper, webhookUserId);
        }
        return Map.of("item", itemOf(d));
    }

    /** {@code crm.item.list} for deals: camelCase filter/select/order, exact {@code start} offset, {@code {"items":[...]}}. */
    private Object itemList(Params p) {
        requireDealEntityType(p);
        List<Map<String, Object>> items = new ArrayList<>();
        deals.values().forEach(d -> items.add(itemOf(d)));
        Set<String> known = items.isEmpty() ? Set.of("id", "title", "categoryId", "stageId", "updatedTime",
                "originatorId", "originId") : items.get(0).keySet();
        Function<String, String> field = n -> known.contains(n) ? n : null;
        Map<String, Object> filter = Params.asMap(p.exact("filter"));
        List<Map<String, Object>> matched = new ArrayList<>();
        for (Map<String, Object> item : items) {
            if (ListQuery.matches(item, filter, field, time.zone, unknown -> { })) {
                matched.add(item);
            }
        }
        matched.sort(ListQuery.order(Params.asMap(p.exact("order")), field, (f, v) -> v, "id", time.zone));
        List<Object> selectRaw = Params.asList(p.exact("select"));
        return ListQuery.page(matched, p.exact("start"), false, page -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> item : page) {
                if (selectRaw == null || selectRaw.isEmpty() || selectRaw.contains("*")) {
                    out.add(item);
                } else {
                    List<String> names = new ArrayList<>();
                    selectRaw.forEach(x -> names.add(String.valueOf(x)));
                    out.add(ListQuery.select(item, names));
                }
            }
            return Map.of("items", out);
        });
    }

    static String camelToUpper(String camel) {
        StringBuilder out = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c) && out.length() > 0) {
                out.append('_');
            }
            out.append(Character.toUpperCase(c));
        }
        return out.toString();
    }

    static String upperToCamel(String upper) {
        StringBuilder out = new StringBuilder();
        boolean up = false;
        for (char c : upper.toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                out.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return out.toString();
    }

    private Map<String, Object> itemOf(Deal d) {
        Map<String, Object> item = new LinkedHashMap<>();
        Map<String, String> renamed = Map.of("DATE_CREATE", "createdTime", "DATE_MODIFY", "updatedTime",
                "CREATED_BY_ID", "createdBy", "MODIFY_BY_ID", "updatedBy", "MOVED_BY_ID", "movedBy",
                "MOVED_TIME", "movedTime", "LAST_ACTIVITY_BY", "lastActivityBy");
        for (Map.Entry<String, Object> e : d.fields.entrySet()) {
            String key = renamed.getOrDefault(e.getKey(), upperToCamel(e.getKey()));
            Object v = e.getValue();
            String k = e.getKey();
            if (v instanceof String && (k.equals("ID") || k.endsWith("_ID") && Params.asLong(v) != null
                    && !k.equals("STAGE_ID") && !k.equals("ORIGIN_ID") && !k.equals("ORIGINATOR_ID")
                    && !k.equals("TYPE_ID") && !k.equals("SOURCE_ID") && !k.equals("CURRENCY_ID")
                    || k.endsWith("_BY_ID") || k.equals("LAST_ACTIVITY_BY"))) {
                v = Params.asLong(v);
            } else if (v instanceof String && MONEY_FIELDS.contains(k)) {
                v = number(Params.asDecimal(v));
            }
            item.put(key, v);
        }
        item.put("entityTypeId", 2);
        List<Long> contactIds = new ArrayList<>(d.contactIds);
        item.put("contactIds", contactIds);
        return item;
    }

    // ---- pipelines and stages

    private Object categoryList(Params p) {
        requireDealEntityType(p);
        List<Pipeline> sorted = new ArrayList<>(pipelines.values());
        sorted.sort(Comparator.comparingInt((Pipeline x) -> x.sort).thenComparingInt(x -> x.id));
        List<Map<String, Object>> out = new ArrayList<>();
        sorted.forEach(pl -> out.add(categoryOf(pl)));
        return ListQuery.page(out, p.exact("start"), false, page -> Map.of("categories", page));
    }

    private static Map<String, Object> categoryOf(Pipeline pl) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", pl.id);
        c.put("name", pl.name);
        c.put("sort", pl.sort);
        c.put("entityTypeId", 2);
        c.put("isDefault", pl.id == 0 ? "Y" : "N");
        if (pl.id != 0) {
            c.put("originId", "");
            c.put("originatorId", "");
        }
        return c;
    }

    private Object dealCategoryList(Params p) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Pipeline pl : pipelines.values()) {
            if (pl.id != 0) { // the default pipeline is not listed here (pitfall 13)
                out.add(dealCategoryOf(pl));
            }
        }
        Function<String, String> field = n -> {
            String u = n.toUpperCase(Locale.ROOT);
            return List.of("ID", "NAME", "SORT", "CREATED_DATE", "IS_LOCKED").contains(u) ? u : null;
        };
        List<Map<String, Object>> matched = new ArrayList<>();
        Map<String, Object> filter = Params.asMap(p.anyCase("filter"));
        for (Map<String, Object> row : out) {
            if (ListQuery.matches(row, filter, field, time.zone, u -> { })) {
                matched.add(row);
            }
        }
        matched.sort(ListQuery.order(Params.asMap(p.anyCase("order")), field, (f, v) -> v, "ID", time.zone));
        return ListQuery.page(matched, p.anyCase("start"), true, page -> page);
    }

    private static Map<String, Object> dealCategoryOf(Pipeline pl) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("ID", Integer.toString(pl.id));
        c.put("CREATED_DATE", pl.created);
        c.put("NAME", pl.name);
        c.put("IS_LOCKED", "N");
        c.put("SORT", Integer.toString(pl.sort));
        return c;
    }

    private Map<String, Object> statusOf(Pipeline pl, Stage s) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ID", Integer.toString(s.rowId));
        r.put("ENTITY_ID", pl.entityId());
        r.put("STATUS_ID", s.statusId);
        r.put("NAME", s.name);
        r.put("NAME_INIT", s.system ? s.name : "");
        r.put("SORT", Integer.toString(s.sort));
        r.put("SYSTEM", s.system ? "Y" : "N");
        r.put("CATEGORY_ID", pl.id == 0 ? null : Integer.toString(pl.id));
        r.put("COLOR", s.color);
        r.put("SEMANTICS", s.semantics.statusSemantics);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("SEMANTICS", s.semantics.extraSemantics);
        extra.put("COLOR", s.color);
        r.put("EXTRA", extra);
        return r;
    }

    private List<Map<String, Object>> allStatuses() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Pipeline pl : pipelines.values()) {
            pl.stages.forEach(s -> out.add(statusOf(pl, s)));
        }
        int row = 100000;
        String[][] dictionaries = {
                {"DEAL_TYPE", "SALE", "Sales"}, {"DEAL_TYPE", "COMPLEX", "Complex sale"},
                {"DEAL_TYPE", "GOODS", "Sale of goods"}, {"DEAL_TYPE", "SERVICES", "Sale of services"},
                {"SOURCE", "CALL", "Call"}, {"SOURCE", "EMAIL", "E-Mail"}, {"SOURCE", "WEB", "Website"},
                {"SOURCE", "STORE", "Online store"}, {"SOURCE", "OTHER", "Other"}};
        int sort = 10;
        for (String[] d : dictionaries) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("ID", Integer.toString(row++));
            r.put("ENTITY_ID", d[0]);
            r.put("STATUS_ID", d[1]);
            r.put("NAME", d[2]);
            r.put("NAME_INIT", d[2]);
            r.put("SORT", Integer.toString(sort));
            r.put("SYSTEM", "N");
            r.put("CATEGORY_ID", null);
            r.put("COLOR", null);
            r.put("SEMANTICS", null);
            r.put("EXTRA", new ArrayList<>());
            out.add(r);
            sort += 10;
        }
        return out;
    }

    private Object statusList(Params p) {
        Map<String, Object> filter = Params.asMap(p.anyCase("filter"));
        Function<String, String> field = n -> {
            String u = n.toUpperCase(Locale.ROOT);
            return List.of("ID", "ENTITY_ID", "STATUS_ID", "NAME", "SORT", "SYSTEM", "CATEGORY_ID", "SEMANTICS").contains(u) ? u : null;
        };
        List<Map<String, Object>> matched = new ArrayList<>();
        for (Map<String, Object> s : allStatuses()) {
            if (ListQuery.matches(s, filter, field, time.zone, u -> { })) {
                matched.add(s);
            }
        }
        Map<String, Object> order = Params.asMap(p.anyCase("order"));
        if (order != null && !order.isEmpty()) {
            matched.sort(ListQuery.order(order, field, (f, v) -> v, "ID", time.zone));
        }
        return ListQuery.page(matched, p.anyCase("start"), true, page -> page);
    }

    // ---- users

    private static final Set<String> USER_GET_RESERVED = Set.of("SORT", "ORDER", "FILTER", "SELECT", "START",
            "ADMIN_MODE", "IMAGE_RESIZE", "AUTH");

    private Object userGet(Params p) {
        Map<String, Object> filter = new LinkedHashMap<>();
        Map<String, Object> explicit = Params.asMap(p.anyCase("FILTER"));
        if (explicit != null) {
            filter.putAll(explicit);
        }
        // filter keys may also be passed at the top level
        for (Map.Entry<String, Object> e : p.raw.entrySet()) {
            if (!USER_GET_RESERVED.contains(e.getKey().toUpperCase(Locale.ROOT))) {
                filter.put(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, Object> e : filter.entrySet()) {
            if (e.getKey().replaceAll("^[!=<>@%]+", "").equalsIgnoreCase("ACTIVE")) {
                e.setValue(Params.isYes(e.getValue()));
            }
        }
        Function<String, String> field = n -> {
            String u = n.toUpperCase(Locale.ROOT);
            return List.of("ID", "ACTIVE", "NAME", "LAST_NAME", "EMAIL", "USER_TYPE").contains(u) ? u : null;
        };
        List<Map<String, Object>> matched = new ArrayList<>();
        for (User u : users.values()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("ID", Integer.toString(u.id));
            row.put("ACTIVE", u.active);
            row.put("NAME", u.name);
            row.put("LAST_NAME", u.lastName);
            row.put("SECOND_NAME", "");
            row.put("EMAIL", u.email);
            row.put("IS_ONLINE", "N");
            row.put("UF_DEPARTMENT", List.of(1));
            row.put("USER_TYPE", "employee");
            if (ListQuery.matches(row, filter, field, time.zone, x -> { })) {
                matched.add(row);
            }
        }
        String sort = Params.asString(p.anyCase("sort"));
        if (sort != null && field.apply(sort) != null) {
            Map<String, Object> order = Map.of(field.apply(sort), String.valueOf(Params.asString(p.anyCase("order"))));
            matched.sort(ListQuery.order(order, field, (f, v) -> v, "ID", time.zone));
        }
        return ListQuery.page(matched, p.anyCase("start"), true, page -> page);
    }

    // ---- contacts

    private long contactAdd(Map<String, Object> fields) {
        long id = nextContactId++;
        Map<String, Object> c = new LinkedHashMap<>();
        String now = time.nowText();
        c.put("ID", Long.toString(id));
        for (String f : List.of("HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "BIRTHDATE", "TYPE_ID", "SOURCE_ID",
                "SOURCE_DESCRIPTION", "POST", "COMMENTS", "LEAD_ID", "COMPANY_ID", "ORIGINATOR_ID", "ORIGIN_ID",
                "ORIGIN_VERSION")) {
            c.put(f, null);
        }
        c.put("TYPE_ID", "CLIENT");
        c.put("OPENED", "Y");
        c.put("EXPORT", "Y");
        c.put("ASSIGNED_BY_ID", Integer.toString(webhookUserId));
        c.put("CREATED_BY_ID", Integer.toString(webhookUserId));
        c.put("MODIFY_BY_ID", Integer.toString(webhookUserId));
        c.put("DATE_CREATE", now);
        c.put("DATE_MODIFY", now);
        c.put("HAS_PHONE", "N");
        c.put("HAS_EMAIL", "N");
        c.put("HAS_IMOL", "N");
        c.put("PHONE", new ArrayList<Map<String, Object>>());
        c.put("EMAIL", new ArrayList<Map<String, Object>>());
        contactWrite(c, fields, true);
        contacts.put(id, c);
        return id;
    }

    @SuppressWarnings("unchecked")
    private void contactWrite(Map<String, Object> c, Map<String, Object> fields, boolean isAdd) {
        for (String multi : List.of("EMAIL", "PHONE")) {
            List<Object> entries = Params.asList(fields.get(multi));
            if (entries == null) {
                continue;
            }
            for (Object o : entries) {
                Map<String, Object> e = Params.asMap(o);
                String value = e == null ? null : Params.asString(e.get("VALUE"));
                if (multi.equals("EMAIL") && value != null && !value.isEmpty() && !EMAIL.matcher(value).matches()) {
                    throw new BitrixError(400, "ERROR_CORE", "The field Work e-mail contains an invalid address");
                }
            }
        }
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            String name = e.getKey();
            switch (name) {
                case "NAME": case "SECOND_NAME": case "LAST_NAME": case "HONORIFIC": case "TYPE_ID": case "SOURCE_ID":
                case "SOURCE_DESCRIPTION": case "POST": case "COMMENTS": case "ORIGINATOR_ID": case "ORIGIN_ID":
                case "ORIGIN_VERSION":
                    c.put(name, Params.asString(e.getValue()));
                    break;
                case "ASSIGNED_BY_ID": case "COMPANY_ID":
                    Long n = Params.asLong(e.getValue());
                    if (n != null && n > 0) {
                        c.put(name, Long.toString(n));
                    }
                    break;
                case "OPENED": case "EXPORT":
                    c.put(name, Params.isYes(e.getValue()) ? "Y" : "N");
                    break;
                case "BIRTHDATE":
                    LocalDate date = time.parseDate(e.getValue());
                    if (date != null) {
                        c.put(name, time.renderDate(date));
                    }
                    break;
                case "PHONE": case "EMAIL":
                    writeMultiField((List<Map<String, Object>>) c.get(name), name, Params.asList(e.getValue()));
                    break;
                default:
                    break; // unknown keys are ignored
            }
        }
        c.put("HAS_PHONE", ((List<?>) c.get("PHONE")).isEmpty() ? "N" : "Y");
        c.put("HAS_EMAIL", ((List<?>) c.get("EMAIL")).isEmpty() ? "N" : "Y");
    }

    // Elements with ID modify or delete that value; elements without ID are added; others are untouched.
    private void writeMultiField(List<Map<String, Object>> stored, String typeId, List<Object> entries) {
        if (entries == null) {
            return;
        }
        for (Object o : entries) {
            Map<String, Object> e = Params.asMap(o);
            if (e == null) {
                continue;
            }
            Long id = Params.asLong(e.get("ID"));
            String value = Params.asString(e.get("VALUE"));
            String valueType = Params.asString(e.get("VALUE_TYPE"));
            if (id != null) {
                stored.removeIf(m -> {
                    boolean same = m.get("ID").equals(Long.toString(id));
                    return same && (Params.isYes(e.get("DELETE")) || value == null || value.isEmpty());
                });
                for (Map<String, Object> m : stored) {
                    if (m.get("ID").equals(Long.toString(id))) {
                        m.put("VALUE", value);
                        if (valueType != null) {
                            m.put("VALUE_TYPE", valueType);
                        }
                    }
                }
            } else if (value != null && !value.isEmpty()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ID", Long.toString(nextMultiFieldId++));
                m.put("VALUE_TYPE", valueType == null ? "WORK" : valueType);
                m.put("VALUE", value);
                m.put("TYPE_ID", typeId);
                stored.add(m);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Object contactList(Params p) {
        Map<String, Object> filter = Params.asMap(p.anyCase("filter"));
        List<Object> selectRaw = Params.asList(p.anyCase("select"));
        Function<String, String> field = n -> n.toUpperCase(Locale.ROOT);
        List<Map<String, Object>> matched = new ArrayList<>();
        for (Map<String, Object> c : contacts.values()) {
            Map<String, Object> view = new LinkedHashMap<>(c);
            for (String multi : List.of("PHONE", "EMAIL")) { // multi-fields filter by exact value only
                List<String> values = new ArrayList<>();
                ((List<Map<String, Object>>) c.get(multi)).forEach(m -> values.add((String) m.get("VALUE")));
                view.put(multi, values);
            }
            if (ListQuery.matches(view, filter, field, time.zone, u -> { })) {
                matched.add(c);
            }
        }
        matched.sort(ListQuery.order(Params.asMap(p.anyCase("order")), field, (f, v) -> v, "ID", time.zone));
        List<String> select = new ArrayList<>();
        if (selectRaw == null || selectRaw.isEmpty()) {
            selectRaw = List.of("*", "UF_*");
        }
        for (Object o : selectRaw) {
            String n = String.valueOf(o).toUpperCase(Locale.ROOT);
            if (n.equals("*")) {
                for (String k : matched.isEmpty() ? List.<String>of() : matched.get(0).keySet()) {
                    if (!k.equals("PHONE") && !k.equals("EMAIL")) {
                        select.add(k);
                    }
                }
            } else if (!n.equals("UF_*")) {
                select.add(n);
            }
        }
        return ListQuery.page(matched, p.anyCase("start"), true, page -> {
            List<Map<String, Object>> out = new ArrayList<>();
            page.forEach(row -> out.add(ListQuery.select(row, select)));
            return out;
        });
    }

    @SuppressWarnings("unchecked")
    private Object findByComm(Params p) {
        String type = Params.asString(p.anyCase("type"));
        if (type == null || type.isBlank()) {
            throw new BitrixError(400, "Communication type is not defined", "Parameter 'type' is required.");
        }
        type = type.toUpperCase(Locale.ROOT);
        if (!type.equals("PHONE") && !type.equals("EMAIL")) {
            throw new BitrixError(400, "Communication type '" + type + "' is not supported in current context",
                    "Communication type '" + type + "' is not supported in current context");
        }
        List<Object> values = Params.asList(p.anyCase("values"));
        if (values == null || values.isEmpty()) {
            throw new BitrixError(400, "Communication values is not defined", "Parameter 'values' is required.");
        }
        if (values.size() > 20) {
            // reference: UNVERIFIED — exact error for more than 20 values; the documented maximum is 20
            throw new BitrixError(400, "Too many communication values", "Parameter 'values' may contain at most 20 values.");
        }
        String entityType = Params.asString(p.anyCase("entity_type"));
        if (entityType != null && !entityType.isBlank() && !entityType.equalsIgnoreCase("CONTACT")) {
            return new ArrayList<>(); // the emulator has no leads or companies
        }
        List<Long> found = new ArrayList<>();
        for (Map.Entry<Long, Map<String, Object>> e : contacts.entrySet()) {
            for (Map<String, Object> m : (List<Map<String, Object>>) e.getValue().get(type)) {
                for (Object v : values) {
                    if (sameCommunication(type, (String) m.get("VALUE"), Params.asString(v)) && !found.contains(e.getKey())) {
                        found.add(e.getKey());
                    }
                }
            }
        }
        if (found.isEmpty()) {
            return new ArrayList<>(); // PHP's empty array: [] rather than {}
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("CONTACT", found);
        return result;
    }

    // reference: UNVERIFIED — phone comparison on digits only (formatting ignored); e-mail case-insensitive
    private static boolean sameCommunication(String type, String stored, String wanted) {
        if (stored == null || wanted == null) {
            return false;
        }
        if (type.equals("EMAIL")) {
            return stored.trim().equalsIgnoreCase(wanted.trim());
        }
        String a = stored.replaceAll("\\D", "");
        String b = wanted.replaceAll("\\D", "");
        return !a.isEmpty() && a.equals(b);
    }
}
