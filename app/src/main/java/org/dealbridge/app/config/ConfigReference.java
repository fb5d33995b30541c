package org.dealbridge.app.config;

import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;

/** The README's configuration table, generated from {@link DealBridgeConfig#DEFINITION} so the two never drift. */
public final class ConfigReference {
    private ConfigReference() {
    }

    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| key | type | default | meaning |\n|---|---|---|---|\n");
        for (ConfigDef.ConfigKey key : DealBridgeConfig.DEFINITION.configKeys().values()) {
            String def = key.defaultValue == null ? "(unset)" : "`" + ConfigDef.convertToString(key.defaultValue, key.type) + "`";
            if ("`".equals(def.substring(0, 1)) && def.equals("``")) {
                def = "(empty)";
            }
            String doc = key.documentation + (key.validator != null ? " Valid: " + key.validator + "." : "");
            sb.append("| `").append(key.name).append("` | ").append(key.type.name().toLowerCase()).append(" | ")
                    .append(def).append(" | ").append(doc.replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    public static void main(String[] args) {
        System.out.print(markdownTable());
    }

    /** Keys in definition order, for tests. */
    static String keys() {
        return DealBridgeConfig.DEFINITION.configKeys().keySet().stream().collect(Collectors.joining(","));
    }
}
