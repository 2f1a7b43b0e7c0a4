package io.labelscope.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs each local service (broker, registry, worker, aggregator) under a small {@code sh} restart loop, so a service
 * that dies — kill -9, out of memory, an exit while the platform was degraded — is started again without anyone
 * running {@code up}. The loop waits 1 s before the first restart and doubles the pause up to 60 s while the service
 * keeps failing within a minute of its start, so a crash loop neither spins nor fills the disk.
 *
 * <p>The loop's pid is recorded in {@code <home>/<name>.pid} together with the process's start time. A pid is only
 * signalled when a live process with that pid has that start time (pids are reused), and the service's JVM is only
 * ever found as a child of that loop: no command signals a process it did not start.
 *
 * <p>Output: the loop writes one line per restart to {@code logs/supervisor.log}; the service's own console output
 * (which is only what happens before its logging starts, or a JVM crash, as every service logs to its own rotated
 * file) goes to {@code logs/<name>.out}, replaced at each start.
 */
public final class Supervisor {

    /** Longest pause between restarts of a service that keeps failing. */
    static final int MAX_RESTART_DELAY_SECONDS = 60;

    private static final String LOOP = String.join("\n",
            "name=\"$1\"; console=\"$2\"; servicefile=\"$3\"; shift 3",
            "child=",
            // down/restart of the whole service: end the service first, then the loop.
            "trap '[ -n \"$child\" ] && kill -TERM \"$child\" 2>/dev/null; [ -n \"$child\" ] && wait \"$child\"; exit 0' TERM INT",
            "delay=1",
            "while :; do",
            "  started=$(date +%s)",
            "  \"$@\" >\"$console\" 2>&1 &",
            "  child=$!",
            // Which child is the service: the loop's other children (date, sleep) come and go around it.
            "  echo \"$child\" >\"$servicefile\"",
            "  wait \"$child\"; status=$?",
            "  : >\"$servicefile\"",
            "  if [ $(( $(date +%s) - started )) -ge " + MAX_RESTART_DELAY_SECONDS + " ]; then delay=1; fi",
            "  echo \"$(date -u '+%Y-%m-%dT%H:%M:%SZ') $name exited (status $status); restarting in $delay s\"",
            "  sleep \"$delay\" & wait $!",
            "  delay=$(( delay * 2 > " + MAX_RESTART_DELAY_SECONDS + " ? " + MAX_RESTART_DELAY_SECONDS
                    + " : delay * 2 ))",
            "done",
            "");

    private final Path home;

    /** @param home {@code LABELSCOPE_HOME}: pid files at its top, logs under {@code logs/} */
    public Supervisor(Path home) {
        this.home = home;
    }

    /** A supervised service found alive: its restart loop and, while one runs, the service's own process. */
    public record Running(ProcessHandle loop, Optional<ProcessHandle> service) {
    }

    /** Starts {@code command} under the restart loop and records the loop's pid and start time. */
    public ProcessHandle start(String name, List<String> command, Path workingDirectory, Map<String, String> env)
            throws IOException {
        Files.createDirectories(logs());
        List<String> shell = new ArrayList<>(List.of("sh", "-c", LOOP, "labelscope-" + name, name,
                consoleLog(name).toString(), serviceFile(name).toString()));
        shell.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(shell)
                .directory(workingDirectory.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs().resolve("supervisor.log").toFile()));
        builder.environment().putAll(env);
        ProcessHandle loop = builder.start().toHandle();
        Files.writeString(pidFile(name), loop.pid() + " " + startMillis(loop).orElse(0L) + "\n");
        return loop;
    }

    /** The service's loop if the pid file names a live process that is the one recorded (same start time). */
    public Optional<Running> find(String name) {
        return recordedLoop(name).map(loop -> new Running(loop, serviceOf(loop, serviceFile(name))));
    }

    /** The recorded loop pid, whether or not it is alive (for status). */
    public Optional<Long> recordedPid(String name) {
        return readPidFile(name).map(r -> r[0]);
    }

    /**
     * Ends the service's process (SIGTERM, then SIGKILL after the grace period); its loop starts it again. Returns
     * false when no supervised service of that name runs.
     */
    public boolean restart(String name, Duration grace) {
        Optional<Running> running = find(name);
        if (running.isEmpty()) {
            return false;
        }
        running.get().service().ifPresent(service -> terminate(List.of(service), grace));
        return true;
    }

    /** Stops the loop and the service (SIGTERM, then SIGKILL after the grace period) and removes the pid file. */
    public boolean stop(String name, Duration grace) throws IOException {
        Optional<ProcessHandle> loop = recordedLoop(name);
        boolean stopped = false;
        if (loop.isPresent()) {
            // Taken before the loop is signalled: once it is gone its children are no longer its descendants.
            List<ProcessHandle> all = new ArrayList<>(loop.get().descendants().toList());
            all.add(0, loop.get());
            terminate(List.of(loop.get()), grace);
            terminate(all, Duration.ofSeconds(5));
            stopped = true;
        }
        Files.deleteIfExists(pidFile(name));
        Files.deleteIfExists(serviceFile(name));
        return stopped;
    }

    public Path log(String name) {
        return logs().resolve(name + ".log");
    }

    public Path consoleLog(String name) {
        return logs().resolve(name + ".out");
    }

    public Path logs() {
        return home.resolve("logs");
    }

    private Optional<ProcessHandle> recordedLoop(String name) {
        return readPidFile(name).flatMap(recorded -> ProcessHandle.of(recorded[0])
                .filter(ProcessHandle::isAlive)
                .filter(h -> startMillis(h).map(started -> started == recorded[1]).orElse(false)));
    }

    /**
     * The service's process: the pid its loop wrote to {@code <name>.service} when it started it (empty between
     * restarts), and only while that pid is a live child of the loop.
     */
    private static Optional<ProcessHandle> serviceOf(ProcessHandle loop, Path serviceFile) {
        String pid;
        try {
            pid = Files.readString(serviceFile).strip();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (pid.isEmpty()) {
            return Optional.empty();
        }
        try {
            return ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive)
                    .filter(h -> h.parent().map(parent -> parent.pid() == loop.pid()).orElse(false));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private Path serviceFile(String name) {
        return home.resolve(name + ".service");
    }

    private Optional<long[]> readPidFile(String name) {
        try {
            String[] parts = Files.readString(pidFile(name)).trim().split("\\s+");
            if (parts.length != 2) {
                // Written by an older labelscope without a start time: the pid cannot be told from a reused one.
                return Optional.empty();
            }
            return Optional.of(new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])});
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli);
    }

    private Path pidFile(String name) {
        return home.resolve(name + ".pid");
    }

    /** SIGTERM to each, then SIGKILL to whatever is still alive after the grace period. */
    private static void terminate(List<ProcessHandle> processes, Duration grace) {
        processes.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle p : processes) {
            try {
                p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        }
    }
}
