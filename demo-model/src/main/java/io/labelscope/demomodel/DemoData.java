package io.labelscope.demomodel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The two demo tasks' documents, read from the repository's {@code data/} folder (copies of the shared data, see
 * each folder's SOURCE.md).
 *
 * <p>A document carries one label set per annotator (labels in instruction order, empty = {@code none}). GoEmotions'
 * aggregated splits have no annotators: the aggregated gold set is the single "annotator", so its human distribution
 * is 0/1. MFRC has per-label vote counts only; {@link #mfrcAnnotators} derives annotator sets from them.
 */
public final class DemoData {

    /** One document and its annotators' label sets (instruction order; an empty set means none). */
    public record Doc(String id, String text, List<List<String>> annotators) {}

    public static final List<String> GOEMOTIONS_LABELS =
            List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness", "anger");
    public static final List<String> MFRC_LABELS =
            List.of("authority", "care", "equality", "loyalty", "proportionality", "purity");

    /** The paper's 27 → 7 pooling (appendix A); {@code neutral} maps to no cluster. */
    static final Map<String, String> GOEMOTIONS_CLUSTER = clusters();

    private DemoData() {}

    private static Map<String, String> clusters() {
        Map<String, String> m = new HashMap<>();
        String[][] c = {
                {"joy", "amusement", "excitement", "joy", "love"},
                {"optimism", "desire", "optimism", "caring"},
                {"admiration", "pride", "admiration", "gratitude", "relief", "approval", "realization"},
                {"surprise", "surprise", "confusion", "curiosity"},
                {"fear", "fear", "nervousness"},
                {"sadness", "remorse", "embarrassment", "disappointment", "sadness", "grief"},
                {"anger", "anger", "disgust", "annoyance", "disapproval"}};
        for (String[] row : c) {
            for (int i = 1; i < row.length; i++) {
                m.put(row[i], row[0]);
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * An aggregated GoEmotions split ({@code train} or {@code dev}): TSV without quoting, {@code text, label indices,
     * comment id}; indices point into {@code emotions.txt}; pooled to the 7 clusters by union, neutral dropped.
     */
    public static List<Doc> goemotions(Path dataDir, String split) {
        Path dir = dataDir.resolve("goemotions");
        try {
            List<String> emotions = Files.readAllLines(dir.resolve("emotions.txt"), StandardCharsets.UTF_8);
            List<Doc> out = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve(split + ".tsv"), StandardCharsets.UTF_8)) {
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                if (f.length != 3) {
                    throw new IllegalArgumentException(split + ".tsv: expected 3 fields, got " + f.length + ": " + line);
                }
                Set<String> clusters = new LinkedHashSet<>();
                for (String idx : f[1].split(",")) {
                    String emotion = emotions.get(Integer.parseInt(idx.trim())).trim();
                    String cl = GOEMOTIONS_CLUSTER.get(emotion);
                    if (cl != null) {
                        clusters.add(cl);
                    } else if (!emotion.equals("neutral")) {
                        throw new IllegalArgumentException("unknown emotion " + emotion);
                    }
                }
                out.add(new Doc(f[2], f[0], List.of(inOrder(GOEMOTIONS_LABELS, clusters))));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * MFRC texts of one split of {@code data/mfrc/splits.tsv} (train, dev or test: the paper's split of the texts
     * that match a counts row; unmatched rows are train) with annotator sets derived from the vote counts.
     */
    public static List<Doc> mfrc(Path dataDir, String split, long seed) {
        Path dir = dataDir.resolve("mfrc");
        try {
            Map<String, String> splitOf = new HashMap<>();
            List<String> sl = Files.readAllLines(dir.resolve("splits.tsv"), StandardCharsets.UTF_8);
            for (String line : sl.subList(1, sl.size())) {
                String[] f = line.split("\t", -1);
                splitOf.put(f[0], f[1]);
            }
            List<String> lines = Files.readAllLines(dir.resolve("mfrc_label_counts.tsv"), StandardCharsets.UTF_8);
            String[] header = lines.get(0).split("\t", -1);
            List<Doc> out = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split("\t", -1);
                if (f.length != header.length) {
                    throw new IllegalArgumentException("mfrc_label_counts.tsv: expected " + header.length
                            + " fields, got " + f.length);
                }
                if (!split.equals(splitOf.get(f[0]))) {
                    continue;
                }
                Map<String, Integer> votes = new HashMap<>();
                for (int i = 2; i < header.length; i++) {
                    votes.put(header[i].toLowerCase(java.util.Locale.ROOT), Integer.parseInt(f[i].trim()));
                }
                out.add(new Doc("mfrc-" + f[0], f[1].strip(), mfrcAnnotators(votes, seed ^ Long.parseLong(f[0]))));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Annotator label sets consistent with one text's vote counts (keys: the six foundations lower-cased, plus
     * {@code non-moral} and {@code thin morality}).
     *
     * <p>Assumption (the per-annotator file is not available): an annotator who chose Non-Moral chose nothing else.
     * The smallest annotator count consistent with the votes is then Non-Moral + the largest other count (Thin
     * Morality included); n = max(3, that), since the corpus has at least 3 annotators per text. The Non-Moral
     * annotators get the empty set; each foundation's c votes go to c distinct annotators among the other n − NM,
     * chosen by a seeded shuffle (so the co-occurrence of foundations is random; only the per-label counts are data).
     * The human distribution H_l = c_l / n does not depend on that choice.
     */
    public static List<List<String>> mfrcAnnotators(Map<String, Integer> votes, long seed) {
        int nonMoral = votes.getOrDefault("non-moral", 0);
        int maxOther = votes.getOrDefault("thin morality", 0);
        for (String l : MFRC_LABELS) {
            maxOther = Math.max(maxOther, votes.getOrDefault(l, 0));
        }
        int n = Math.max(3, nonMoral + maxOther);
        int moral = n - nonMoral;
        List<Set<String>> sets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sets.add(new LinkedHashSet<>());
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (String l : MFRC_LABELS) {
            int c = votes.getOrDefault(l, 0);
            int[] order = new int[moral];
            for (int i = 0; i < moral; i++) {
                order[i] = i;
            }
            for (int i = moral - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < c; i++) {
                sets.get(nonMoral + order[i]).add(l);
            }
        }
        List<List<String>> out = new ArrayList<>();
        for (Set<String> s : sets) {
            out.add(inOrder(MFRC_LABELS, s));
        }
        return out;
    }

    static List<String> inOrder(List<String> labels, Set<String> chosen) {
        List<String> out = new ArrayList<>();
        for (String l : labels) {
            if (chosen.contains(l)) {
                out.add(l);
            }
        }
        return List.copyOf(out);
    }
}
