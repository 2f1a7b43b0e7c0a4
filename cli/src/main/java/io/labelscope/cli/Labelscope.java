package io.labelscope.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code labelscope} command: one tool, consistent flags, {@code --help} everywhere. */
@Command(name = "labelscope",
        mixinStandardHelpOptions = true,
        versionProvider = Labelscope.Version.class,
        description = "Watch how LLMs do multi-label classification, live.",
        subcommands = {DemoCommand.Demo.class, DemoCommand.Up.class, DemoCommand.Down.class, PlatformCommand.class, ProduceCommand.class, TailCommand.class, EvalCommand.class, TopicsCommand.class, BenchCommand.class, TaskCommand.class, ModelCommand.class,
                ServicesCommand.Status.class, ServicesCommand.Restart.class,
                ExportCommand.class, AnnotateCommand.class,
                CommandLine.HelpCommand.class})
public final class Labelscope {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line. Errors end with a non-zero exit and one line naming what is wrong, not a
     * stack trace: users read these in a terminal.
     */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Labelscope());
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(exception));
            return exception instanceof UserError error ? error.exitCode() : 1;
        });
        return commandLine;
    }

    private static String oneLine(Throwable exception) {
        String message = exception.getMessage();
        if (message == null || message.isBlank()) {
            message = exception.getClass().getSimpleName();
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline) + " (details follow)\n"
                + message.substring(newline + 1);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Labelscope.class.getPackage().getImplementationVersion();
            return new String[] {"labelscope " + (version == null ? "0.1.0-SNAPSHOT" : version)};
        }
    }

    /** A failure caused by what the user asked for, with the exit code to report. */
    static final class UserError extends RuntimeException {
        private final int exitCode;

        UserError(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }
}
