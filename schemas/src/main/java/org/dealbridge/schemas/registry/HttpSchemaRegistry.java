package org.dealbridge.schemas.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.dealbridge.retry.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client of the Confluent Schema Registry REST API (v1), which Apicurio serves under {@code /apis/ccompat/v7}
 * and Karapace serves as is. Only the three calls the serde needs:
 * <ul>
 *   <li>{@link #register}: {@code POST /subjects/{subject}/versions} with {@code {"schema": "...", "schemaType": "AVRO"}},
 *       answer {@code {"id": N}};</li>
 *   <li>{@link #schemaById}: {@code GET /schemas/ids/{id}}, answer {@code {"schema": "..."}};</li>
 *   <li>{@link #isCompatible}: {@code POST /compatibility/subjects/{subject}/versions/latest}, answer
 *       {@code {"is_compatible": true|false}}; a 404 (subject or version not found) means a new subject, so compatible.</li>
 * </ul>
 * Registered ids and fetched schemas never change in a registry, so both are cached for the life of the client.
 * Errors become {@link SchemaRegistryException} carrying the registry's {@code error_code} (40401, 40403, 409, 42201...)
 * and {@code message}; 5xx and 429 answers and I/O failures are retried {@link Endpoint#retries()} times first.
 * Credentials go only into the Authorization header, never into logs or exception messages.
 */
public final class HttpSchemaRegistry implements SchemaRegistry {
    private static final Logger log = LoggerFactory.getLogger(HttpSchemaRegistry.class);
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";

    /**
     * Where the registry is and how to talk to it.
     *
     * @param baseUrl        the API root without credentials, e.g. {@code http://registry:8081} or
     *                       {@code http://apicurio:8080/apis/ccompat/v7}
     * @param userInfo       {@code user:password} for HTTP basic auth, or null for none
     * @param connectTimeout how long to wait for a TCP connection
     * @param requestTimeout how long to wait for one answer
     * @param retry          how a 5xx/429 answer or an I/O failure is retried: this layer's attempts per request and the
     *                       cap on each wait (by default 3 attempts, 250 ms doubling to at most 2 s)
     */
    public record Endpoint(URI baseUrl, String userInfo, Duration connectTimeout, Duration requestTimeout, RetryPolicy retry) {
        public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
        public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
        public static final int DEFAULT_RETRIES = 2;
        public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(250);
        public static final Duration DEFAULT_MAX_RETRY_BACKOFF = Duration.ofSeconds(2);

        public Endpoint {
            Objects.requireNonNull(baseUrl, "baseUrl");
            if (!"http".equals(baseUrl.getScheme()) && !"https".equals(baseUrl.getScheme()) || baseUrl.getHost() == null) {
                throw new IllegalArgumentException("schema registry URL must be http(s)://host[:port][/path] but was '" + display(baseUrl) + "'");
            }
            if (baseUrl.getRawUserInfo() != null) {
                throw new IllegalArgumentException("schema registry URL must not carry credentials here; use Endpoint.of(url) or userInfo");
            }
            if (baseUrl.getQuery() != null || baseUrl.getFragment() != null) {
                throw new IllegalArgumentException("schema registry URL must have no query or fragment but was '" + display(baseUrl) + "'");
            }
            if (userInfo != null && userInfo.indexOf(':') < 0) {
                throw new IllegalArgumentException("schema registry basic auth must look like user:password (value not shown)");
            }
            requirePositive(connectTimeout, "connectTimeout");
            requirePositive(requestTimeout, "requestTimeout");
            Objects.requireNonNull(retry, "retry");
        }

        /**
         * An endpoint with default timeouts and retries. Credentials written into the URL
         * ({@code https://user:password@host/...}) are moved into {@link #userInfo()}.
         */
        public static Endpoint of(String url) {
            URI uri;
            try {
                uri = new URI(Objects.requireNonNull(url, "schema registry URL").trim());
            } catch (URISyntaxException e) {
                // the URL may carry a password: name only the position of the problem
                throw new IllegalArgumentException("schema registry URL is not a valid URI (" + e.getReason() + " at index " + e.getIndex() + ")");
            }
            String userInfo = uri.getUserInfo();
            if (userInfo != null) {
                try {
                    uri = new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), uri.getQuery(), uri.getFragment());
                } catch (URISyntaxException e) {
                    throw new IllegalArgumentException("schema registry URL cannot be rebuilt without its credentials: " + e.getReason());
                }
            }
            return new Endpoint(uri, userInfo, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
                    retries(DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF));
        }

        public Endpoint withBasicAuth(String userInfo) {
            return new Endpoint(baseUrl, userInfo, connectTimeout, requestTimeout, retry);
        }

        public Endpoint withTimeouts(Duration connectTimeout, Duration requestTimeout) {
            return new Endpoint(baseUrl, userInfo, connectTimeout, requestTimeout, retry);
        }

        /** {@code retries} retries after the first attempt, the first after {@code retryBackoff}, each at most 2 s or that. */
        public Endpoint withRetries(int retries, Duration retryBackoff) {
            return withRetry(retries(retries, retryBackoff));
        }

        public Endpoint withRetry(RetryPolicy retry) {
            return new Endpoint(baseUrl, userInfo, connectTimeout, requestTimeout, retry);
        }

        private static RetryPolicy retries(int retries, Duration retryBackoff) {
            if (retries < 0) {
                throw new IllegalArgumentException("schema registry retries must be >= 0 but was " + retries);
            }
            requirePositive(retryBackoff, "retryBackoff");
            Duration cap = retryBackoff.compareTo(DEFAULT_MAX_RETRY_BACKOFF) > 0 ? retryBackoff : DEFAULT_MAX_RETRY_BACKOFF;
            return new RetryPolicy(retries + 1, retryBackoff, cap);
        }

        /** The base URL without a trailing slash, for messages and for building request URLs. */
        String root() {
            String s = baseUrl.toString();
            return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
        }

        @Override
        public String toString() {
            return "Endpoint[" + root() + (userInfo == null ? "" : ", basic auth as " + userInfo.substring(0, userInfo.indexOf(':')))
                    + ", connect " + connectTimeout + ", request " + requestTimeout + ", retry " + retry + "]";
        }

        private static void requirePositive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("schema registry " + name + " must be positive but was " + d);
            }
        }

        private static String display(URI uri) {
            return uri.getRawUserInfo() == null ? uri.toString() : uri.toString().replace(uri.getRawUserInfo() + "@", "***@");
        }
    }

    private final Endpoint endpoint;
    private final RetryPolicy.Sleeper sleeper;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final String authorization;
    private final Map<String, Integer> idBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemaById = new ConcurrentHashMap<>();

    public HttpSchemaRegistry(Endpoint endpoint) {
        this(endpoint, null, RetryPolicy.Sleeper.THREAD);
    }

    /** @param sleeper how to wait between attempts (tests record the waits instead) */
    public HttpSchemaRegistry(Endpoint endpoint, RetryPolicy.Sleeper sleeper) {
        this(endpoint, null, sleeper);
    }

    /** @param tls the trust (and key) material for an https registry with a certificate of its own, or null for the JDK's */
    public HttpSchemaRegistry(Endpoint endpoint, javax.net.ssl.SSLContext tls) {
        this(endpoint, tls, RetryPolicy.Sleeper.THREAD);
    }

    private HttpSchemaRegistry(Endpoint endpoint, javax.net.ssl.SSLContext tls, RetryPolicy.Sleeper sleeper) {
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(endpoint.connectTimeout()).followRedirects(HttpClient.Redirect.NORMAL);
        if (tls != null) {
            client.sslContext(tls);
        }
        this.http = client.build();
        this.authorization = endpoint.userInfo() == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(endpoint.userInfo().getBytes(StandardCharsets.UTF_8));
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public int register(String subject, Schema schema) {
        String key = subject + '\u0000' + schema.toString();
        Integer cached = idBySubjectAndSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "/subjects/" + pathSegment(subject) + "/versions", schemaBody(schema));
        JsonNode id = answer.get("id");
        if (id == null || !id.canConvertToInt()) {
            throw new SchemaRegistryException(where() + ": register under subject " + subject + " answered without a numeric \"id\": "
                    + abbreviate(answer.toString()), SchemaRegistryException.NO_CODE);
        }
        int value = id.intValue();
        idBySubjectAndSchema.put(key, value);
        schemaById.putIfAbsent(value, schema);
        return value;
    }

    @Override
    public int lookup(String subject, Schema schema) {
        String key = subject + '\u0000' + schema.toString();
        Integer cached = idBySubjectAndSchema.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("POST", "/subjects/" + pathSegment(subject), schemaBody(schema));
        JsonNode id = answer.get("id");
        if (id == null || !id.canConvertToInt()) {
            throw new SchemaRegistryException(where() + ": look-up under subject " + subject + " answered without a numeric \"id\": "
                    + abbreviate(answer.toString()), SchemaRegistryException.NO_CODE);
        }
        idBySubjectAndSchema.put(key, id.intValue());
        schemaById.putIfAbsent(id.intValue(), schema);
        return id.intValue();
    }

    @Override
    public Schema schemaById(int id) {
        Schema cached = schemaById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = send("GET", "/schemas/ids/" + id, null);
        JsonNode type = answer.get("schemaType");
        if (type != null && !type.isNull() && !"AVRO".equals(type.asText())) {
            throw new SchemaRegistryException(where() + ": schema id " + id + " is of type " + type.asText() + ", not AVRO",
                    SchemaRegistryException.NO_CODE);
        }
        JsonNode references = answer.get("references");
        if (references != null && references.isArray() && !references.isEmpty()) {
            throw new SchemaRegistryException(where() + ": schema id " + id + " uses schema references, which DealBridge does not resolve",
                    SchemaRegistryException.NO_CODE);
        }
        JsonNode text = answer.get("schema");
        if (text == null || !text.isTextual()) {
            throw new SchemaRegistryException(where() + ": schema id " + id + " answered without a \"schema\" string: "
                    + abbreviate(answer.toString()), SchemaRegistryException.NO_CODE);
        }
        Schema schema;
        try {
            schema = new Schema.Parser().parse(text.asText());
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException(where() + ": schema id " + id + " is not a valid Avro schema: " + e.getMessage(),
                    SchemaRegistryException.NO_CODE, e);
        }
        Schema raced = schemaById.putIfAbsent(id, schema);
        return raced != null ? raced : schema;
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        JsonNode answer;
        try {
            answer = send("POST", "/compatibility/subjects/" + pathSegment(subject) + "/versions/latest", schemaBody(schema));
        } catch (SchemaRegistryException e) {
            if (e.errorCode() == SchemaRegistryException.SUBJECT_NOT_FOUND || e.errorCode() == SchemaRegistryException.VERSION_NOT_FOUND) {
                return true; // nothing registered yet: any schema may start the subject
            }
            throw e;
        }
        JsonNode result = answer.get("is_compatible");
        if (result == null || !result.isBoolean()) {
            throw new SchemaRegistryException(where() + ": compatibility check of subject " + subject
                    + " answered without a boolean \"is_compatible\": " + abbreviate(answer.toString()), SchemaRegistryException.NO_CODE);
        }
        return result.booleanValue();
    }

    private String schemaBody(Schema schema) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("schema", schema.toString());
        body.put("schemaType", "AVRO");
        try {
            return json.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON string", e);
        }
    }

    /** Sends one request, retrying server-side and I/O failures; returns the parsed 2xx answer. */
    private JsonNode send(String method, String path, String body) {
        URI uri = URI.create(endpoint.root() + path);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(endpoint.requestTimeout())
                .header("Accept", ACCEPT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            builder.header("Content-Type", CONTENT_TYPE);
        }
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        HttpRequest request = builder.build();
        String call = method + " " + path;
        RetryPolicy retry = endpoint.retry();
        for (int attempt = 1; ; attempt++) {
            boolean last = !retry.mayRetryAfter(attempt);
            HttpResponse<String> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                if (last) {
                    throw new SchemaRegistryException(where() + ": " + call + " failed after " + attempt + " attempt(s): " + e,
                            SchemaRegistryException.NO_CODE, e);
                }
                Duration backoff = retry.delayAfter(attempt);
                log.warn("{}: {} failed ({}), retrying in {} ms", where(), call, e.toString(), backoff.toMillis());
                pause(backoff, call);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException(where() + ": interrupted during " + call, SchemaRegistryException.NO_CODE, e);
            }
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return parse(response.body(), call, status);
            }
            if ((status >= 500 || status == 429) && !last) {
                Duration backoff = retry.delayAfter(attempt);
                log.warn("{}: {} answered {}, retrying in {} ms", where(), call, status, backoff.toMillis());
                pause(backoff, call);
                continue;
            }
            throw error(call, status, response.body(), attempt);
        }
    }

    private SchemaRegistryException error(String call, int status, String body, int attempts) {
        int code = status;
        String message = abbreviate(body == null ? "" : body.strip());
        try {
            JsonNode node = json.readTree(body);
            if (node != null && node.hasNonNull("error_code") && node.get("error_code").canConvertToInt()) {
                code = node.get("error_code").intValue();
            }
            if (node != null && node.hasNonNull("message")) {
                message = node.get("message").asText();
            }
        } catch (IOException notJson) {
            // a proxy's HTML error page, for example: keep the (abbreviated) text
        }
        return new SchemaRegistryException(where() + ": " + call + " answered HTTP " + status + " (error_code " + code + ")"
                + (attempts > 1 ? " after " + attempts + " attempts" : "") + ": " + message, code);
    }

    private JsonNode parse(String body, String call, int status) {
        try {
            JsonNode node = json.readTree(body);
            if (node == null || !node.isObject()) {
                throw new SchemaRegistryException(where() + ": " + call + " answered HTTP " + status + " with no JSON object: "
                        + abbreviate(body), SchemaRegistryException.NO_CODE);
            }
            return node;
        } catch (IOException e) {
            throw new SchemaRegistryException(where() + ": " + call + " answered HTTP " + status + " with invalid JSON: "
                    + abbreviate(body), SchemaRegistryException.NO_CODE, e);
        }
    }

    private void pause(Duration backoff, String call) {
        try {
            sleeper.sleep(backoff);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(where() + ": interrupted while waiting to retry " + call, SchemaRegistryException.NO_CODE, e);
        }
    }

    private String where() {
        return "schema registry " + endpoint.root();
    }

    private static String pathSegment(String subject) {
        if (subject == null || subject.isEmpty()) {
            throw new IllegalArgumentException("subject must be non-empty but was '" + subject + "'");
        }
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    @Override
    public String toString() {
        return "HttpSchemaRegistry[" + endpoint + "]";
    }
}
