package io.labelscope.platform.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;

/** What tests need to run real services as child processes without ever leaving one behind. */
public final class ChildProcesses {

    private ChildProcesses() {
    }

    /**
     * The command wrapped in {@code sh -c}, beside a loop that kills it once this JVM is gone — even a JVM killed
     * with -9, which runs no shutdown hook. The shell execs nothing, so killing its descendants ends both.
     */
    public static List<String> watchedByThisJvm(List<String> command) {
        StringBuilder quoted = new StringBuilder();
        for (String part : command) {
            quoted.append('\'').append(part.replace("'", "'\\''")).append("' ");
        }
        long parent = ProcessHandle.current().pid();
        String script = quoted + "& child=$!; "
                + "(while kill -0 " + parent + " 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; "
                + "kill -9 $child 2>/dev/null) & wait $child";
        return List.of("sh", "-c", script);
    }

    /** A TCP port on the loopback address that nothing listens on right now. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
