package io.labelscope.cli;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Configuration;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Summary;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope tail distributions|alignment|spikiness|dead-letters}: follow the aggregator's output, or the
 * records any service rejected, as a live table.
 */
@Command(name = "tail",
        mixinStandardHelpOptions = true,
        description = {"Follow a result topic, or the dead letters, as a readable table (or JSON lines with --json). "
                + "Reads every partition without joining a consumer group, so it never takes work from anyone.",
                "Methods in the distributions table: MOG max-over-generations, CTN compare-to-none, HARD hard "
                        + "predictions, FIRST first-step softmax; each cell is NLL/L1/F1 (- without annotators).",
                "dead-letters: every record a service rejected (time, source topic, key, error type, reason); in "
                        + "--json the key is text and the original value base64."})
final class TailCommand implements Callable<Integer> {

    /** What can be tailed, as it is written on the command line, and the topic behind it. */
    enum Stream {
        distributions("distributions", Topics.DISTRIBUTIONS),
        alignment("alignment", Topics.ALIGNMENT_METRICS),
        spikiness("spikiness", Topics.SPIKINESS_METRICS),
        deadLetters("dead-letters", Topics.DEAD_LETTERS);

        final String argument;
        final String topic;

        Stream(String argument, String topic) {
            this.argument = argument;
            this.topic = topic;
        }

        static List<String> arguments() {
            return Arrays.stream(values()).map(s -> s.argument).toList();
        }
    }

    /** Parses a STREAM argument (an enum constant's name cannot hold the dash of {@code dead-letters}). */
    static final class StreamConverter implements CommandLine.ITypeConverter<Stream> {
        @Override
        public Stream convert(String value) {
            return Arrays.stream(Stream.values()).filter(s -> s.argument.equals(value)).findFirst()
                    .orElseThrow(() -> new CommandLine.TypeConversionException("expected one of "
                            + String.join(", ", Stream.arguments()) + " but was '" + value + "'"));
        }
    }

    /** For the help text and shell completion. */
    static final class StreamNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Stream.arguments().iterator();
        }
    }

    private static final List<String> METHODS = List.of("max_over_generations", "compare_to_none",
            "hard_predictions", "first_step");

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Parameters(paramLabel = "STREAM", converter = StreamConverter.class, completionCandidates = StreamNames.class,
            description = "distributions, alignment, spikiness or dead-letters")
    Stream stream;

    @Option(names = "--task", description = "Only this task (not for dead-letters).")
    String task;

    @Option(names = "--model", paramLabel = "MODEL[@VERSION]",
            description = "Only this model, every task version of it; MODEL@VERSION: only that task version (not "
                    + "for dead-letters).")
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
        if (stream == Stream.deadLetters && (task != null || model != null)) {
            // A dead letter is a record that could not be used; often its task is exactly what could not be read.
            throw new Labelscope.UserError("--task and --model do not apply to dead-letters: a dead letter keeps "
                    + "the rejected record's bytes, not its task", ExitCode.USAGE);
        }
        kafka.requireBroker();
        kafka.requireRegistry();
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
                        + kafka.bootstrapServers() + " (create the topics with ./labelscope up, or ./labelscope topics "
                        + "ensure on your cluster)", ExitCode.ERROR);
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
                    out.println(json ? json(ok.value()) : row(ok.value()));
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
        Configuration recordConfiguration;
        if (value instanceof DocumentDistribution d) {
            recordTask = d.getTask();
            recordConfiguration = new Configuration(d.getModel(), d.getTaskVersion());
        } else if (value instanceof AlignmentMetric a) {
            recordTask = a.getTask();
            recordConfiguration = new Configuration(a.getModel(), a.getTaskVersion());
        } else if (value instanceof SpikinessMetric s) {
            recordTask = s.getTask();
            recordConfiguration = new Configuration(s.getModel(), s.getTaskVersion());
        } else if (value instanceof DeadLetter) {
            return true;
        } else {
            return false;
        }
        if (task != null && !task.equals(recordTask)) {
            return false;
        }
        if (model == null) {
            return true;
        }
        Configuration wanted = Configuration.parse(model);
        return wanted.taskVersion() == null ? model.equals(recordConfiguration.model())
                : wanted.equals(recordConfiguration);
    }

    private String header() {
        return switch (stream) {
            case distributions -> String.format("%-24s %-12s %-10s %-12s %4s  %-20s %-20s %-20s %-20s %s",
                    "DOCUMENT", "TASK", "MODEL", "VERSION", "ANN", "MOG nll/l1/f1", "CTN nll/l1/f1", "HARD nll/l1/f1", "FIRST nll/l1/f1",
                    "PREDICTED (MOG)");
            case alignment -> String.format("%-12s %-10s %-12s %-22s %-27s %6s %8s %7s %7s", "TASK", "MODEL",
                    "VERSION", "METHOD", "WINDOW", "DOCS", "NLL", "L1", "F1");
            case spikiness -> String.format("%-12s %-10s %-12s %4s %-12s %-27s %6s %6s %6s %7s %8s %8s", "TASK",
                    "MODEL", "VERSION", "STEP", "POSITION", "WINDOW", "N", "TOP1", "TOP2", "H(bits)", "2ND-NEXT", "NEVER");
            case deadLetters -> String.format(DEAD_LETTER_ROW, "TIME", "SOURCE TOPIC", "KEY", "ERROR TYPE", "REASON");
        };
    }

    private static final String DEAD_LETTER_ROW = "%-20s %-17s %-28s %-16s %s";

    private static String json(Object value) {
        ObjectNode node = (ObjectNode) AvroJson.of(value);
        if (value instanceof DeadLetter letter) {
            // Every labelscope topic's key is a string (a document id, a task name): show it as one.
            node.put("key", keyText(letter));
        }
        return node.toString();
    }

    /** The rejected record's key as text: UTF-8 as every labelscope producer writes it, else its bytes in hex. */
    private static String keyText(DeadLetter letter) {
        if (letter.getKey() == null) {
            return null;
        }
        ByteBuffer bytes = letter.getKey().duplicate();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            bytes = letter.getKey().duplicate();
            StringBuilder hex = new StringBuilder("0x");
            while (bytes.hasRemaining()) {
                hex.append(String.format("%02x", bytes.get()));
            }
            return hex.toString();
        }
    }

    private String row(Object value) {
        if (value instanceof DeadLetter letter) {
            String key = keyText(letter);
            return String.format(DEAD_LETTER_ROW, letter.getFailedAt().truncatedTo(ChronoUnit.SECONDS),
                    clip(letter.getSourceTopic(), 17), key == null ? "-" : clip(key, 28),
                    clip(letter.getErrorType(), 16), letter.getReason().replaceAll("\\s+", " "));
        }
        if (value instanceof DocumentDistribution d) {
            Map<String, MethodResult> methods = d.getMethods();
            return String.format("%-24s %-12s %-10s %-12s %4d  %-20s %-20s %-20s %-20s %s",
                    clip(d.getDocumentId(), 24), clip(d.getTask(), 12), clip(d.getModel(), 10),
                    version(d.getTaskVersion()), d.getAnnotators(),
                    cell(methods.get(METHODS.get(0))), cell(methods.get(METHODS.get(1))),
                    cell(methods.get(METHODS.get(2))), cell(methods.get(METHODS.get(3))),
                    methods.containsKey(METHODS.get(0)) ? methods.get(METHODS.get(0)).getPredicted() : "-");
        }
        if (value instanceof AlignmentMetric a) {
            return String.format("%-12s %-10s %-12s %-22s %-27s %6d %8s %7s %7s", clip(a.getTask(), 12),
                    clip(a.getModel(), 10), version(a.getTaskVersion()), a.getMethod(), window(a.getWindowStart(), a.getWindowEnd()),
                    a.getDocuments(), number(a.getMeanNll()), number(a.getMeanL1()), number(a.getMeanExampleF1()));
        }
        SpikinessMetric s = (SpikinessMetric) value;
        return String.format("%-12s %-10s %-12s %4d %-12s %-27s %6d %6s %6s %7s %8s %8s",
                clip(s.getTask(), 12), clip(s.getModel(), 10), version(s.getTaskVersion()), s.getStepIndex() + 1, s.getPosition(),
                window(s.getWindowStart(), s.getWindowEnd()), s.getTop1().getN(), mean(s.getTop1()),
                mean(s.getTop2()), mean(s.getEntropyBits()), number(s.getSecondPredictedNextRate()),
                number(s.getSecondNeverPredictedRate()));
    }

    /** A task version, or "-" for records written before versions existed. */
    private static String version(String taskVersion) {
        return taskVersion == null ? "-" : taskVersion;
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
