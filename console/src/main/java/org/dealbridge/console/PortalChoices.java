package org.dealbridge.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.crm.CrmApi;
import org.dealbridge.bitrix.crm.CrmUser;
import org.dealbridge.bitrix.crm.DealUserField;
import org.dealbridge.bitrix.crm.Pipeline;
import org.dealbridge.bitrix.crm.Stage;
import org.dealbridge.bitrix.store.CatalogSection;
import org.dealbridge.bitrix.store.OrderStatus;
import org.dealbridge.bitrix.store.PaySystem;
import org.dealbridge.bitrix.store.StoreApi;
import org.dealbridge.mapping.MappingValidator;

/**
 * Every choice the mapping form offers, read from the live portals so that nothing is typed by id: pipelines with
 * their stages, users, deal custom fields (CRM); order statuses, catalog sections, pay systems (store). Only what
 * the live validation accepts is offered: active users, order (not delivery) statuses, {@code UF_CRM_*} fields.
 */
final class PortalChoices {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** {@code sale.status.list} type of order statuses; delivery statuses ({@code D}) are not order statuses. */
    private static final String ORDER_STATUS_TYPE = "O";
    /** Language of the status names shown; the console's pages are in English. */
    private static final String LANGUAGE = "en";

    private PortalChoices() {
    }

    static ObjectNode read(CrmApi crm, StoreApi store) {
        ObjectNode out = JSON.objectNode();
        ArrayNode pipelines = out.putArray("pipelines");
        for (Pipeline p : crm.pipelines()) {
            ObjectNode pipeline = pipelines.addObject().put("id", p.id()).put("name", p.name());
            ArrayNode stages = pipeline.putArray("stages");
            for (Stage s : crm.stages(p.id())) {
                stages.addObject().put("id", s.statusId()).put("name", s.name())
                        .put("semantics", s.semantics() == null ? null : s.semantics().name());
            }
        }
        ArrayNode users = out.putArray("users");
        for (CrmUser u : crm.users()) {
            if (u.active()) {
                users.addObject().put("id", u.id()).put("name", (nz(u.name()) + " " + nz(u.lastName())).trim());
            }
        }
        ArrayNode fields = out.putArray("dealFields");
        for (DealUserField f : crm.dealUserFields()) {
            if (f.fieldName().startsWith("UF_CRM_")) {
                fields.addObject().put("id", f.fieldName()).put("type", f.userTypeId());
            }
        }
        ArrayNode statuses = out.putArray("statuses");
        Map<String, String> names = store.statusNames(LANGUAGE);
        for (OrderStatus s : store.statuses()) {
            if (ORDER_STATUS_TYPE.equals(s.type())) {
                statuses.addObject().put("id", s.id()).put("name", s.name() != null ? s.name() : names.get(s.id()));
            }
        }
        ArrayNode sections = out.putArray("sections");
        for (long iblock : store.productCatalogIblockIds()) {
            List<CatalogSection> all = store.sections(iblock);
            Map<Long, CatalogSection> byId = new java.util.HashMap<>();
            all.forEach(s -> byId.put(s.id(), s));
            for (CatalogSection s : all) {
                sections.addObject().put("id", s.id()).put("name", s.name()).put("path", path(s, byId));
            }
        }
        ArrayNode paySystems = out.putArray("paySystems");
        for (PaySystem p : store.paySystems()) {
            if (p.active()) {
                paySystems.addObject().put("id", p.id()).put("name", p.name());
            }
        }
        ArrayNode orderFields = out.putArray("orderFields");
        MappingValidator.ORDER_FIELDS.forEach(orderFields::add);
        return out;
    }

    /** "Electronics / Smartphones": the section's path from the catalog root, so nested sections read clearly. */
    private static String path(CatalogSection s, Map<Long, CatalogSection> byId) {
        StringBuilder b = new StringBuilder(s.name());
        CatalogSection at = s;
        for (int depth = 0; at.parentId() != null && depth < 50; depth++) {
            at = byId.get(at.parentId());
            if (at == null) {
                break;
            }
            b.insert(0, at.name() + " / ");
        }
        return b.toString();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    static JsonNode empty() {
        return JSON.objectNode();
    }
}
