package io.labelscope.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.math.Calibration;
import io.labelscope.math.Conventions;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.eval.CalibrationSource;
import io.labelscope.math.eval.OfflineEval;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope eval FILE}: the aggregator's per-document and aggregate figures, computed offline from a file
 * of recorded generations and annotations (docs/eval-format.md), with the same math library the topology uses.
 */
@Command(name = "eval",
        mixinStandardHelpOptions = true,
        description = {"Score recorded generations against annotators offline and print the result as JSON.",
                "Input and output are described in docs/eval-format.md. Defaults follow the paper's conventions.",
                "Exit status: 0 ok, 1 invalid input (the message names the document and step), 2 usage."})
final class EvalCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "Input JSON file, or - for standard input.")
    String file;

    @Option(names = "--compat", paramLabel = "paper|code",
            description = "paper: the paper's conventions (default); code: the authors' code's quirks.")
    String compat;

    @Option(names = "--eps-hard", paramLabel = "X", description = "Hard predictions' epsilon (default 1e-8).")
    Double epsHard;

    @Option(names = "--eps-max-floor", paramLabel = "X", description = "Max-over-generations floor (default 1e-8).")
    Double epsMaxFloor;

    @Option(names = "--nll-clip", paramLabel = "X", description = "Clip p to [X, 1-X] for NLL and L1 (default 1e-8).")
    Double nllClip;

    @Option(names = "--model-threshold", paramLabel = "X", description = "A label is predicted when p >= X (default 0.5).")
    Double modelThreshold;

    @Option(names = "--human-threshold", paramLabel = "X", description = "A label is gold when H >= X (default 0.5).")
    Double humanThreshold;

    @Option(names = "--threshold-tolerance", paramLabel = "X",
            description = "A value within X below a threshold reaches it (default 1e-9).")
    Double thresholdTolerance;

    @Option(names = "--empty-f1", paramLabel = "X",
            description = "Example-F1 when gold and prediction are both empty (default 1).")
    Double emptyF1;

    @Option(names = "--bt-lambda", paramLabel = "X", description = "Bradley-Terry L2 weight (default 0.01).")
    Double btLambda;

    @Option(names = "--calibration", paramLabel = "prequential|file:PATH",
            description = {"Also report calibrated_max_over_generations, reliability diagrams and soft ECE "
                    + "(docs/calibration.md). Calibrators come from: prequential = each document uses a fit on the "
                    + "annotated documents before it in FILE's order; file:PATH = one fit on every annotated "
                    + "document of PATH (same format), applied to all of FILE. Default: no calibration output."})
    String calibration;

    @Option(names = "--calibration-min-documents", paramLabel = "N",
            description = "Annotated documents needed before a fitted map replaces the identity (default 50).")
    Integer calibrationMinDocuments;

    @Option(names = "--calibration-shared",
            description = "One Platt map shared by all labels instead of one per label.")
    boolean calibrationShared;

    @Option(names = "--calibration-lambda", paramLabel = "X",
            description = "L2 weight of the Platt fit towards the identity map (default 1e-3).")
    Double calibrationLambda;

    @Override
    public Integer call() throws IOException {
        Conventions conventions = conventions();
        try {
            CalibrationSource source = calibrationSource();
            JsonNode input = file.equals("-") ? JSON.readTree(System.in) : JSON.readTree(Path.of(file).toFile());
            var result = OfflineEval.run(input, conventions, source);
            PrintWriter out = spec.commandLine().getOut();
            out.println(OfflineEval.toJson(result));
            out.flush();
            return 0;
        } catch (InvalidInputException e) {
            throw new Labelscope.UserError("invalid input: " + e.getMessage(), 1);
        } catch (NoSuchFileException | FileNotFoundException e) {
            throw new Labelscope.UserError("no such file: " + file, 1);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Labelscope.UserError(file + " is not valid JSON: " + e.getOriginalMessage(), 1);
        }
    }

    /** null without {@code --calibration}; the calibration file is read here so its errors name it. */
    CalibrationSource calibrationSource() throws IOException {
        if (calibration == null) {
            if (calibrationMinDocuments != null || calibrationShared || calibrationLambda != null) {
                throw new Labelscope.UserError("the --calibration-* options need --calibration", 2);
            }
            return null;
        }
        Calibration.Settings settings;
        try {
            settings = Calibration.Settings.defaults();
            if (calibrationMinDocuments != null) {
                settings = settings.withMinimumDocuments(calibrationMinDocuments);
            }
            if (calibrationLambda != null) {
                settings = settings.withLambda(calibrationLambda);
            }
            settings = settings.withSharedAcrossLabels(calibrationShared);
        } catch (IllegalArgumentException e) {
            throw new Labelscope.UserError(e.getMessage(), 2);
        }
        if (calibration.equals("prequential")) {
            return CalibrationSource.prequential(settings);
        }
        if (calibration.startsWith("file:") && calibration.length() > "file:".length()) {
            String fitFile = calibration.substring("file:".length());
            try {
                return CalibrationSource.fittedOn(fitFile, JSON.readTree(Path.of(fitFile).toFile()), settings);
            } catch (FileNotFoundException | NoSuchFileException e) {
                throw new Labelscope.UserError("no such calibration file: " + fitFile, 1);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new Labelscope.UserError("calibration file " + fitFile + " is not valid JSON: "
                        + e.getOriginalMessage(), 1);
            }
        }
        throw new Labelscope.UserError("--calibration must be prequential or file:PATH, was '" + calibration + "'",
                2);
    }

    /** The paper's defaults, with each option the user gave applied on top. */
    Conventions conventions() {
        try {
            Conventions c = Conventions.paper();
            if (compat != null) {
                c = c.withMode(Conventions.Mode.fromWireName(compat));
            }
            if (epsHard != null) {
                c = c.withEpsHard(epsHard);
            }
            if (epsMaxFloor != null) {
                c = c.withEpsMaxFloor(epsMaxFloor);
            }
            if (nllClip != null) {
                c = c.withNllClip(nllClip);
            }
            if (modelThreshold != null) {
                c = c.withModelThreshold(modelThreshold);
            }
            if (humanThreshold != null) {
                c = c.withHumanThreshold(humanThreshold);
            }
            if (thresholdTolerance != null) {
                c = c.withThresholdTolerance(thresholdTolerance);
            }
            if (emptyF1 != null) {
                c = c.withEmptyF1(emptyF1);
            }
            if (btLambda != null) {
                c = c.withBtLambda(btLambda);
            }
            return c;
        } catch (IllegalArgumentException e) {
            throw new Labelscope.UserError(e.getMessage(), 2);
        }
    }
}
