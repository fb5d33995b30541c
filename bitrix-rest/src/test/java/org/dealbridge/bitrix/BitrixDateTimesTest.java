package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BitrixDateTimesTest {
    @Test
    void wholeSecondsAndNumericOffset() {
        assertThat(BitrixDateTimes.format(OffsetDateTime.of(2024, 9, 1, 0, 0, 0, 0, ZoneOffset.ofHours(3)))).isEqualTo("2024-09-01T00:00:00+03:00");
        assertThat(BitrixDateTimes.format(OffsetDateTime.of(2024, 9, 1, 12, 0, 5, 700_000_000, ZoneOffset.UTC))).isEqualTo("2024-09-01T12:00:05+00:00");
        assertThat(BitrixDateTimes.format(Instant.parse("2024-09-01T12:00:05Z"))).isEqualTo("2024-09-01T12:00:05+00:00");
        assertThat(BitrixDateTimes.format(LocalDate.of(2024, 9, 1))).isEqualTo("2024-09-01");
    }

    @Test
    void batchCommandsAndJsonBodiesUseThePortalFormat() {
        OffsetDateTime t = OffsetDateTime.of(2024, 9, 1, 0, 0, 0, 0, ZoneOffset.ofHours(3));
        assertThat(BatchCommand.of("k", "sale.order.list", Map.of("filter", Map.of(">dateUpdate", t))).encoded())
                .isEqualTo("sale.order.list?filter[%3EdateUpdate]=2024-09-01T00%3A00%3A00%2B03%3A00");
    }
}
