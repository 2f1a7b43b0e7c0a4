package io.labelscope.cli;

/**
 * The exit statuses of every {@code labelscope} command, so scripts can tell "fix your file" from "start the
 * platform". Documented in cli/README.md; keep the two in step.
 */
final class ExitCode {

    /** Everything asked for was done. */
    static final int OK = 0;
    /** The command failed: an unknown task, a file that cannot be read as a whole, a service error. */
    static final int ERROR = 1;
    /** The command line itself is wrong (picocli's code for bad options; also a missing input file). */
    static final int USAGE = 2;
    /** The Kafka broker or the schema registry did not answer; nothing was sent. */
    static final int UNREACHABLE = 3;
    /** {@code produce}: some lines were rejected (listed by line number); every other line was sent. */
    static final int LINES_REJECTED = 4;

    private ExitCode() {
    }
}
