package org.dealbridge.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The console is off by default, and on only with a secret: there is no default credential. */
class ConsoleConfigTest {
    @Test
    void theConsoleIsOffByDefaultAndNeedsNoToken() {
        DealBridgeConfig config = new DealBridgeConfig(Map.of());
        assertThat(config.getBoolean(DealBridgeConfig.CONSOLE_ENABLED)).isFalse();
        assertThat(config.secret(DealBridgeConfig.CONSOLE_TOKEN)).isNull();
    }

    @Test
    void anEnabledConsoleWithoutATokenStopsStartUpNamingTheKey() {
        assertThatThrownBy(() -> new DealBridgeConfig(Map.of(DealBridgeConfig.CONSOLE_ENABLED, "true")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("console.token").hasMessageContaining("no default credential");
        assertThatThrownBy(() -> new DealBridgeConfig(Map.of(DealBridgeConfig.CONSOLE_ENABLED, "true", DealBridgeConfig.CONSOLE_TOKEN, " ")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("console.token");
    }

    @Test
    void aShortTokenIsRefusedWithoutPrintingIt() {
        assertThatThrownBy(() -> new DealBridgeConfig(Map.of(DealBridgeConfig.CONSOLE_ENABLED, "true", DealBridgeConfig.CONSOLE_TOKEN, "secret123")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("at least 16 characters").hasMessageNotContaining("secret123");
    }

    @Test
    void aLongEnoughTokenTurnsTheConsoleOnAndIsNeverRendered() {
        DealBridgeConfig config = new DealBridgeConfig(Map.of(DealBridgeConfig.CONSOLE_ENABLED, "true",
                DealBridgeConfig.CONSOLE_TOKEN, "0123456789abcdef0123"));
        assertThat(config.secret(DealBridgeConfig.CONSOLE_TOKEN)).isEqualTo("0123456789abcdef0123");
        assertThat(config.values().toString()).doesNotContain("0123456789abcdef0123");
    }
}
