package io.labelscope.cli;

import java.io.PrintWriter;

/** A one-line progress bar on the terminal's error stream, redrawn at most ten times a second. */
final class Progress {

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private long lastDraw;

    Progress(PrintWriter err, String what, long total) {
        this.err = err;
        this.what = what;
        this.total = total;
    }

    void update(long done) {
        long now = System.nanoTime();
        if (now - lastDraw < 100_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double share = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(share * WIDTH);
        err.printf("\r%s [%s%s] %d/%d %3.0f%%  %.1f/s", what, "#".repeat(filled), " ".repeat(WIDTH - filled), done,
                total, share * 100, done / seconds);
        err.flush();
    }

    void finish(long done) {
        lastDraw = 0;
        update(done);
        err.println();
        err.flush();
    }
}
