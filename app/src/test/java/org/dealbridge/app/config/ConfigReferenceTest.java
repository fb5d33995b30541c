package org.dealbridge.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigReferenceTest {
    @Test
    void theReadmesConfigurationTableIsTheOneGeneratedFromTheDefinitions() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("<!-- CONFIG-REFERENCE:START");
        int end = readme.indexOf("<!-- CONFIG-REFERENCE:END -->");
        assertThat(start).as("README has the CONFIG-REFERENCE markers").isGreaterThan(0);
        String inReadme = readme.substring(readme.indexOf('\n', start) + 1, end);
        assertThat(inReadme)
                .as("README.md's configuration table is stale; regenerate it with ConfigReference.main and paste it between the markers")
                .isEqualTo(ConfigReference.markdownTable());
    }
}
