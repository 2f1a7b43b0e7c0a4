package io.labelscope.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * {@code labelscope bench runtime|worker|aggregator|breakdown|routing}: runs a component's benchmark command from this
 * checkout. The benchmarks live beside the code they measure (the runtime's and the annotate-next routing
 * simulation's in their main sources, the services' in their test sources, since they start a real broker and
 * registry the way the tests do); this builds their class path with Maven and runs them, and each rewrites its
 * report under docs/.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = {"Run a benchmark and rewrite its report under docs/ (see docs/benchmarks.md).",
                "Arguments after the component go to the benchmark, e.g. `bench runtime --threads 2`."})
final class BenchCommand implements Callable<Integer> {

    /** A benchmark: the module it lives in, which class path it needs, its main class and report. */
    enum Benchmark {
        runtime("llm-runtime", "compile", "runtime", "target/classes", "io.labelscope.runtime.bench.RuntimeBenchmark",
                "docs/benchmarks-runtime.md"),
        worker("inference-worker", "test-compile", "test", "target/test-classes:target/classes",
                "io.labelscope.worker.WorkerBenchmark", "docs/benchmarks-worker.md"),
        aggregator("aggregator", "test-compile", "test", "target/test-classes:target/classes",
                "io.labelscope.aggregator.bench.AggregatorBenchmark", "printed; docs/benchmarks.md keeps the last run"),
        breakdown("inference-worker", "test-compile", "test", "target/test-classes:target/classes",
                "io.labelscope.worker.BreakdownBenchmark", "docs/benchmarks-breakdown.md"),
        // The demo model's distributions on real annotated documents, then the annotate-next strategies against
        // random picks (issue #18); paths default to the checkout root, where this runs.
        routing("demo-model", "compile", "runtime", "target/classes", "io.labelscope.demomodel.RoutingBenchmark",
                "docs/benchmarks-routing.md, docs/routing.png, docs/routing-curves.csv");

        final String module;
        final String phase;
        final String scope;
        final String classes;
        final String mainClass;
        final String report;

        Benchmark(String module, String phase, String scope, String classes, String mainClass, String report) {
            this.module = module;
            this.phase = phase;
            this.scope = scope;
            this.classes = classes;
            this.mainClass = mainClass;
            this.report = report;
        }
    }

    @Parameters(index = "0", paramLabel = "COMPONENT", description = "runtime, worker, aggregator, breakdown or routing")
    Benchmark benchmark;

    /** Everything after the component goes to the benchmark, options included. */
    @Unmatched
    List<String> arguments = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path root = LocalServices.checkoutRoot();
        String module = benchmark.module;
        List<String> args = new ArrayList<>(arguments);
        if ((benchmark == Benchmark.worker || benchmark == Benchmark.breakdown) && !args.contains("--out")) {
            // Its default is relative to the module directory; this runs from the checkout's root.
            args.addAll(List.of("--out", benchmark.report));
        }
        StringBuilder classPath = new StringBuilder();
        for (String dir : benchmark.classes.split(":")) {
            classPath.append(module).append('/').append(dir).append(':');
        }
        String script = String.join(" && ",
                "mvn -B -q -Dmaven.test.skip=true install -pl " + module + " -am",
                "mvn -B -q -f " + module + "/pom.xml " + benchmark.phase
                        + " dependency:build-classpath -Dmdep.includeScope=" + benchmark.scope
                        + " -Dmdep.outputFile=target/bench-classpath.txt",
                "exec java -Xmx3g -cp \"" + classPath + "$(cat " + module + "/target/bench-classpath.txt)\" "
                        + benchmark.mainClass + " " + String.join(" ", quoted(args)));
        System.err.println("labelscope bench: " + benchmark.mainClass + " (report: " + benchmark.report + ")");
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", script).directory(root.toFile()).inheritIO();
        builder.environment().put("DJL_OFFLINE", "true");
        builder.environment().putIfAbsent("OMP_NUM_THREADS", "1");
        int status = builder.start().waitFor();
        if (status != 0) {
            throw new Labelscope.UserError("the " + benchmark + " benchmark failed (exit " + status + ")", status);
        }
        return 0;
    }

    private static List<String> quoted(List<String> arguments) {
        return arguments.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList();
    }
}
