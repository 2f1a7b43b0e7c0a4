package io.labelscope.runtime.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Renders the test-time breakdown prompts of a task (SPEC §3, paper appendix B): the breakdown instruction, the
 * demo blocks, then one query block per probe, cut just before {@code {answer}} and stripped of trailing white space.
 *
 * <p>Every probe of a document is {@code prefix + document + suffix}: the prefix (instruction + demos) is the same
 * for every document, the document part (the query block up to the first varying placeholder, {@code {label}} or
 * {@code {a}}, trailing white space excluded) is the same for every probe of the document, and only the suffix
 * differs. The white space before the placeholder starts the suffix, so the label's word keeps its usual leading-space
 * token ({@code " joy"}, not {@code " "} + {@code "joy"}).
 *
 * <p>Probe items are the labels then {@code none} ({@link TaskDefinition#scoredLabels()}). Unary: one probe per
 * item, in that order. Binary: one probe per unordered pair, in the order of {@link #pairs()}.
 *
 * <p>Demo blocks (only when {@link Breakdown#k()} &gt; 0): the k demos are drawn from the task's pool with the
 * task's seed exactly as the generate prompt draws its own. A demo's "gold" items are its labels, or {@code none}
 * when it has none. Unary: demo j asks about a gold item (answer: reasonable) when j is even, about another item
 * (unreasonable) when j is odd, so the answers alternate. Binary: a gold item against another item, shown in the
 * pair order, answered with the gold one's option. The items are picked with a generator seeded by the task's seed.
 */
public final class ProbePrompts {

    /** The text of one document's probes: every probe prompt is {@code prefix + document + suffixes[i]}. */
    public record Probes(String prefix, String document, List<String> suffixes) {
        public String prompt(int i) {
            return prefix + document + suffixes.get(i);
        }
    }

    /** A binary probe: indices into {@link #items()} of the item shown as a and the one shown as b. */
    public record Pair(int a, int b) {}

    private final TaskDefinition task;
    private final Breakdown settings;
    private final List<String> items;
    private final List<Pair> pairs;
    private final String unaryPrefix;
    private final String binaryPrefix;

    public ProbePrompts(TaskDefinition task) {
        this.task = task;
        this.settings = task.breakdown();
        this.items = task.scoredLabels();
        int none = items.size() - 1;
        List<Integer> order = new ArrayList<>();
        if (settings.pairOrder() == PairOrder.NONE_FIRST) {
            order.add(none);
        }
        for (int i = 0; i < none; i++) {
            order.add(i);
        }
        if (settings.pairOrder() == PairOrder.LABELS_FIRST) {
            order.add(none);
        }
        List<Pair> p = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            for (int j = i + 1; j < order.size(); j++) {
                p.add(new Pair(order.get(i), order.get(j)));
            }
        }
        this.pairs = List.copyOf(p);
        List<Demo> demos = PromptRenderer.sampleDemos(task.demoPool(), settings.k(), task.seed());
        // Its own stream, so the demo draw above stays the generate prompt's draw for the same k.
        Random r = new Random(task.seed() * 31 + 17);
        StringBuilder u = new StringBuilder(settings.unaryInstruction());
        StringBuilder b = new StringBuilder(settings.binaryInstruction());
        for (int j = 0; j < demos.size(); j++) {
            Demo d = demos.get(j);
            List<Integer> gold = gold(d);
            List<Integer> other = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                if (!gold.contains(i)) {
                    other.add(i);
                }
            }
            boolean fits = j % 2 == 0;
            int asked = fits ? gold.get(r.nextInt(gold.size())) : other.get(r.nextInt(other.size()));
            u.append(fill(settings.unaryTemplate(), d.text(), items.get(asked), null,
                    fits ? settings.reasonable() : settings.unreasonable()));
            int winner = gold.get(r.nextInt(gold.size()));
            int loser = other.get(r.nextInt(other.size()));
            boolean winnerFirst = order.indexOf(winner) < order.indexOf(loser);
            b.append(fill(settings.binaryTemplate(), d.text(), items.get(winnerFirst ? winner : loser),
                    items.get(winnerFirst ? loser : winner), winnerFirst ? settings.optionA() : settings.optionB()));
        }
        this.unaryPrefix = u.toString();
        this.binaryPrefix = b.toString();
    }

    /** Indices of a demo's labels among the items (case-insensitive), or of {@code none} when it has none. */
    private List<Integer> gold(Demo d) {
        List<Integer> g = new ArrayList<>();
        for (String l : d.labels()) {
            for (int i = 0; i < items.size() - 1; i++) {
                if (items.get(i).toLowerCase(Locale.ROOT).equals(l.strip().toLowerCase(Locale.ROOT)) && !g.contains(i)) {
                    g.add(i);
                }
            }
        }
        if (g.isEmpty()) {
            g.add(items.size() - 1);
        }
        return g;
    }

    /** A whole demo block; {@code b} null for the unary template. Pieces are joined, never re-scanned. */
    private static String fill(String template, String text, String first, String second, String answer) {
        String firstKey = second == null ? "{label}" : "{a}";
        int t = template.indexOf("{text}");
        int f = template.indexOf(firstKey);
        int an = template.indexOf("{answer}");
        StringBuilder sb = new StringBuilder(template.substring(0, t)).append(text)
                .append(template, t + 6, f).append(first);
        int after = f + firstKey.length();
        if (second != null) {
            int s = template.indexOf("{b}");
            sb.append(template, after, s).append(second);
            after = s + 3;
        }
        return sb.append(template, after, an).append(answer).append(template.substring(an + 8)).toString();
    }

    /** The probes of one document, one per item (labels then none). */
    public Probes unary(String text) {
        String template = settings.unaryTemplate();
        int l = template.indexOf("{label}");
        int an = template.indexOf("{answer}");
        String[] doc = documentPart(template, l, text);
        List<String> suffixes = new ArrayList<>(items.size());
        for (String item : items) {
            suffixes.add((doc[1] + item + template.substring(l + 7, an)).stripTrailing());
        }
        return new Probes(unaryPrefix, doc[0], List.copyOf(suffixes));
    }

    /** The probes of one document, one per pair of {@link #pairs()}. */
    public Probes binary(String text) {
        String template = settings.binaryTemplate();
        int a = template.indexOf("{a}");
        int b = template.indexOf("{b}");
        int an = template.indexOf("{answer}");
        String[] doc = documentPart(template, a, text);
        List<String> suffixes = new ArrayList<>(pairs.size());
        for (Pair p : pairs) {
            suffixes.add((doc[1] + items.get(p.a()) + template.substring(a + 3, b) + items.get(p.b())
                    + template.substring(b + 3, an)).stripTrailing());
        }
        return new Probes(binaryPrefix, doc[0], List.copyOf(suffixes));
    }

    /** The query block up to {@code cut} with the text filled in: {stripped, the white space stripped off}. */
    private static String[] documentPart(String template, int cut, String text) {
        int t = template.indexOf("{text}");
        String head = template.substring(0, t) + text + template.substring(t + 6, cut);
        String stripped = head.stripTrailing();
        return new String[] {stripped, head.substring(stripped.length())};
    }

    /** Labels then {@code none}. */
    public List<String> items() {
        return items;
    }

    /** Every unordered pair of items once, a shown first ({@link Breakdown#pairOrder()}). */
    public List<Pair> pairs() {
        return pairs;
    }

    public String unaryPrefix() {
        return unaryPrefix;
    }

    public String binaryPrefix() {
        return binaryPrefix;
    }

    public TaskDefinition task() {
        return task;
    }
}
