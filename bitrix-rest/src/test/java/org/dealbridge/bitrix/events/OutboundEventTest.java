package org.dealbridge.bitrix.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutboundEventTest {

    private static OutboundEvent parse(String body) {
        return OutboundEvent.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheEventAsTheQueueServerEncodesIt() {
        OutboundEvent event = parse("event=ONSALEORDERSAVED&event_handler_id=975&data%5BFIELDS%5D%5BID%5D=300"
                + "&data%5BFIELDS%5D%5BXML_ID%5D=bx_63498bf7c8d31&data%5BFIELDS%5D%5BACTION%5D=save&ts=1766047124"
                + "&auth%5Bdomain%5D=shop.example.com&auth%5Bapplication_token%5D=jvh9y1ulvt2m6k5or90v9mg8nn32ozas&auth%5Bexpires%5D=3600");
        assertThat(event.name()).isEqualTo("ONSALEORDERSAVED");
        assertThat(event.id("order")).isEqualTo(300);
        assertThat(event.get("data[FIELDS][XML_ID]")).isEqualTo("bx_63498bf7c8d31");
        assertThat(event.get(OutboundEvent.APPLICATION_TOKEN)).isEqualTo("jvh9y1ulvt2m6k5or90v9mg8nn32ozas");
        assertThat(event.get("auth[expires]")).isEqualTo("3600");
        assertThat(event.get("missing")).isNull();
    }

    @Test
    void decodesPlusMultiByteEscapesAndRawUtf8() {
        OutboundEvent event = parse("event=onCrmDealUpdate&a=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7+1&auth%5Bapplication_token%5D=a%2Bb+c"
                + "&auth%5Bdomain%5D=портал.bitrix24.ru&data[FIELDS][ID]=7");
        assertThat(event.name()).as("event codes are compared upper-case").isEqualTo("ONCRMDEALUPDATE");
        assertThat(event.get("a")).isEqualTo("Заказ 1");
        assertThat(event.get(OutboundEvent.APPLICATION_TOKEN)).isEqualTo("a+b c");
        assertThat(event.get("auth[domain]")).isEqualTo("портал.bitrix24.ru");
        assertThat(event.id("deal")).isEqualTo(7);
    }

    @Test
    void aRepeatedNameKeepsItsLastValueAsPhpDoes() {
        assertThat(parse("event=ONCRMDEALADD&event=ONCRMDEALDELETE").name()).isEqualTo("ONCRMDEALDELETE");
    }

    @Test
    void aBadIdIsNamedWithItsValue() {
        assertThatThrownBy(() -> parse("event=X").id("order")).hasMessageContaining("data[FIELDS][ID] is missing");
        assertThatThrownBy(() -> parse("event=X&data[FIELDS][ID]=-3").id("order"))
                .hasMessageContaining("positive order id").hasMessageContaining("'-3'");
        assertThatThrownBy(() -> parse("event=X&data[FIELDS][ID]=abc").id("deal")).hasMessageContaining("'abc'");
    }

    @Test
    void badPercentEscapeIsNamedWithTheField() {
        assertThatThrownBy(() -> parse("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=3%zz"))
                .isInstanceOf(OutboundEvent.MalformedEventException.class)
                .hasMessageContaining("data[FIELDS][ID]").hasMessageContaining("3%zz");
        assertThatThrownBy(() -> parse("event=%G1")).hasMessageContaining("value of field event").hasMessageContaining("percent-escape");
        assertThatThrownBy(() -> parse("event=%4")).hasMessageContaining("percent-escape");
    }

    @Test
    void aBrokenTokenValueIsNeverQuotedBack() {
        assertThatThrownBy(() -> parse("event=X&auth%5Bapplication_token%5D=s3cr3tvalue%ZZ"))
                .isInstanceOf(OutboundEvent.MalformedEventException.class)
                .hasMessageContaining("auth[application_token]")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3tvalue"));
    }

    @Test
    void emptyNonUtf8AndEventlessBodiesAreRefused() {
        assertThatThrownBy(() -> parse("  ")).hasMessageContaining("body is empty");
        assertThatThrownBy(() -> parse("&&")).hasMessageContaining("'event' is missing");
        assertThatThrownBy(() -> OutboundEvent.parse(new byte[] {(byte) 0xC3, (byte) 0x28})).hasMessageContaining("not UTF-8");
        assertThatThrownBy(() -> parse("event=X&a=%C3%28")).hasMessageContaining("not UTF-8").hasMessageContaining("field a");
    }
}
