package io.labelscope.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Labels;
import io.labelscope.runtime.task.TaskFiles;

/**
 * The tasks on the compacted {@code tasks} topic and their label sets, for {@code produce} to check its input
 * against before sending: a document of an unknown task or an annotation naming a label outside its task's set is
 * only dead-lettered later by a service, where the user is not looking.
 *
 * <p>Labels are compared as the aggregator compares them ({@link Labels#normalize}: trimmed, lower-cased), and
 * {@code none} is accepted in annotations as it is there, so the CLI rejects exactly what the aggregator would.
 */
final class RegisteredTasks {

    /** Task name → normalised label set, in instruction order; null when checks are off. */
    private final Map<String, List<String>> labelsByTask;
    private final String where;

    private RegisteredTasks(Map<String, List<String>> labelsByTask, String where) {
        this.labelsByTask = labelsByTask;
        this.where = where;
    }

    /** Reads every registered task from the tasks topic (definitions that do not parse count as unknown). */
    static RegisteredTasks read(KafkaOptions kafka) {
        Map<String, List<String>> labelsByTask = new LinkedHashMap<>();
        TaskCommand.readAll(kafka).forEach((name, json) -> {
            try {
                labelsByTask.put(name, Labels.normalizeLabelSet(TaskFiles.parse(json).labels()));
            } catch (IllegalArgumentException e) {
                // An invalid definition serves no document; `task list` shows it as INVALID.
            }
        });
        return new RegisteredTasks(labelsByTask, kafka.bootstrapServers());
    }

    /** Accepts every task and label ({@code --no-check}). */
    static RegisteredTasks unchecked() {
        return new RegisteredTasks(null, null);
    }

    /**
     * Fails the command with one line naming the registered tasks when {@code task} (the {@code --task} given) is
     * not one of them: every row without a task column would be rejected for the same reason.
     */
    void requireKnown(String task) {
        if (labelsByTask == null || task == null || labelsByTask.containsKey(task)) {
            return;
        }
        String known = labelsByTask.isEmpty() ? "no tasks are registered there"
                : "registered tasks: " + String.join(", ", new TreeSet<>(labelsByTask.keySet()));
        throw new Labelscope.UserError("unknown task '" + task + "' on " + where + "; " + known + " (register it "
                + "with ./labelscope task register FILE, or skip this check with --no-check)", ExitCode.ERROR);
    }

    /** Why a row of {@code task} cannot be sent, or null when it can. */
    String taskProblem(String task) {
        if (labelsByTask == null || task == null || labelsByTask.containsKey(task)) {
            return null;
        }
        return "unknown task '" + task + "' (./labelscope task list shows the registered ones)";
    }

    /** Why an annotation of {@code task} with these labels cannot be sent, or null when it can. */
    String labelProblem(String task, List<String> labels) {
        if (labelsByTask == null || !labelsByTask.containsKey(task)) {
            return null;
        }
        List<String> taskLabels = labelsByTask.get(task);
        Set<String> unknown = new TreeSet<>(HumanDistribution.unknownLabels(taskLabels, labels));
        if (unknown.isEmpty()) {
            return null;
        }
        List<String> quoted = new ArrayList<>();
        unknown.forEach(l -> quoted.add("'" + l + "'"));
        return (quoted.size() == 1 ? "label " + quoted.get(0) + " is not a label"
                : "labels " + String.join(", ", quoted) + " are not labels")
                + " of task '" + task + "' (" + String.join(", ", taskLabels) + ")";
    }
}
