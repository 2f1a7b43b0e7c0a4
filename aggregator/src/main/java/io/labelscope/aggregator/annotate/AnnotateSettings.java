package io.labelscope.aggregator.annotate;

import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.Conventions;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The annotation priority's settings (docs/annotate-next.md), read once from configuration and used alike by the
 * topology (the topic's priorities) and the REST answer (every strategy), so the two never disagree:
 * {@code labelscope.aggregator.annotate.prior-strength} (s, default 2) and
 * {@code labelscope.aggregator.annotate.max-annotators} (default 10: documents with that many annotators are not
 * requested); the decisions use the conventions of {@code labelscope.aggregator.compat}.
 */
@ApplicationScoped
public class AnnotateSettings {

    @ConfigProperty(name = "labelscope.aggregator.annotate.prior-strength", defaultValue = "2")
    double priorStrength;

    @ConfigProperty(name = "labelscope.aggregator.annotate.max-annotators", defaultValue = "10")
    int maxAnnotators;

    @ConfigProperty(name = "labelscope.aggregator.compat", defaultValue = "paper")
    String compat;

    public Settings settings() {
        return new Settings(priorStrength, maxAnnotators);
    }

    public Conventions conventions() {
        return Conventions.paper().withMode(Conventions.Mode.fromWireName(compat));
    }
}
