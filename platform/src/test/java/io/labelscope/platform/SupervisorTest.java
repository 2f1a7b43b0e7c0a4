package io.labelscope.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupervisorTest {

    @TempDir
    Path home;

    private Process victim;

    @AfterEach
    void endWhatTheTestStarted() throws Exception {
        if (victim != null) {
            victim.destroyForcibly();
        }
        // A failed assertion must not leave the probe's restart loop running (it would restart it forever).
        new Supervisor(home).stop("probe", Duration.ofSeconds(5));
    }

    /**
     * A pid file that names a live Java process labelscope did not start (a reused pid, or a file from a version
     * without start times): {@code down} must leave that process alone.
     */
    @Test
    void downNeverSignalsAProcessWhosePidWasReused() throws Exception {
        Path source = home.resolve("Victim.java");
        Files.writeString(source, "class Victim { public static void main(String[] a) throws Exception { "
                + "Thread.sleep(300_000); } }");
        victim = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                source.toString()).start();
        LocalPlatform platform = new LocalPlatform(new PlatformSettings(home, "127.0.0.1", 1, 2, 3, 1));

        // The pid alone (as older labelscope versions wrote it) cannot tell a reused pid from ours.
        Files.writeString(home.resolve(LocalPlatform.KAFKA + ".pid"), Long.toString(victim.pid()));
        // Our format, but the process with that pid started at another time: not the one recorded.
        Files.writeString(home.resolve(LocalPlatform.REGISTRY + ".pid"), victim.pid() + " 1234567\n");

        assertThat(platform.down()).isEmpty();
        assertThat(platform.status()).allSatisfy(s -> assertThat(s.alive()).isFalse());
        assertThat(victim.waitFor(2, TimeUnit.SECONDS)).as("the victim was signalled").isFalse();
    }

    @Test
    void aServiceThatDiesIsStartedAgainByItsLoopAndStopEndsBoth() throws Exception {
        Supervisor supervisor = new Supervisor(home);
        ProcessHandle loop = supervisor.start("probe", List.of("tail", "-f", "/dev/null"), home, Map.of());
        ProcessHandle first = awaitService(supervisor, Optional.empty());

        first.destroyForcibly();
        ProcessHandle second = awaitService(supervisor, Optional.of(first.pid()));
        assertThat(second.pid()).isNotEqualTo(first.pid());
        assertThat(Files.readString(supervisor.logs().resolve("supervisor.log")))
                .contains("probe exited (status 137); restarting in 1 s");

        assertThat(supervisor.restart("probe", Duration.ofSeconds(5))).isTrue();
        assertThat(second.isAlive()).isFalse();
        awaitService(supervisor, Optional.of(second.pid()));

        assertThat(supervisor.stop("probe", Duration.ofSeconds(10))).isTrue();
        assertThat(loop.isAlive()).isFalse();
        assertThat(supervisor.find("probe")).isEmpty();
        assertThat(supervisor.restart("probe", Duration.ofSeconds(1))).as("nothing left to signal").isFalse();
    }

    /** The supervised process, once one runs whose pid is not {@code notPid}. */
    private static ProcessHandle awaitService(Supervisor supervisor, Optional<Long> notPid) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> service = supervisor.find("probe").flatMap(Supervisor.Running::service)
                    .filter(h -> notPid.map(p -> p != h.pid()).orElse(true));
            if (service.isPresent()) {
                return service.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no service process within 20 s; log:\n"
                + Files.readString(supervisor.logs().resolve("supervisor.log")));
    }
}
