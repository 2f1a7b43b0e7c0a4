package io.labelscope.aggregator.calibration;

import io.labelscope.math.Calibration;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The settings {@code labelscope.aggregator.calibration.*} of the calibrated method (docs/calibration.md §6): how
 * many annotated documents before a fitted map replaces the identity, one map per label or one shared map, and
 * the L2 weight towards the identity map. Newton's tolerance is paper-math's default (the offline eval's too).
 */
@ApplicationScoped
public class CalibrationConfig {

    @ConfigProperty(name = "labelscope.aggregator.calibration.min-documents", defaultValue = "50")
    int minDocuments;

    @ConfigProperty(name = "labelscope.aggregator.calibration.shared", defaultValue = "false")
    boolean shared;

    @ConfigProperty(name = "labelscope.aggregator.calibration.lambda", defaultValue = "1e-3")
    double lambda;

    public Calibration.Settings settings() {
        return Calibration.Settings.defaults().withMinimumDocuments(minDocuments).withSharedAcrossLabels(shared)
                .withLambda(lambda);
    }
}
