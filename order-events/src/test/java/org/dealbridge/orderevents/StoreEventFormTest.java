package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StoreEventFormTest {

    private static StoreEventForm parse(String body) {
        return StoreEventForm.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheOutboundEventAsTheQueueServerEncodesIt() {
        StoreEventForm form = parse("event=ONSALEORDERSAVED&event_handler_id=975&data%5BFIELDS%5D%5BID%5D=300"
                + "&data%5BFIELDS%5D%5BXML_ID%5D=bx_63498bf7c8d31&data%5BFIELDS%5D%5BACTION%5D=save&ts=1766047124"
                + "&auth%5Bdomain%5D=shop.example.com&auth%5Bapplication_token%5D=jvh9y1ulvt2m6k5or90v9mg8nn32ozas&auth%5Bexpires%5D=3600");
        assertThat(form.get(StoreEventForm.EVENT)).isEqualTo("ONSALEORDERSAVED");
        assertThat(form.get(StoreEventForm.ORDER_ID)).isEqualTo("300");
        assertThat(form.get(StoreEventForm.XML_ID)).isEqualTo("bx_63498bf7c8d31");
        assertThat(form.get(StoreEventForm.ACTION)).isEqualTo("save");
        assertThat(form.get(StoreEventForm.APPLICATION_TOKEN)).isEqualTo("jvh9y1ulvt2m6k5or90v9mg8nn32ozas");
        assertThat(form.get("auth[expires]")).isEqualTo("3600");
        assertThat(form.get("missing")).isNull();
    }

    @Test
    void decodesPlusAndMultiByteEscapes() {
        StoreEventForm form = parse("a=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7+1&data[FIELDS][ID]=7");
        assertThat(form.get("a")).isEqualTo("Заказ 1");
        assertThat(form.get(StoreEventForm.ORDER_ID)).isEqualTo("7");
    }

    @Test
    void badPercentEscapeIsNamedWithTheField() {
        assertThatThrownBy(() -> parse("event=ONSALEORDERSAVED&data%5BFIELDS%5D%5BID%5D=3%zz"))
                .isInstanceOf(StoreEventForm.MalformedEventException.class)
                .hasMessageContaining("data[FIELDS][ID]").hasMessageContaining("3%zz");
    }

    @Test
    void aBrokenTokenValueIsNeverQuotedBack() {
        assertThatThrownBy(() -> parse("event=X&auth%5Bapplication_token%5D=s3cr3tvalue%ZZ"))
                .isInstanceOf(StoreEventForm.MalformedEventException.class)
                .hasMessageContaining("auth[application_token]")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3tvalue"));
    }

    @Test
    void emptyAndNonUtf8BodiesAreRefused() {
        assertThatThrownBy(() -> parse("  ")).hasMessageContaining("body is empty");
        assertThatThrownBy(() -> StoreEventForm.parse(new byte[] {(byte) 0xC3, (byte) 0x28}))
                .hasMessageContaining("not UTF-8");
        assertThatThrownBy(() -> parse("a=%C3%28")).hasMessageContaining("not UTF-8").hasMessageContaining("field a");
    }
}
