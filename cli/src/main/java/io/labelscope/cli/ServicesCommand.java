package io.labelscope.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.labelscope.platform.LocalPlatform;
import io.labelscope.platform.PlatformSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope status} and {@code labelscope restart <service>}: what an operator needs for the four local
 * processes that {@code up} starts. Both act only on processes found through their pid files (pid and start time),
 * so neither can signal a process labelscope did not start.
 */
final class ServicesCommand {

    /** The names operators type, and the names the services are recorded under. */
    enum Name {
        BROKER(LocalPlatform.KAFKA), REGISTRY(LocalPlatform.REGISTRY), WORKER(LocalServices.WORKER),
        AGGREGATOR(LocalServices.AGGREGATOR);

        final String recorded;

        Name(String recorded) {
            this.recorded = recorded;
        }

        static Name parse(String typed) {
            String lower = typed.trim().toLowerCase(Locale.ROOT);
            for (Name n : values()) {
                if (n.name().toLowerCase(Locale.ROOT).equals(lower) || n.recorded.equals(lower)) {
                    return n;
                }
            }
            throw new Labelscope.UserError("no service '" + typed + "': choose one of broker, registry, worker, "
                    + "aggregator", 2);
        }
    }

    private ServicesCommand() {
    }

    /** One line of {@code status}: the service's own pid (its restart loop's child), whether it answers. */
    record Line(String name, String pid, boolean alive, String endpoint, String log) {
    }

    static List<Line> lines() {
        PlatformSettings settings = PlatformCommand.platform().settings();
        List<Line> lines = new ArrayList<>();
        for (LocalPlatform.ServiceStatus s : new LocalPlatform(settings).status()) {
            lines.add(new Line(s.name().equals(LocalPlatform.KAFKA) ? "broker" : s.name(),
                    s.pid().map(String::valueOf).orElse("-"), s.alive(), s.endpoint(), s.log().toString()));
        }
        LocalServices services = new LocalServices(LocalServices.checkoutRoot(), settings);
        for (LocalServices.Service s : services.services()) {
            var pid = services.pid(s);
            lines.add(new Line(s.name().equals(LocalServices.WORKER) ? "worker" : s.name(),
                    pid.map(String::valueOf).orElse("-"), pid.isPresent() && services.ready(s),
                    "http://" + settings.host() + ":" + s.port(), services.log(s).toString()));
        }
        return lines;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Show each local service: its pid, whether it answers, where, and its log file. "
                    + "Exit 0 when all four answer, 3 when not."})
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            boolean allUp = true;
            out.printf("%-11s %-8s %-5s %-40s %s%n", "SERVICE", "PID", "ALIVE", "ENDPOINT", "LOG");
            for (Line line : lines()) {
                allUp &= line.alive();
                out.printf("%-11s %-8s %-5s %-40s %s%n", line.name(), line.pid(), line.alive() ? "yes" : "no",
                        line.endpoint(), line.log());
            }
            return allUp ? 0 : 3;
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = {"Restart one service that `up` started: SIGTERM (SIGKILL after a grace period), then its "
                    + "restart loop starts it again; returns once it answers. A service that is not running under "
                    + "labelscope is an error (exit 3) and nothing is signalled: start it with `labelscope up`."})
    static final class Restart implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SERVICE", description = "broker, registry, worker or aggregator")
        String service;

        @Override
        public Integer call() {
            Name name = Name.parse(service);
            PlatformSettings settings = PlatformCommand.platform().settings();
            long start = System.nanoTime();
            boolean restarted;
            try {
                restarted = switch (name) {
                    case BROKER, REGISTRY -> new LocalPlatform(settings).restart(name.recorded);
                    case WORKER, AGGREGATOR -> {
                        LocalServices services = new LocalServices(LocalServices.checkoutRoot(), settings);
                        yield services.restart(services.service(name.recorded));
                    }
                };
            } catch (IllegalStateException e) {
                throw new Labelscope.UserError(e.getMessage(), 1);
            }
            if (!restarted) {
                throw new Labelscope.UserError(name.name().toLowerCase(Locale.ROOT) + " is not running under "
                        + "labelscope (no live process recorded in " + settings.home() + "); start it with "
                        + "`labelscope up`", 3);
            }
            spec.commandLine().getOut().printf("restarted %s; it answers again after %.1f s%n",
                    name.name().toLowerCase(Locale.ROOT), (System.nanoTime() - start) / 1e9);
            return 0;
        }
    }
}
