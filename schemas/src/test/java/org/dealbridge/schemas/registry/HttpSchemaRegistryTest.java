package org.dealbridge.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.dealbridge.schemas.OrderChanged;
import org.dealbridge.schemas.SampleRecords;
import org.dealbridge.schemas.Topics;
import org.dealbridge.retry.RetryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP client against a stub answering as the Confluent Schema Registry API reference says. */
class HttpSchemaRegistryTest {
    private static final Schema ORDER = OrderChanged.getClassSchema();
    private static final String ORDER_SUBJECT = "order-changes-value";
    private final ObjectMapper json = new ObjectMapper();
    private ConfluentApiStub stub;

    private HttpSchemaRegistry client(String prefix) throws IOException {
        stub = new ConfluentApiStub(prefix);
        return new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(stub.url()).withRetries(2, Duration.ofMillis(10)));
    }

    @AfterEach
    void stopStub() {
        if (stub != null) {
            stub.close();
        }
    }

    private String schemaAnswer(Schema schema) throws IOException {
        return json.writeValueAsString(Map.of("schema", schema.toString()));
    }

    @Test
    void registerPostsTheSchemaAndReturnsTheIdTheRegistryGave() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 200, "{\"id\":21}");

        assertThat(registry.register(ORDER_SUBJECT, ORDER)).isEqualTo(21);

        ConfluentApiStub.Request request = stub.requests().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
        assertThat(request.accept()).startsWith("application/vnd.schemaregistry.v1+json");
        assertThat(request.authorization()).isNull();
        JsonNode body = json.readTree(request.body());
        assertThat(body.get("schemaType").asText()).isEqualTo("AVRO");
        assertThat(new Schema.Parser().parse(body.get("schema").asText())).isEqualTo(ORDER);
    }

    @Test
    void registeredIdsAndTheirSchemasAreCached() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 200, "{\"id\":21}");
        registry.register(ORDER_SUBJECT, ORDER);
        registry.register(ORDER_SUBJECT, ORDER);
        assertThat(registry.schemaById(21)).isEqualTo(ORDER);
        assertThat(stub.requests()).hasSize(1);
    }

    @Test
    void schemaByIdFetchesParsesAndCachesTheSchema() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("GET", "/schemas/ids/7", 200, schemaAnswer(ORDER));

        assertThat(registry.schemaById(7)).isEqualTo(ORDER);
        assertThat(registry.schemaById(7)).isEqualTo(ORDER);
        assertThat(stub.requests()).extracting(ConfluentApiStub.Request::method, ConfluentApiStub.Request::path)
                .containsExactly(tuple("GET", "/schemas/ids/7"));
    }

    @Test
    void anUnknownIdIsTheRegistrys40403() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("GET", "/schemas/ids/77", 404, "{\"error_code\":40403,\"message\":\"Schema 77 not found\"}");

        assertThatThrownBy(() -> registry.schemaById(77))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403))
                .hasMessageContaining(stub.url()).hasMessageContaining("GET /schemas/ids/77")
                .hasMessageContaining("HTTP 404").hasMessageContaining("Schema 77 not found");
        assertThat(stub.requests()).hasSize(1); // a 4xx is an answer, not a failure: no retry
    }

    @Test
    void anIncompatibleSchemaIsTheRegistrys409() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 409,
                "{\"error_code\":409,\"message\":\"Schema being registered is incompatible with an earlier schema for subject \\\"order-changes-value\\\"\"}");

        assertThatThrownBy(() -> registry.register(ORDER_SUBJECT, ORDER))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.INCOMPATIBLE))
                .hasMessageContaining("incompatible with an earlier schema");
        // a refused registration is not cached
        assertThatThrownBy(() -> registry.register(ORDER_SUBJECT, ORDER)).isInstanceOf(SchemaRegistryException.class);
        assertThat(stub.requests()).hasSize(2);
    }

    @Test
    void anInvalidSchemaIsTheRegistrys42201() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 422,
                "{\"error_code\":42201,\"message\":\"Either the input schema or one of its references is invalid\"}");

        assertThatThrownBy(() -> registry.register(ORDER_SUBJECT, ORDER))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.INVALID_SCHEMA))
                .hasMessageContaining("HTTP 422").hasMessageContaining("input schema or one of its references is invalid");
    }

    @Test
    void compatibilityIsCheckedAgainstTheLatestVersion() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/compatibility/subjects/order-changes-value/versions/latest", 200, "{\"is_compatible\":true}")
                .answer("POST", "/compatibility/subjects/deal-changes-value/versions/latest", 200, "{\"is_compatible\":false}");

        assertThat(registry.isCompatible(ORDER_SUBJECT, ORDER)).isTrue();
        assertThat(registry.isCompatible("deal-changes-value", ORDER)).isFalse();
        assertThat(json.readTree(stub.requests().get(0).body()).get("schemaType").asText()).isEqualTo("AVRO");
        assertThat(stub.requests().get(0).contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
    }

    @Test
    void aSubjectNotFoundIsANewSubjectSoCompatible() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/compatibility/subjects/order-changes-value/versions/latest", 404,
                "{\"error_code\":40401,\"message\":\"Subject 'order-changes-value' not found.\"}");

        assertThat(registry.isCompatible(ORDER_SUBJECT, ORDER)).isTrue();
    }

    @Test
    void otherCompatibilityErrorsAreNotTakenForCompatible() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/compatibility/subjects/order-changes-value/versions/latest", 422,
                "{\"error_code\":42201,\"message\":\"Invalid schema\"}");

        assertThatThrownBy(() -> registry.isCompatible(ORDER_SUBJECT, ORDER))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(42201));
    }

    @Test
    void aPathPrefixSuchAsApicuriosCcompatIsKept() throws IOException {
        HttpSchemaRegistry registry = client("/apis/ccompat/v7");
        stub.answer("POST", "/subjects/order-changes-value/versions", 200, "{\"id\":3}")
                .answer("GET", "/schemas/ids/4", 200, schemaAnswer(ORDER))
                .answer("POST", "/compatibility/subjects/order-changes-value/versions/latest", 200, "{\"is_compatible\":true}");

        assertThat(registry.register(ORDER_SUBJECT, ORDER)).isEqualTo(3);
        assertThat(registry.schemaById(4)).isEqualTo(ORDER);
        assertThat(registry.isCompatible(ORDER_SUBJECT, ORDER)).isTrue();

        HttpSchemaRegistry trailingSlash = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(stub.url() + "/"));
        stub.answer("GET", "/schemas/ids/5", 200, schemaAnswer(ORDER));
        assertThat(trailingSlash.schemaById(5)).isEqualTo(ORDER);
        assertThat(stub.requests()).extracting(ConfluentApiStub.Request::path).doesNotContain("(outside prefix)");
    }

    @Test
    void subjectsAreEncodedAsOnePathSegment() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/odd%20topic%2Fx-value/versions", 200, "{\"id\":9}");
        assertThat(registry.register("odd topic/x-value", ORDER)).isEqualTo(9);
    }

    @Test
    void basicAuthFromTheUrlIsSentButNeverShown() throws IOException {
        stub = new ConfluentApiStub("");
        String url = stub.url().replace("http://", "http://dealbridge:s3cr3t-pa55@");
        HttpSchemaRegistry registry = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(url).withRetries(0, Duration.ofMillis(10)));
        stub.answer("GET", "/schemas/ids/1", 401, "{\"error_code\":401,\"message\":\"Unauthorized\"}");

        assertThatThrownBy(() -> registry.schemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(401))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t").contains("http://127.0.0.1:"));
        assertThat(stub.requests().get(0).authorization())
                .isEqualTo("Basic " + Base64.getEncoder().encodeToString("dealbridge:s3cr3t-pa55".getBytes(StandardCharsets.UTF_8)));
        assertThat(registry.toString()).doesNotContain("s3cr3t").contains("dealbridge");
        assertThat(registry.endpoint().baseUrl().toString()).doesNotContain("s3cr3t");
    }

    @Test
    void serverErrorsAreRetriedAndThenSucceed() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("GET", "/schemas/ids/2", 503, "{\"error_code\":50003,\"message\":\"Error while forwarding the request to the leader\"}")
                .answer("GET", "/schemas/ids/2", 500, "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}")
                .answer("GET", "/schemas/ids/2", 200, schemaAnswer(ORDER));

        assertThat(registry.schemaById(2)).isEqualTo(ORDER);
        assertThat(stub.requests()).hasSize(3);
    }

    @Test
    void serverErrorsThatPersistAreThrownWithTheRegistrysCode() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 500, "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}");

        assertThatThrownBy(() -> registry.register(ORDER_SUBJECT, ORDER))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(50001))
                .hasMessageContaining("after 3 attempts").hasMessageContaining("backend data store");
        assertThat(stub.requests()).hasSize(3);
    }

    @Test
    void retriesStopAtTheEndpointsAttemptsAndNoWaitExceedsItsCap() throws IOException {
        stub = new ConfluentApiStub("");
        List<Duration> waits = new ArrayList<>();
        RetryPolicy policy = new RetryPolicy(4, Duration.ofMillis(300), Duration.ofMillis(500));
        HttpSchemaRegistry registry = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(stub.url()).withRetry(policy), waits::add);
        stub.answer("GET", "/schemas/ids/2", 503, "{\"error_code\":50003,\"message\":\"leader unavailable\"}");

        assertThatThrownBy(() -> registry.schemaById(2)).hasMessageContaining("after 4 attempts");

        assertThat(stub.requests()).hasSize(4);
        assertThat(waits).hasSize(3).allSatisfy(wait -> assertThat(wait).isLessThanOrEqualTo(Duration.ofMillis(500)));
    }

    @Test
    void anErrorPageThatIsNotJsonKeepsTheHttpStatusAsCode() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("GET", "/schemas/ids/3", 403, "<html><body>Forbidden by proxy</body></html>");

        assertThatThrownBy(() -> registry.schemaById(3))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(403))
                .hasMessageContaining("Forbidden by proxy");
    }

    @Test
    void anAnswerWithoutTheExpectedFieldIsReported() throws IOException {
        HttpSchemaRegistry registry = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 200, "{\"version\":1}")
                .answer("GET", "/schemas/ids/8", 200, "{\"schema\":\"{not avro\"}");

        assertThatThrownBy(() -> registry.register(ORDER_SUBJECT, ORDER)).hasMessageContaining("without a numeric \"id\"");
        assertThatThrownBy(() -> registry.schemaById(8)).hasMessageContaining("schema id 8 is not a valid Avro schema");
    }

    @Test
    void anUnreachableRegistryFailsAfterTheRetries() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HttpSchemaRegistry registry = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of("http://127.0.0.1:" + closedPort)
                .withRetries(1, Duration.ofMillis(10)).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2)));

        assertThatThrownBy(() -> registry.schemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.NO_CODE))
                .hasMessageContaining("after 2 attempt(s)");
    }

    @Test
    void theSerdeRegistersOnFirstWriteAndAFreshReaderFetchesTheSchemaById() throws IOException {
        HttpSchemaRegistry writerSide = client("");
        stub.answer("POST", "/subjects/order-changes-value/versions", 200, "{\"id\":42}")
                .answer("GET", "/schemas/ids/42", 200, schemaAnswer(ORDER));
        OrderChanged order = SampleRecords.orderChanged();

        byte[] bytes = new Topics(writerSide).orderChanges().valueSerde().serializer().serialize("order-changes", order);
        HttpSchemaRegistry readerSide = new HttpSchemaRegistry(HttpSchemaRegistry.Endpoint.of(stub.url()));
        OrderChanged back = new Topics(readerSide).orderChanges().valueSerde().deserializer().deserialize("order-changes", bytes);

        assertThat(back).isEqualTo(order);
        assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(42);
        assertThat(stub.requests()).extracting(ConfluentApiStub.Request::method, ConfluentApiStub.Request::path).containsExactly(
                tuple("POST", "/subjects/order-changes-value/versions"),
                tuple("GET", "/schemas/ids/42"));
    }

    @Test
    void endpointsAreValidated() {
        assertThatThrownBy(() -> HttpSchemaRegistry.Endpoint.of("ftp://registry:21"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://registry:21");
        assertThatThrownBy(() -> HttpSchemaRegistry.Endpoint.of("http://registry:8081").withBasicAuth("no-colon-secret"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("no-colon-secret");
        assertThatThrownBy(() -> HttpSchemaRegistry.Endpoint.of("http://registry:8081").withRetries(-1, Duration.ofMillis(1)))
                .hasMessageContaining("-1");
    }
}
