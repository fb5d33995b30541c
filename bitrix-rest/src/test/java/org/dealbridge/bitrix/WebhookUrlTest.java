package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WebhookUrlTest {
    private static final String CODE = "8g9l071eismy9q2l";

    @Test
    void parsesAndMasksTheCode() {
        WebhookUrl url = WebhookUrl.parse("https://example.bitrix24.com/rest/7/" + CODE + "/", false);
        assertThat(url.userId()).isEqualTo("7");
        assertThat(url.toString()).isEqualTo("https://example.bitrix24.com/rest/7/***/").doesNotContain(CODE);
        assertThat(url.maskedMethodUrl("crm.deal.get")).isEqualTo("https://example.bitrix24.com/rest/7/***/crm.deal.get");
        assertThat(url.methodUri("crm.deal.get").toString()).isEqualTo("https://example.bitrix24.com/rest/7/" + CODE + "/crm.deal.get");
        assertThat(url.mask("boom at /rest/7/" + CODE + "/x")).isEqualTo("boom at /rest/7/***/x");
        assertThat(url.portalKey()).isEqualTo("https://example.bitrix24.com:443");
    }

    @Test
    void addsMissingTrailingSlash() {
        assertThat(WebhookUrl.parse("https://p.example/rest/1/" + CODE, false).methodUri("batch").toString())
                .isEqualTo("https://p.example/rest/1/" + CODE + "/batch");
    }

    @Test
    void refusesPlainHttpToARemoteHostNamingTheMaskedUrl() {
        assertThatThrownBy(() -> WebhookUrl.parse("http://example.bitrix24.com/rest/1/" + CODE + "/", false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http://example.bitrix24.com/rest/1/***/")
                .hasMessageNotContaining(CODE);
        assertThat(WebhookUrl.parse("http://example.bitrix24.com/rest/1/" + CODE + "/", true).masked()).contains("***");
    }

    @Test
    void allowsPlainHttpOnLoopback() {
        assertThat(WebhookUrl.parse("http://127.0.0.1:8080/rest/1/" + CODE + "/", false).portalKey()).isEqualTo("http://127.0.0.1:8080");
        assertThat(WebhookUrl.parse("http://localhost:8080/rest/1/" + CODE + "/", false).host()).isEqualTo("localhost");
    }

    @Test
    void rejectsMalformedUrlsWithoutPrintingTheCode() {
        assertThatThrownBy(() -> WebhookUrl.parse("https://p.example/rest/abc/" + CODE + "/", false))
                .hasMessageContaining("/rest/{userId}/{code}/").hasMessageNotContaining(CODE);
        assertThatThrownBy(() -> WebhookUrl.parse("https://p.example/rest/1/" + CODE + "/?x=1", false))
                .hasMessageNotContaining(CODE);
        assertThatThrownBy(() -> WebhookUrl.parse("ftp://p.example/rest/1/" + CODE + "/", false))
                .hasMessageNotContaining(CODE);
        assertThatThrownBy(() -> WebhookUrl.parse("https://p.example/crm/", false)).hasMessageContaining("/rest/");
    }
}
