package org.dealbridge.schemas;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** One realistic record of every value type in {@link Topics}, with unions set both ways, arrays, maps and timestamps. */
public final class SampleRecords {
    private SampleRecords() {
    }

    public static final Instant CHANGED_AT = Instant.parse("2026-11-28T14:03:27.481Z");

    public static OrderChanged orderChanged() {
        return OrderChanged.newBuilder()
                .setSiteId("s1").setOrderId(5001).setAccountNumber("5001-A").setStatusId("P")
                .setCanceled(false).setPaid(true).setCurrency("RUB").setPrice("12990.50")
                .setPaySystemIds(List.of(3L, 7L))
                .setBuyer(Buyer.newBuilder().setName("Анна Петрова").setEmail("anna@example.ru").setPhone(null).build())
                .setItems(List.of(
                        BasketItem.newBuilder().setProductId(1201).setParentProductId(1200L).setName("Чайник, белый")
                                .setPrice("4990.50").setQuantity("1").setSectionPath(List.of(10L, 14L, 57L)).build(),
                        BasketItem.newBuilder().setProductId(88).setParentProductId(null).setName("Фильтр")
                                .setPrice("4000.00").setQuantity("2").setSectionPath(List.of()).build()))
                .setXmlId(null)
                .setDateUpdate(CHANGED_AT)
                .setVersion(7L)
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.STORE_HOOK).setActor("user:17").build())
                .build();
    }

    public static DealChanged dealChanged() {
        Map<String, String> userFields = new LinkedHashMap<>();
        userFields.put("UF_CRM_DELIVERY", "courier");
        userFields.put("UF_CRM_TAGS", "vip,repeat");
        return DealChanged.newBuilder()
                .setDealId(812).setDeleted(false).setTitle("Заказ 5001-A").setCategoryId(3).setStageId("C3:PREPARATION")
                .setAssignedById(1L).setContactId(null).setOpportunity("12990.50").setCurrency("RUB")
                .setOriginatorId("dealbridge:s1").setOriginId("5001").setUserFields(userFields)
                .setProductRows(List.of(
                        ProductRow.newBuilder().setProductId(1201L).setName("Чайник, белый").setPrice("4990.50").setQuantity("1").build(),
                        ProductRow.newBuilder().setProductId(null).setName("Доставка").setPrice("0.5").setQuantity("0.5").build()))
                .setDateModify(CHANGED_AT)
                .setCause(ChangeCause.newBuilder().setSource(ChangeSource.CRM_HOOK).setActor(null).build())
                .build();
    }

    public static DealCommand dealCommand() {
        return DealCommand.newBuilder()
                .setCommandId("6f1c7a0e-6b8e-4d0f-9a55-1f2d3c4b5a69").setKind(DealCommandKind.UPDATE)
                .setSiteId("s1").setOrderId(5001).setDealId(812L).setOriginatorId("dealbridge:s1")
                .setFields(Map.of("STAGE_ID", "C3:WON", "OPPORTUNITY", "12990.50"))
                .setExpected(Map.of("STAGE_ID", "C3:PREPARATION"))
                .setProductRows(List.of(ProductRow.newBuilder().setProductId(1201L).setName("Чайник").setPrice("4990.50").setQuantity("1").build()))
                .setBuyer(Buyer.newBuilder().setName("Анна").setEmail(null).setPhone("+7 900 000-00-00").build())
                .setResolveResponsibleFromContact(true).setMappingVersion(4)
                .setSourceTime(CHANGED_AT)
                .build();
    }

    public static OrderCommand orderCommand() {
        return OrderCommand.newBuilder()
                .setCommandId("0b7c1a52-3d7e-4a43-8a77-9e4c0d2b1f10").setKind(OrderCommandKind.CREATE)
                .setSiteId("s1").setDealId(913).setOrderId(null).setStatusId("N").setExpectedStatusId(null)
                .setBuyer(Buyer.newBuilder().setName("Иван").setEmail("ivan@example.ru").setPhone(null).build())
                .setItems(List.of(ProductRow.newBuilder().setProductId(1201L).setName("Чайник").setPrice("4990.50").setQuantity("3").build()))
                .setPaySystemId(3L).setCurrency("RUB").setMappingVersion(4)
                .setSourceTime(CHANGED_AT)
                .build();
    }

    public static MappingProfile mappingProfile() {
        return MappingProfile.newBuilder()
                .setSiteId("s1").setVersion(4).setAuthor("admin").setPublishedAt(CHANGED_AT)
                .setContentHash("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                .setDocument("site: s1\npipelines:\n  - id: 3\n    sections: [14]\n")
                .build();
    }

    public static SyncLink syncLink() {
        return SyncLink.newBuilder()
                .setSiteId("s1").setOrderId(5001).setDealId(812).setCategoryId(3).setStageId("C3:WON").setStatusId("F")
                .setDealFields(Map.of("TITLE", "Заказ 5001-A")).setOrigin(LinkOrigin.DEAL)
                .setUpdatedAt(CHANGED_AT)
                .build();
    }

    public static SyncOutcome syncOutcome() {
        return SyncOutcome.newBuilder()
                .setSiteId("s1").setOrderId(5001L).setDealId(null).setDirection(SyncDirection.ORDER_TO_DEAL)
                .setOutcome(Outcome.SKIPPED_UNMAPPED_STATUS).setReason("order status 'X' of order 5001 has no stage in mapping v4")
                .setMappingVersion(4L).setCommandId(null).setAt(CHANGED_AT)
                .build();
    }

    public static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setId("dl-2026-11-28-0001").setComponent("crm-connector").setSiteId("s1")
                .setSourceTopic(Topics.DEAL_COMMANDS).setSourcePartition(2).setSourceOffset(40_123L)
                .setKey(ByteBuffer.wrap("s1:5001".getBytes(StandardCharsets.UTF_8)))
                .setValue(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 7, (byte) 0xff, 1}))
                .setReason("crm.deal.update answered ERROR_CORE for field STAGE_ID = 'C9:NOPE'")
                .setErrorCode("ERROR_CORE").setAttempts(5).setFailedAt(CHANGED_AT)
                .build();
    }

    /** Every Avro value topic of {@link Topics} with a sample record. */
    public record Sample(String topic, SpecificRecord record) {
    }

    public static List<Sample> all() {
        return List.of(
                new Sample(Topics.ORDER_CHANGES, orderChanged()),
                new Sample(Topics.DEAL_CHANGES, dealChanged()),
                new Sample(Topics.DEAL_COMMANDS, dealCommand()),
                new Sample(Topics.ORDER_COMMANDS, orderCommand()),
                new Sample(Topics.MAPPING_CONFIG, mappingProfile()),
                new Sample(Topics.DEAL_LINKS, syncLink()),
                new Sample(Topics.SYNC_OUTCOMES, syncOutcome()),
                new Sample(Topics.DEAD_LETTERS, deadLetter()));
    }
}
