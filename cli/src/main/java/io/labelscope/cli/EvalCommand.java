package io.labelscope.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.labelscope.math.Conventions;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.eval.OfflineEval;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope eval FILE}: the aggregator's per-document and aggregate figures, computed offline from a file
 * of recorded generations and annotations (EVAL-FORMAT.md), with the same math library the topology uses.
 */
@Command(name = "eval",
        mixinStandardHelpOptions = true,
        description = {"Score recorded generations against annotators offline and print the result as JSON.",
                "Input and output are described in docs/eval-format.md. Defaults follow the paper's conventions.",
                "Exit status: 0 ok, 1 invalid input (the message names the document and step), 2 usage."})
final class EvalCommand implements Callable<Integer> {

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

    @Override
    public Integer call() throws IOException {
        Conventions conventions = conventions();
        try {
            var result = file.equals("-") ? OfflineEval.run(System.in, conventions)
                    : OfflineEval.run(Path.of(file), conventions);
            PrintWriter out = spec.commandLine().getOut();
            out.println(OfflineEval.toJson(result));
            out.flush();
            return 0;
        } catch (InvalidInputException e) {
            throw new Labelscope.UserError("invalid input: " + e.getMessage(), 1);
        } catch (NoSuchFileException e) {
            throw new Labelscope.UserError("no such file: " + file, 1);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Labelscope.UserError(file + " is not valid JSON: " + e.getOriginalMessage(), 1);
        }
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
