package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchCommandTest {
    @Test
    void encodesNestedParamsInPhpBracketNotation() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("TITLE", "Order #5 & co");
        fields.put("OPPORTUNITY", new BigDecimal("15400.50"));
        fields.put("CONTACT_IDS", List.of(55, 56));
        fields.put("SKIPPED", null);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("fields", fields);
        params.put("params", Map.of("REGISTER_SONET_EVENT", "N"));
        assertThat(BatchCommand.of("a", "crm.deal.add", params).encoded()).isEqualTo(
                "crm.deal.add?fields[TITLE]=Order+%235+%26+co&fields[OPPORTUNITY]=15400.50"
                        + "&fields[CONTACT_IDS][0]=55&fields[CONTACT_IDS][1]=56&params[REGISTER_SONET_EVENT]=N");
    }

    @Test
    void referencesAreWrittenVerbatim() {
        BatchCommand get = BatchCommand.of("deal", "crm.deal.get", Map.of("id", BatchCommand.ref("find", "0", "ID")));
        assertThat(get.encoded()).isEqualTo("crm.deal.get?id=$result[find][0][ID]");
        // a literal string that looks like a reference is data, not a reference
        assertThat(BatchCommand.of("x", "crm.deal.add", Map.of("fields", Map.of("TITLE", "$result[a]"))).encoded())
                .isEqualTo("crm.deal.add?fields[TITLE]=%24result%5Ba%5D");
    }

    @Test
    void aKeyPrefixRenamesTheCommandAndEveryReferenceInIt() {
        BatchCommand list = BatchCommand.of("list0", "crm.contact.list", Map.of(
                "filter", Map.of("@ID", BatchCommand.ref("find0", "CONTACT")), "select", List.of("ID", "EMAIL")));
        BatchCommand renamed = list.withKeyPrefix("next_");
        assertThat(renamed.key()).isEqualTo("next_list0");
        assertThat(renamed.encoded()).startsWith("crm.contact.list?").contains("filter[%40ID]=$result[next_find0][CONTACT]")
                .contains("select[0]=ID&select[1]=EMAIL");
        assertThat(list.encoded()).contains("$result[find0][CONTACT]");
    }

    @Test
    void booleansAsPhpWritesThem() {
        assertThat(BatchCommand.of("x", "m.get", Map.of("a", true)).encoded()).isEqualTo("m.get?a=1");
        assertThat(BatchCommand.of("x", "m.get", Map.of()).encoded()).isEqualTo("m.get");
    }

    @Test
    void rejectsBadKeysAndNestedBatch() {
        assertThatThrownBy(() -> BatchCommand.of("a[b]", "crm.deal.get", Map.of())).hasMessageContaining("a[b]");
        assertThatThrownBy(() -> BatchCommand.of("a", "batch", Map.of())).hasMessageContaining("nested batch");
        assertThatThrownBy(() -> BatchCommand.ref("k", "a]")).hasMessageContaining("a]");
    }

    @Test
    void idempotenceByMethodName() {
        assertThat(Idempotence.ofMethod("crm.deal.get")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.deal.list")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("user.get")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("sale.order.getFields")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.duplicate.findbycomm")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.deal.contact.items.get")).isEqualTo(Idempotence.IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.deal.add")).isEqualTo(Idempotence.NOT_IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.deal.update")).isEqualTo(Idempotence.NOT_IDEMPOTENT);
        assertThat(Idempotence.ofMethod("crm.deal.contact.items.set")).isEqualTo(Idempotence.NOT_IDEMPOTENT);
        assertThat(Idempotence.ofMethod("sale.order.add")).isEqualTo(Idempotence.NOT_IDEMPOTENT);
    }
}
