package org.dealbridge.bitrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BitrixErrorsTest {
    private static BitrixException classify(int status, String code, String description) {
        return BitrixErrors.classify(status, code, description, "crm.deal.get", "https://p/rest/1/***/crm.deal.get", Duration.ofSeconds(7));
    }

    @ParameterizedTest(name = "{0} {1} \"{2}\" -> {3}")
    @CsvSource(delimiter = '|', value = {
            "503|QUERY_LIMIT_EXCEEDED|Too many requests|RATE_LIMITED",
            "429|QUERY_LIMIT_EXCEEDED|Too many requests|RATE_LIMITED",        // older docs said 429
            "429|OPERATION_TIME_LIMIT|blocked|OPERATION_LIMITED",
            "401|NO_AUTH_FOUND|Wrong authorization data|AUTH",
            "403|INVALID_CREDENTIALS|Invalid request credentials|AUTH",
            "401|INVALID_CREDENTIALS|Invalid request credentials|AUTH",      // CONFLICT §1.5: server source says 401
            "403|insufficient_scope|higher privileges|AUTH",
            "401|insufficient_scope|higher privileges|AUTH",
            "401|expired_token|expired|AUTH",
            "401|invalid_token|invalid|AUTH",
            "403|WRONG_AUTH_TYPE|denied for this method|AUTH",
            "403|ACCESS_DENIED|REST API is available only on commercial plans|AUTH",
            "400|INVALID_REQUEST|Https required.|AUTH",
            "500|INTERNAL_SERVER_ERROR|Internal server error|TRANSIENT",
            "502|''|''|TRANSIENT",
            "503|OVERLOAD_LIMIT|REST API is blocked due to overload.|TRANSIENT",
            "500|ERROR_CORE|SQL query error!|TRANSIENT",
            "400|ERROR_CORE|The field Work e-mail contains an invalid address|INVALID",
            "400|ERROR_ARGUMENT|bad|INVALID",
            "400|''|ID is not defined or invalid.|INVALID",
            "400|''|Not found|NOT_FOUND",
            "400|''|Not found.|NOT_FOUND",
            "400|''|Contact is not found|NOT_FOUND",
            "400|NOT_FOUND|Element not found|NOT_FOUND",
            "400|ERROR_NOT_FOUND|Element not found|NOT_FOUND",
            "400|200540400001|order does not exist|NOT_FOUND",
            "400|201240400001|Order not found|NOT_FOUND",
            "400|200640400001|payment does not exist|NOT_FOUND",
            "400|200040300010|insufficient permissions|AUTH",
            "400|100|required parameter|INVALID",
            "400|0|product does not exist|NOT_FOUND",
            "400|0|required fields missing|INVALID",
            "404|ERROR_METHOD_NOT_FOUND|Method not found!|INVALID",
            "400|ERROR_BATCH_LENGTH_EXCEEDED|Max batch length exceeded|INVALID",
            "400|Communication type is not defined|Parameter 'type' is required.|INVALID",
            "200|''|Access denied.|INVALID",
    })
    void classifiesByErrorString(int status, String code, String description, BitrixException.Kind expected) {
        BitrixException e = classify(status, code, description);
        assertThat(e.kind()).isEqualTo(expected);
        assertThat(e.errorCode()).isEqualTo(code);
        assertThat(e.httpStatus()).isEqualTo(status);
        assertThat(e.retryable()).isEqualTo(expected.retryable());
    }

    @Test
    void subclassesMatchKinds() {
        assertThat(classify(503, "QUERY_LIMIT_EXCEEDED", "")).isInstanceOf(BitrixException.RateLimited.class);
        assertThat(classify(429, "OPERATION_TIME_LIMIT", "")).isInstanceOfSatisfying(BitrixException.OperationTimeLimit.class,
                e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7)));
        assertThat(classify(500, "INTERNAL_SERVER_ERROR", "")).isInstanceOf(BitrixException.TransientFailure.class);
        assertThat(classify(401, "NO_AUTH_FOUND", "")).isInstanceOf(BitrixException.AuthFailure.class);
        assertThat(classify(400, "", "Not found")).isInstanceOf(BitrixException.NotFound.class);
        assertThat(classify(400, "", "bad")).isInstanceOf(BitrixException.ValidationFailure.class);
    }

    @Test
    void messageNamesMethodCodeAndMaskedUrl() {
        BitrixException e = classify(400, "200540400001", "order does not exist");
        assertThat(e.getMessage()).contains("crm.deal.get", "200540400001", "order does not exist", "http=400", "/rest/1/***/");
    }
}
