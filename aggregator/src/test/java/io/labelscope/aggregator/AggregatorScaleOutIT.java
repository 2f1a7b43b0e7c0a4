package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DocumentDistribution;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Scale-out (issue #13): two packaged aggregators on one application id, each advertising its REST address
 * ({@code application.server}), one standby replica per task. Every document, the metrics and the dashboard's
 * overview are answered alike by either instance (the other's keys forwarded, the overview merged from both
 * parts), and after a kill -9 of one instance in the middle of a backlog the survivor serves every key within
 * {@link #SERVE_BOUND} and finishes the backlog with every document exactly once on {@code distributions}
 * (read_committed). Also: an instance told to advertise port 0 refuses to start.
 */
class AggregatorScaleOutIT {

    /** Processed by both instances before the kill; each of these is then asked of both. */
    private static final int BEFORE_KILL = 300;
    /** The backlog in flight when one instance is killed. */
    private static final int DURING_KILL = 600;
    /** Documents of the second backlog visible before the kill: the kill hits a running backlog. */
    private static final int KILL_AFTER = 40;
    private static final String METHOD = "max_over_generations";
    /** Startup of two services on a busy 2-core machine included. */
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    /**
     * After the kill, until the survivor answers every key: the session timeout (6 s) for the group to notice,
     * a rebalance and the restore of the killed instance's partitions; a standby read can answer sooner.
     */
    private static final Duration SERVE_BOUND = Duration.ofSeconds(45);

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<ServiceProcess> services = new ArrayList<>();

    @Test
    void everyKeyFromEitherInstanceAndTheSurvivorServesEveryKeyAfterAKill() throws Exception {
        Path jar = Path.of(System.getProperty("labelscope.aggregator.jar", "target/quarkus-app/quarkus-run.jar"));
        TestPlatform platform = TestPlatform.get();
        PlatformWithTopics.createPublicTopics(platform);
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String task = "scale-" + tag;
        String model = "m-scale-" + tag;
        String prefix = "scale-" + tag + "-";

        Map<String, String> config = new HashMap<>();
        config.put("quarkus.kafka-streams.bootstrap-servers", platform.bootstrapServers());
        config.put("labelscope.registry.url", platform.registryUrl());
        config.put("quarkus.kafka-streams.application-id", "scale-aggregator-" + tag);
        config.put("kafka-streams.consumer.session.timeout.ms", "6000");
        config.put("kafka-streams.num.standby.replicas", "1");
        config.put("labelscope.aggregator.standby-reads", "true");
        config.put("labelscope.aggregator.forward-timeout", "PT3S");

        // Port 0 cannot be advertised: refused before Kafka Streams starts (another application id regardless).
        Map<String, String> portZero = new HashMap<>(config);
        portZero.put("quarkus.kafka-streams.application-id", "scale-port-zero-" + tag);
        portZero.put("quarkus.kafka-streams.application-server", "127.0.0.1:0");
        ServiceProcess refused = start("aggregator-port-zero", jar, portZero, "zero");
        ServiceProcess a = start("aggregator-scale-a", jar, config, tag + "-a");
        ServiceProcess b = start("aggregator-scale-b", jar, config, tag + "-b");
        refused.awaitLog("port 0 cannot be advertised", 1, DEADLINE);
        awaitExit(refused);

        try (BrokerPipeline pipeline = new BrokerPipeline(platform.bootstrapServers(), platform.registryUrl())) {
            long t0 = System.nanoTime();
            // Data only once both are in the group: with empty changelogs each gets its share of active tasks.
            awaitUntil(() -> instancesRunning(a) == 2 && instancesRunning(b) == 2, "both instances RUNNING in one group");
            System.out.printf("two instances running in one group (%.1f s)%n", seconds(t0));

            List<String> first = AggregatorCrashIT.produceBacklog(pipeline, task, model, "run-" + tag, prefix, 0,
                    BEFORE_KILL);
            awaitDocuments(pipeline, prefix, BEFORE_KILL);
            pipeline.alignment(model, METHOD, m -> m.getTask().toString().equals(task)
                    && m.getDocuments() == BEFORE_KILL);
            System.out.printf("%d documents done by two instances (%.1f s)%n", BEFORE_KILL, seconds(t0));

            // Each instance is active for some partitions: its part counts only its documents. (The shared input
            // topics hold other tests' documents too, read by this fresh application id: look at this task's pair.)
            long partA = pair(get(a, "/api/overview/part").body, task, model).path("documents").asLong();
            long partB = pair(get(b, "/api/overview/part").body, task, model).path("documents").asLong();
            assertThat(List.of(partA, partB)).as("documents per instance (each owns some partitions)" + logs())
                    .allMatch(n -> n > 0);
            assertThat(partA + partB).as("the parts add up to every document" + logs()).isEqualTo(BEFORE_KILL);

            // Every key from either instance, the same answer (annotations may cross a hop later: wait for them).
            for (String id : first) {
                awaitUntil(() -> sameFromBoth(a, b, "/documents/" + id, AggregatorScaleOutIT::complete),
                        "document " + id + " complete and identical from both instances");
                awaitUntil(() -> sameFromBoth(a, b, "/api/documents/" + id + "/steps", body -> true),
                        "steps of " + id + " from both instances");
            }
            String taskModel = "?task=" + URLEncoder.encode(task, StandardCharsets.UTF_8) + "&model="
                    + URLEncoder.encode(model, StandardCharsets.UTF_8);
            awaitUntil(() -> sameFromBoth(a, b, "/metrics/alignment" + taskModel, body -> body.path("all_time")
                    .path(METHOD).path("documents").asLong() == BEFORE_KILL), "alignment metrics from both");
            awaitUntil(() -> sameFromBoth(a, b, "/metrics/spikiness" + taskModel,
                    body -> body.path("all_time").size() > 0), "spikiness metrics from both");
            // The overview: the whole picture from either instance.
            awaitUntil(() -> {
                JsonNode fromA = get(a, "/api/overview").body;
                JsonNode fromB = get(b, "/api/overview").body;
                JsonNode ours = pair(fromA, task, model);
                return ours.path("documents").asLong() == BEFORE_KILL
                        && ours.path("documents_aligned").asLong() == BEFORE_KILL
                        && fromA.path("instances_unreachable").isEmpty()
                        && fromA.path("counts").equals(fromB.path("counts"))
                        && fromA.path("pairs").equals(fromB.path("pairs"))
                        && fromA.path("recent_documents").equals(fromB.path("recent_documents"));
            }, "the same overview of all " + BEFORE_KILL + " documents from both instances");
            System.out.printf("every key, the metrics and the overview alike from both (%.1f s)%n", seconds(t0));
            // Annotate next (issue #18): each instance ranks the partitions it owns, either one answers the global
            // list (every document has one annotator, so each has a disagreement priority above 0).
            String annotate = "/api/annotate/next" + taskModel + "&strategy=disagreement&n=" + BEFORE_KILL;
            awaitUntil(() -> sameFromBoth(a, b, annotate, body -> body.size() == BEFORE_KILL),
                    "annotate next of every document, alike from both instances");
            // The parts split the documents, though not as the overview's: the annotate-next sub-topology's tasks
            // (partitions of distributions) are assigned independently of the document assembler's.
            int annotateA = get(a, annotate.replace("/next?", "/next/part?")).body.size();
            int annotateB = get(b, annotate.replace("/next?", "/next/part?")).body.size();
            assertThat(List.of(annotateA, annotateB)).as("each instance's part: its own documents" + logs())
                    .allMatch(n -> n > 0);
            assertThat(annotateA + annotateB).as("the parts add up to every document").isEqualTo(BEFORE_KILL);

            List<String> second = AggregatorCrashIT.produceBacklog(pipeline, task, model, "run-" + tag, prefix,
                    BEFORE_KILL, DURING_KILL);
            awaitDocuments(pipeline, prefix, BEFORE_KILL + KILL_AFTER);
            a.kill9();
            long killedAt = System.nanoTime();
            int doneAtKill = documentsDone(pipeline, prefix) - BEFORE_KILL;
            System.out.printf("kill -9 of one instance after %d of %d documents of the second backlog%n",
                    doneAtKill, DURING_KILL);

            // The survivor serves every key: first (possibly from its standby replicas), then as the active owner.
            awaitWithin(killedAt, () -> first.stream().allMatch(id -> complete(get(b, "/documents/" + id))),
                    "the survivor answers every document");
            double anyAnswer = seconds(killedAt);
            awaitWithin(killedAt, () -> first.stream().map(id -> get(b, "/documents/" + id))
                    .allMatch(r -> complete(r) && !r.stale), "the survivor answers every document as its owner");
            double activeAnswer = seconds(killedAt);
            System.out.printf("after kill -9: every key served in %.1f s (standby reads allowed), as the active "
                    + "owner in %.1f s%n", anyAnswer, activeAnswer);

            awaitDocuments(pipeline, prefix, BEFORE_KILL + DURING_KILL);
            Thread.sleep(BrokerPipeline.SETTLE.toMillis());
            List<String> ids = new ArrayList<>(first);
            ids.addAll(second);
            Map<String, List<DocumentDistribution>> byDocument = pipeline.distributionsWithPrefix(prefix).stream()
                    .collect(Collectors.groupingBy(d -> d.getDocumentId().toString()));
            assertThat(byDocument.keySet()).as("documents with a distribution" + logs())
                    .containsExactlyInAnyOrderElementsOf(ids);
            Map<String, List<String>> doubled = byDocument.entrySet().stream()
                    .filter(e -> !AggregatorCrashIT.versionsOfOneAnnotatedRun(e.getValue()))
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().stream()
                            .map(d -> "v" + d.getVersion() + " with " + d.getAnnotators() + " annotators").toList()));
            assertThat(doubled).as("documents not exactly once on distributions" + logs()).isEmpty();

            int total = BEFORE_KILL + DURING_KILL;
            double meanNll = byDocument.values().stream()
                    .mapToDouble(ds -> ds.get(ds.size() - 1).getMethods().get(METHOD).getNll()).average()
                    .orElseThrow();
            AlignmentMetric reached = pipeline.alignment(model, METHOD, m -> m.getTask().toString().equals(task)
                    && m.getWindowStart() == null && m.getDocuments() >= total);
            Thread.sleep(BrokerPipeline.SETTLE.toMillis());
            AlignmentMetric settled = pipeline.alignment(model, METHOD, m -> m.getWindowStart() == null);
            assertThat(settled.getDocuments()).as("all-time documents counted once" + logs()).isEqualTo(total);
            assertThat(settled.getMeanNll()).isCloseTo(meanNll, within(1e-9));
            assertThat(reached.getDocuments()).isEqualTo(total);

            for (String id : second) {
                awaitUntil(() -> complete(get(b, "/documents/" + id)), "the survivor answers " + id);
            }
            awaitUntil(() -> pair(get(b, "/api/overview").body, task, model).path("documents").asLong() == total,
                    "the survivor's overview of every document");
            assertThat(pipeline.deadLettersWithKeyPrefix(prefix)).as("dead letters of this run").isEmpty();
            assertThat(b.java()).as("the survivor is still running" + logs()).isPresent();
            System.out.printf("every document once after the kill (%.1f s in all)%n", seconds(t0));
        }
    }

    @AfterEach
    void stopServices() {
        services.forEach(ServiceProcess::close);
    }

    /** The overview's (or a part's) row of one task/model pair; a missing node when it has none. */
    private static JsonNode pair(JsonNode overview, String task, String model) {
        for (JsonNode p : overview.path("pairs")) {
            if (task.equals(p.path("task").asText()) && model.equals(p.path("model").asText())) {
                return p;
            }
        }
        return JSON.missingNode();
    }

    /** An answer of GET /documents/{id}: one distribution, with its annotator. */
    private static boolean complete(Answer r) {
        return r.status == 200 && complete(r.body);
    }

    private static boolean complete(JsonNode body) {
        JsonNode ds = body.path("distributions");
        return body.path("annotators").asInt() == 1 && ds.size() == 1 && ds.get(0).path("annotators").asInt() == 1;
    }

    private boolean sameFromBoth(ServiceProcess a, ServiceProcess b, String path, Predicate<JsonNode> expected) {
        Answer fromA = get(a, path);
        Answer fromB = get(b, path);
        return fromA.status == 200 && fromB.status == 200 && expected.test(fromA.body) && fromA.body.equals(fromB.body);
    }

    /** How many instances the overview of {@code s} has, all RUNNING and answering (0 otherwise). */
    private int instancesRunning(ServiceProcess s) {
        JsonNode o = get(s, "/api/overview").body;
        if (!"RUNNING".equals(o.path("streams_state").asText()) || !o.path("instances_unreachable").isEmpty()) {
            return 0;
        }
        return o.path("instances").size();
    }

    private record Answer(int status, JsonNode body, boolean stale) {
    }

    private Answer get(ServiceProcess s, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.httpPort()
                    + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
            return new Answer(r.statusCode(), body, r.headers().firstValue("X-Labelscope-Stale").isPresent());
        } catch (Exception e) {
            // not up yet, or killed: no answer
            return new Answer(-1, JSON.createObjectNode(), false);
        }
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private void awaitUntil(Check check, String what) throws Exception {
        awaitWithin(System.nanoTime(), check, what, DEADLINE);
    }

    private void awaitWithin(long since, Check check, String what) throws Exception {
        awaitWithin(since, check, what, SERVE_BOUND);
    }

    private void awaitWithin(long since, Check check, String what, Duration bound) throws Exception {
        while (!check.holds()) {
            if (System.nanoTime() - since > bound.toNanos()) {
                throw new AssertionError("not within " + bound.toSeconds() + " s: " + what + logs());
            }
            Thread.sleep(50);
        }
    }

    private void awaitDocuments(BrokerPipeline pipeline, String prefix, int count) throws Exception {
        awaitUntil(() -> documentsDone(pipeline, prefix) >= count, count + " documents with a distribution");
    }

    private static int documentsDone(BrokerPipeline pipeline, String prefix) {
        return (int) pipeline.distributionsWithPrefix(prefix).stream().map(DocumentDistribution::getDocumentId)
                .distinct().count();
    }

    private static void awaitExit(ServiceProcess p) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (p.java().isPresent()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the instance told to advertise port 0 is still running:\n" + p.tail());
            }
            Thread.sleep(100);
        }
    }

    private ServiceProcess start(String name, Path jar, Map<String, String> config, String stateTag)
            throws Exception {
        Map<String, String> own = new HashMap<>(config);
        own.put("kafka-streams.state.dir", Path.of("target", "it-aggregator-state-" + stateTag).toAbsolutePath()
                .toString());
        ServiceProcess p = ServiceProcess.start(name, jar, own);
        services.add(p);
        return p;
    }

    private String logs() {
        StringBuilder s = new StringBuilder();
        for (ServiceProcess p : services) {
            s.append("\n--- aggregator log (tail) ---\n").append(p.tail());
        }
        return s.toString();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
