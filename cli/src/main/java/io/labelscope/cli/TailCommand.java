package io.labelscope.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Summary;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code labelscope tail distributions|alignment|spikiness}: follow the aggregator's output as a live table. */
@Command(name = "tail",
        mixinStandardHelpOptions = true,
        description = {"Follow a result topic as a readable table (or JSON lines with --json). Reads every partition "
                + "without joining a consumer group, so it never takes work from anyone.",
                "Methods in the distributions table: MOG max-over-generations, CTN compare-to-none, HARD hard "
                        + "predictions, FIRST first-step softmax; each cell is NLL/L1/F1 (- without annotators)."})
final class TailCommand implements Callable<Integer> {

    /** What can be tailed, and the topic behind it. */
    enum Stream {
        distributions(Topics.DISTRIBUTIONS), alignment(Topics.ALIGNMENT_METRICS), spikiness(Topics.SPIKINESS_METRICS);

        final String topic;

        Stream(String topic) {
            this.topic = topic;
        }
    }

    private static final List<String> METHODS = List.of("max_over_generations", "compare_to_none",
            "hard_predictions", "first_step");

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Parameters(paramLabel = "STREAM", description = "distributions, alignment or spikiness")
    Stream stream;

    @Option(names = "--task", description = "Only this task.")
    String task;

    @Option(names = "--model", description = "Only this model.")
    String model;

    @Option(names = "--json", description = "One JSON object per record instead of a table.")
    boolean json;

    @Option(names = "--from-beginning", description = "Start at the oldest record (default: only new ones).")
    boolean fromBeginning;

    @Option(names = "--max", paramLabel = "N", description = "Stop after N records.")
    Long max;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS",
            description = "Stop after this many seconds without a record (default: follow until Ctrl-C).")
    Double idleTimeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = new LinkedHashMap<>(AvroSerdeConfig.consumer(kafka.registryUrl()));
        config.putAll(kafka.clientSettings());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "labelscope-tail-" + UUID.randomUUID());
        long shown = 0;
        try (KafkaConsumer<String, Decoded<Object>> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(stream.topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new Labelscope.UserError("topic " + stream.topic + " does not exist on "
                        + kafka.bootstrapServers() + " (is the platform up?)", 1);
            }
            consumer.assign(partitions);
            if (fromBeginning) {
                consumer.seekToBeginning(partitions);
            } else {
                consumer.seekToEnd(partitions);
            }
            if (!json) {
                out.println(header());
            }
            out.flush();
            long lastRecord = System.nanoTime();
            while (max == null || shown < max) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, Decoded<Object>> record : records) {
                    if (!(record.value() instanceof Decoded.Ok<Object> ok) || !matches(ok.value())) {
                        continue;
                    }
                    out.println(json ? AvroJson.of(ok.value()).toString() : row(ok.value()));
                    lastRecord = System.nanoTime();
                    if (max != null && ++shown >= max) {
                        break;
                    }
                }
                out.flush();
                if (idleTimeout != null && System.nanoTime() - lastRecord > idleTimeout * 1e9) {
                    break;
                }
            }
        }
        return 0;
    }

    private boolean matches(Object value) {
        String recordTask;
        String recordModel;
        if (value instanceof DocumentDistribution d) {
            recordTask = d.getTask();
            recordModel = d.getModel();
        } else if (value instanceof AlignmentMetric a) {
            recordTask = a.getTask();
            recordModel = a.getModel();
        } else if (value instanceof SpikinessMetric s) {
            recordTask = s.getTask();
            recordModel = s.getModel();
        } else {
            return false;
        }
        return (task == null || task.equals(recordTask)) && (model == null || model.equals(recordModel));
    }

    private String header() {
        return switch (stream) {
            case distributions -> String.format("%-24s %-12s %-10s %4s  %-20s %-20s %-20s %-20s %s", "DOCUMENT",
                    "TASK", "MODEL", "ANN", "MOG nll/l1/f1", "CTN nll/l1/f1", "HARD nll/l1/f1", "FIRST nll/l1/f1",
                    "PREDICTED (MOG)");
            case alignment -> String.format("%-12s %-10s %-22s %-27s %6s %8s %7s %7s", "TASK", "MODEL", "METHOD",
                    "WINDOW", "DOCS", "NLL", "L1", "F1");
            case spikiness -> String.format("%-12s %-10s %4s %-12s %-27s %6s %6s %6s %7s %8s %8s", "TASK", "MODEL",
                    "STEP", "POSITION", "WINDOW", "N", "TOP1", "TOP2", "H(bits)", "2ND-NEXT", "NEVER");
        };
    }

    private String row(Object value) {
        if (value instanceof DocumentDistribution d) {
            Map<String, MethodResult> methods = d.getMethods();
            return String.format("%-24s %-12s %-10s %4d  %-20s %-20s %-20s %-20s %s",
                    clip(d.getDocumentId(), 24), clip(d.getTask(), 12), clip(d.getModel(), 10), d.getAnnotators(),
                    cell(methods.get(METHODS.get(0))), cell(methods.get(METHODS.get(1))),
                    cell(methods.get(METHODS.get(2))), cell(methods.get(METHODS.get(3))),
                    methods.containsKey(METHODS.get(0)) ? methods.get(METHODS.get(0)).getPredicted() : "-");
        }
        if (value instanceof AlignmentMetric a) {
            return String.format("%-12s %-10s %-22s %-27s %6d %8s %7s %7s", clip(a.getTask(), 12),
                    clip(a.getModel(), 10), a.getMethod(), window(a.getWindowStart(), a.getWindowEnd()),
                    a.getDocuments(), number(a.getMeanNll()), number(a.getMeanL1()), number(a.getMeanExampleF1()));
        }
        SpikinessMetric s = (SpikinessMetric) value;
        return String.format("%-12s %-10s %4d %-12s %-27s %6d %6s %6s %7s %8s %8s",
                clip(s.getTask(), 12), clip(s.getModel(), 10), s.getStepIndex() + 1, s.getPosition(),
                window(s.getWindowStart(), s.getWindowEnd()), s.getTop1().getN(), mean(s.getTop1()),
                mean(s.getTop2()), mean(s.getEntropyBits()), number(s.getSecondPredictedNextRate()),
                number(s.getSecondNeverPredictedRate()));
    }

    private static String cell(MethodResult result) {
        if (result == null) {
            return "n/a";
        }
        if (result.getNll() == null) {
            return "-";
        }
        return number(result.getNll()) + "/" + number(result.getL1()) + "/" + number(result.getExampleF1());
    }

    private static String mean(Summary summary) {
        return summary == null ? "-" : number(summary.getMean());
    }

    private static String number(Double value) {
        return value == null ? "-" : String.format("%.3f", value);
    }

    private static String window(java.time.Instant start, java.time.Instant end) {
        if (start == null) {
            return "all time";
        }
        return start.toString().substring(11, 19) + "–" + (end == null ? "" : end.toString().substring(11, 19));
    }

    private static String clip(String text, int width) {
        return text.length() <= width ? text : text.substring(0, width - 1) + "…";
    }
}
