package org.dealbridge.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.apache.logging.log4j.core.LoggerContext;
import org.junit.jupiter.api.Test;

/** The two shipped log configurations: text masks webhook codes as a last resort, json writes one object per line. */
class LoggingConfigurationTest {

    private static String logWith(String resource, String message) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            URI config = LoggingConfigurationTest.class.getResource(resource).toURI();
            LoggerContext context = new LoggerContext("logging-test-" + resource, null, config);
            context.start();
            context.getLogger("org.dealbridge.test").info(message);
            context.stop();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void textLogsMaskAWebhookCodeThatReachedAMessage() throws Exception {
        String out = logWith("/log4j2.xml", "calling https://shop.bitrix24.ru/rest/1/s3cr3tc0de/crm.deal.add failed");
        assertThat(out).contains("/rest/1/***").doesNotContain("s3cr3tc0de").contains("INFO");
    }

    @Test
    void jsonLogsAreOneJsonObjectPerLine() throws Exception {
        String out = logWith("/log4j2-json.xml", "order s1:5001 skipped");
        String line = out.lines().filter(l -> l.contains("s1:5001")).findFirst().orElseThrow();
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.get("message").asText()).isEqualTo("order s1:5001 skipped");
        assertThat(json.get("log.level").asText()).isEqualTo("INFO");
    }
}
