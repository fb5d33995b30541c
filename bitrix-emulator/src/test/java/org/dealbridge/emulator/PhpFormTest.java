package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PHP parse_str semantics the emulator relies on for form bodies, GET queries and batch commands. */
class PhpFormTest {

    private static Map<String, Object> parse(String query) {
        Map<String, Object> out = new LinkedHashMap<>();
        PhpForm.parseQuery(query, out);
        return out;
    }

    @Test
    void bracketsNestAndEmptyBracketsAppend() {
        Map<String, Object> p = parse("fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK&a[]=1&a[]=2&a[x]=3&a[]=4");
        assertThat(p.get("fields")).isEqualTo(Map.of("PHONE", Map.of("0", Map.of("VALUE", "112233", "VALUE_TYPE", "WORK"))));
        assertThat(p.get("a")).isEqualTo(Map.of("0", "1", "1", "2", "x", "3", "2", "4"));
        assertThat(Params.asList(p.get("a"))).containsExactly("1", "2", "3", "4");
    }

    @Test
    void valuesAreUrlDecodedAndPlusIsASpace() {
        Map<String, Object> p = parse("t=a%26b%3Fc&d=2024-09-01T00:00:00+03:00&e=%2B03:00&flag");
        assertThat(p.get("t")).isEqualTo("a&b?c");
        assertThat(p.get("d")).isEqualTo("2024-09-01T00:00:00 03:00"); // unencoded '+' is lost, as in PHP
        assertThat(p.get("e")).isEqualTo("+03:00");
        assertThat(p.get("flag")).isEqualTo("");
    }

    @Test
    void dotsInTopLevelNamesBecomeUnderscores() {
        assertThat(parse("a.b=1&c[d.e]=2")).isEqualTo(Map.of("a_b", "1", "c", Map.of("d.e", "2")));
    }

    @Test
    void encodeIsTheInverseForNestedMaps() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("event", "ONCRMDEALUPDATE");
        nested.put("data", Map.of("FIELDS", Map.of("ID", "7")));
        nested.put("list", List.of("x", "y"));
        String encoded = PhpForm.encode(nested);
        assertThat(encoded).contains("data%5BFIELDS%5D%5BID%5D=7");
        Map<String, Object> back = parse(encoded);
        assertThat(back.get("event")).isEqualTo("ONCRMDEALUPDATE");
        assertThat(back.get("data")).isEqualTo(Map.of("FIELDS", Map.of("ID", "7")));
        assertThat(back.get("list")).isEqualTo(Map.of("0", "x", "1", "y"));
    }
}
