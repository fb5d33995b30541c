package org.dealbridge.dealprojector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class DealProjectorConfigTest {

    @Test
    void defaultsAreDocumentedValues() {
        DealProjectorConfig config = DealProjectorConfig.defaults();
        assertThat(config.originatorId("s1")).isEqualTo("dealbridge:s1");
        assertThat(config.coalesceWindow()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.batchSize()).isEqualTo(50);
        assertThat(config.createLinkTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(DealProjectorConfig.CONFIG_DEF.names()).contains("deal-projector.coalesce-window", "crm.originator-prefix");
    }

    @Test
    void aBatchLargerThanThePortalRunsIsRejectedNamingTheSetting() {
        assertThatThrownBy(() -> new DealProjectorConfig(Map.of(DealProjectorConfig.BATCH_SIZE, "51")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("crm.batch-size").hasMessageContaining("51");
    }

    @Test
    void anOriginatorPrefixWithAColonIsRejectedNamingTheValue() {
        assertThatThrownBy(() -> new DealProjectorConfig(Map.of(DealProjectorConfig.ORIGINATOR_PREFIX, "shop:x")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("crm.originator-prefix").hasMessageContaining("shop:x");
    }

    @Test
    void aMaximumBackoffBelowTheInitialOneIsRejected() {
        assertThatThrownBy(() -> new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.initialBackoff(), "2000",
                DealProjectorConfig.CONNECTOR.maxBackoff(), "1000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("crm.max-backoff");
    }

    @Test
    void theUnreachableBackoffIsTypedValidatedAndNotBelowTheInitialBackoff() {
        assertThat(new DealProjectorConfig(Map.of()).unreachableBackoffMax()).isEqualTo(java.time.Duration.ofMinutes(1));
        assertThat(new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.unreachableBackoffMax(), "3000")).unreachableBackoffMax())
                .isEqualTo(java.time.Duration.ofSeconds(3));
        assertThatThrownBy(() -> new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.unreachableBackoffMax(), "soon")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("crm.unreachable-backoff-max").hasMessageContaining("soon");
        assertThatThrownBy(() -> new DealProjectorConfig(Map.of(DealProjectorConfig.CONNECTOR.initialBackoff(), "2000",
                DealProjectorConfig.CONNECTOR.unreachableBackoffMax(), "1000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("crm.unreachable-backoff-max").hasMessageContaining("1000");
    }
}
