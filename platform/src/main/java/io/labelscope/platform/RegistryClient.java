package io.labelscope.platform;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The few calls of the Confluent schema registry API (served by Apicurio at {@code /apis/ccompat/v7}) that the
 * platform and its tests need. Any Confluent-compatible registry answers them the same way.
 */
public final class RegistryClient {

    public static final String CONFLUENT_API = "/apis/ccompat/v7";
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String api;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param registryBaseUrl e.g. {@code http://127.0.0.1:8081} */
    public RegistryClient(String registryBaseUrl) {
        this.api = (registryBaseUrl.endsWith("/") ? registryBaseUrl.substring(0, registryBaseUrl.length() - 1)
                : registryBaseUrl) + CONFLUENT_API;
    }

    /** True when the registry answers its API (used to wait for start-up). */
    public boolean answers() {
        try {
            return send(HttpRequest.newBuilder(URI.create(api + "/subjects")).GET()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** Sets the registry-wide compatibility level (e.g. BACKWARD). */
    public void setGlobalCompatibility(String level) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level);
        expectOk(send(HttpRequest.newBuilder(URI.create(api + "/config"))
                .header("Content-Type", CONTENT_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString()))), "set compatibility " + level);
    }

    public String globalCompatibility() throws IOException {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(api + "/config")).GET());
        expectOk(response, "read compatibility");
        JsonNode node = JSON.readTree(response.body());
        return node.has("compatibilityLevel") ? node.get("compatibilityLevel").asText()
                : node.path("compatibility").asText();
    }

    /**
     * Registers an Avro schema under a subject and returns its id. Registering the same schema again returns the
     * same id; a schema incompatible with the subject's earlier versions is refused.
     *
     * @throws IncompatibleSchemaException when the registry refuses the schema under its compatibility rules
     */
    public int register(String subject, String avroSchemaJson) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("schema", avroSchemaJson).put("schemaType", "AVRO");
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(api + "/subjects/" + subject
                + "/versions"))
                .header("Content-Type", CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
        if (response.statusCode() == 409) {
            throw new IncompatibleSchemaException(subject, registryMessage(response));
        }
        expectOk(response, "register a schema under subject " + subject);
        return JSON.readTree(response.body()).get("id").asInt();
    }

    /** The schema JSON stored under an id, as a Confluent client fetches it to decode a record. */
    public String schemaById(int id) throws IOException {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(api + "/schemas/ids/" + id)).GET());
        expectOk(response, "fetch schema id " + id);
        return JSON.readTree(response.body()).get("schema").asText();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while calling the schema registry at " + api, e);
        }
    }

    private static void expectOk(HttpResponse<String> response, String what) throws IOException {
        if (response.statusCode() / 100 != 2) {
            throw new IOException("schema registry could not " + what + ": HTTP " + response.statusCode() + " "
                    + registryMessage(response));
        }
    }

    private static String registryMessage(HttpResponse<String> response) {
        try {
            JsonNode node = JSON.readTree(response.body());
            return node.has("message") ? node.get("message").asText() : response.body();
        } catch (IOException e) {
            return response.body();
        }
    }

    /** The registry refused a schema because it breaks the subject's compatibility rule. */
    public static final class IncompatibleSchemaException extends IOException {
        private final String subject;

        public IncompatibleSchemaException(String subject, String registryMessage) {
            super("schema for subject " + subject + " is incompatible with its earlier versions: " + registryMessage);
            this.subject = subject;
        }

        public String subject() {
            return subject;
        }
    }
}
