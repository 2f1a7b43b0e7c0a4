package io.labelscope.aggregator.dashboard;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) driven through WebDriver. Paths
 * are given explicitly, so Selenium Manager never downloads anything. Missing browser = a failure that says how
 * to install it, never a skipped test.
 */
final class HeadlessChromium implements AutoCloseable {

    static final String CHROMIUM = System.getProperty("labelscope.chromium", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getProperty("labelscope.chromedriver", "/usr/bin/chromedriver");

    private final Path profile;
    private final ChromeDriverService service;
    final ChromeDriver driver;

    HeadlessChromium(int width, int height) throws IOException {
        for (String exe : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(Path.of(exe))) {
                throw new AssertionError(exe + " is missing: the dashboard test needs real headless Chromium. "
                        + "Install it with `apt-get install -y chromium chromium-driver` (Debian), or run "
                        + ".ci/install-system-packages; other paths: -Dlabelscope.chromium=… -Dlabelscope.chromedriver=…");
            }
        }
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
        profile = Files.createTempDirectory("labelscope-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
        service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    Optional<WebElement> byTestId(String id) {
        List<WebElement> found = driver.findElements(By.cssSelector("[data-testid='" + id + "']"));
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /** Read in one script call, so a redraw between finding and reading an element cannot make it stale. */
    String text(String testId) {
        return (String) js("const e = document.querySelector(\"[data-testid='\" + arguments[0] + \"']\");"
                + " return e ? e.innerText.trim() : null", testId);
    }

    /** The raw number the page shows in an element (its {@code data-value}), or null. */
    Double value(String testId) {
        String v = (String) js("const e = document.querySelector(\"[data-testid='\" + arguments[0] + \"']\");"
                + " return e ? e.getAttribute('data-value') : null", testId);
        return v == null || v.isEmpty() ? null : Double.valueOf(v);
    }

    /** Polls until {@code condition} holds; on time-out fails with {@code what} and the page's last state. */
    void await(String what, Duration timeout, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        AssertionError last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Boolean.TRUE.equals(condition.get())) {
                    return;
                }
                last = null;
            } catch (AssertionError | RuntimeException e) {
                last = e instanceof AssertionError a ? a : new AssertionError(e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        AssertionError failure = new AssertionError("dashboard: " + what + " not seen within " + timeout.toSeconds()
                + " s; live pill says: " + text("last-updated"));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    /** Screenshot of the whole page (the window grows to the page's height first). */
    void screenshot(Path target) throws IOException {
        Number height = (Number) js("return Math.ceil(document.documentElement.scrollHeight)");
        Dimension size = driver.manage().window().getSize();
        driver.manage().window().setSize(new Dimension(size.getWidth(), Math.min(6000, height.intValue() + 40)));
        js("window.scrollTo(0, 0)");
        js("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
        Files.createDirectories(target.getParent());
        Files.write(target, driver.getScreenshotAs(OutputType.BYTES));
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            service.stop();
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
