package io.labelscope.demomodel;

import io.labelscope.runtime.task.TaskDefinition;
import java.nio.file.Path;
import java.util.List;

/**
 * The two tasks the demo models are trained on: SPEC §2's zero-shot prompt (k = 0 demos) with the JSON answer list.
 * The same definitions are committed as {@code tasks/goemotions.json} and {@code tasks/mfrc.json}.
 */
public final class DemoTasks {
    public static final String MFRC_INSTRUCTION = "Classify the following inputs into none, one, or multiple the "
            + "following moral foundations per input: {labels}. Output exactly these moral foundations and no others.\n";

    private DemoTasks() {}

    public static TaskDefinition goemotions() {
        return TaskDefinition.defaults("goemotions", DemoData.GOEMOTIONS_LABELS, List.of(), 0, 0).withMaxNewTokens(32);
    }

    public static TaskDefinition mfrc() {
        TaskDefinition d = TaskDefinition.defaults("mfrc", DemoData.MFRC_LABELS, List.of(), 0, 0);
        return new TaskDefinition(d.name(), d.labels(), MFRC_INSTRUCTION, d.demoTemplate(), d.queryTemplate(),
                d.format(), 0, 0, List.of(), d.extraVariants(), false, 32);
    }

    public static TaskDefinition byName(String name) {
        return switch (name) {
            case "goemotions" -> goemotions();
            case "mfrc" -> mfrc();
            default -> throw new IllegalArgumentException("unknown demo task '" + name + "' (goemotions, mfrc)");
        };
    }

    /** Training documents of a task. */
    public static List<DemoData.Doc> train(String task, Path data, long seed) {
        return task.equals("goemotions") ? DemoData.goemotions(data, "train") : DemoData.mfrc(data, "train", seed);
    }

    /** Documents watched during training (GoEmotions dev; MFRC: the paper's dev texts). */
    public static List<DemoData.Doc> dev(String task, Path data, long seed) {
        return task.equals("goemotions") ? DemoData.goemotions(data, "dev") : DemoData.mfrc(data, "dev", seed);
    }

    /** Documents the reported numbers come from (GoEmotions dev split; MFRC: the paper's held-out test texts). */
    public static List<DemoData.Doc> eval(String task, Path data, long seed) {
        return task.equals("goemotions") ? DemoData.goemotions(data, "dev") : DemoData.mfrc(data, "test", seed);
    }
}
