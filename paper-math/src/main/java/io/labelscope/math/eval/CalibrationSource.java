package io.labelscope.math.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.labelscope.math.Calibration;

/**
 * Where the offline eval's calibrators come from ({@code labelscope eval --calibration}, docs/calibration.md §5).
 *
 * @param description {@code prequential}, or {@code file:NAME} for calibrators fitted on another file
 * @param fitInput    null for prequential; else the eval-format input whose annotated documents the calibrators
 *                    are fitted on (all of them, once), then applied to every document of the evaluated file
 * @param settings    minimum documents, per-label or shared map, L2 weight
 */
public record CalibrationSource(String description, JsonNode fitInput, Calibration.Settings settings) {

    public CalibrationSource {
        if (settings == null) {
            throw new IllegalArgumentException("calibration settings are required");
        }
    }

    /** Prequential over the evaluated file's order: document i sees a fit on the annotated documents before it. */
    public static CalibrationSource prequential(Calibration.Settings settings) {
        return new CalibrationSource("prequential", null, settings);
    }

    /** Calibrators fitted once on the annotated documents of another eval-format input. */
    public static CalibrationSource fittedOn(String name, JsonNode input, Calibration.Settings settings) {
        return new CalibrationSource("file:" + name, input, settings);
    }

    public boolean isPrequential() {
        return fitInput == null;
    }
}
