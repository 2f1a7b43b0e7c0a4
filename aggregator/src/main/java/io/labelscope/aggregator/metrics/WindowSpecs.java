package io.labelscope.aggregator.metrics;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The configured windows of the windowed metrics (see {@link WindowSpec} for the format and late updates). */
@ApplicationScoped
public class WindowSpecs {

    @ConfigProperty(name = "labelscope.aggregator.windows", defaultValue = "PT1M,PT15M/PT5M")
    List<String> windows;

    /** How long after a window's end a late change (by generation time) is still applied to it. */
    @ConfigProperty(name = "labelscope.aggregator.window-grace", defaultValue = "PT1M")
    Duration grace;

    /** How long closed windows stay queryable. */
    @ConfigProperty(name = "labelscope.aggregator.window-retention", defaultValue = "P1D")
    Duration retention;

    public List<WindowSpec> specs() {
        return parse(windows, grace, retention);
    }

    public static List<WindowSpec> parse(List<String> windows, Duration grace, Duration retention) {
        List<WindowSpec> specs = new ArrayList<>();
        for (String w : windows) {
            if (!w.isBlank()) {
                specs.add(WindowSpec.parse(w, grace, retention));
            }
        }
        return specs;
    }
}
