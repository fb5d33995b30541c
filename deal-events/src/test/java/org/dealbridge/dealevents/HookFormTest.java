package org.dealbridge.dealevents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HookFormTest {

    private static HookForm parse(String body) throws HookForm.MalformedException {
        return HookForm.parse(body.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void bracketNamesStayFlatAndValuesAreUnescaped() throws Exception {
        HookForm form = parse("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=812&ts=1&auth%5Bapplication_token%5D=a%2Bb+c"
                + "&auth%5Bdomain%5D=%D0%BF%D0%BE%D1%80%D1%82%D0%B0%D0%BB.bitrix24.ru");
        assertThat(form.get(HookForm.EVENT)).isEqualTo("ONCRMDEALUPDATE");
        assertThat(form.get(HookForm.DEAL_ID)).isEqualTo("812");
        assertThat(form.get(HookForm.APPLICATION_TOKEN)).isEqualTo("a+b c");
        assertThat(form.get("auth[domain]")).isEqualTo("портал.bitrix24.ru");
    }

    @Test
    void theFirstOfARepeatedNameCounts() throws Exception {
        assertThat(parse("event=ONCRMDEALADD&event=ONCRMDEALDELETE").get(HookForm.EVENT)).isEqualTo("ONCRMDEALADD");
    }

    @Test
    void malformedBodiesAreNamed() {
        assertThatThrownBy(() -> parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> parse("&&")).hasMessageContaining("no form fields");
        assertThatThrownBy(() -> parse("event=%G1")).hasMessageContaining("value of event").hasMessageContaining("percent-escape");
        assertThatThrownBy(() -> parse("event=%C3%28")).hasMessageContaining("not UTF-8");
        assertThatThrownBy(() -> HookForm.parse("event=\u00e9".getBytes(StandardCharsets.UTF_8))).hasMessageContaining("non-ASCII");
    }
}
