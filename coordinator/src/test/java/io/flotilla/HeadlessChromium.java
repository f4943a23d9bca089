package io.flotilla;

import io.flotilla.testing.Requirements;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A headless Chromium driven through Debian's {@code chromedriver}, for tests of the dashboard page
 * in a real browser.
 *
 * <p>Nothing is downloaded: both binaries are named explicitly ({@code /usr/bin/chromium}, {@code
 * /usr/bin/chromedriver}, from the Debian packages {@code chromium} and {@code chromium-driver}),
 * which keeps Selenium Manager from running. Where either is missing, {@link #start()} skips the
 * test, or fails it under {@code CI=true} ({@link Requirements}).
 *
 * <p>Closing it quits the browser and stops the driver, so no Chromium outlives the test. Not
 * thread-safe: one test thread drives it.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  /** Where {@link #screenshot} saves, relative to the module (surefire's working directory). */
  static final Path SCREENSHOTS = Path.of("target", "screenshots");

  /**
   * Selenium's own loggers, held so that their level sticks (JUL keeps loggers weakly): its
   * warnings, such as that its DevTools bindings do not exactly match the browser's version, are
   * noise in a test's output.
   */
  private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

  private final ChromeDriverService service;
  private final ChromeDriver driver;

  private HeadlessChromium(ChromeDriverService service, ChromeDriver driver) {
    this.service = service;
    this.driver = driver;
  }

  /**
   * Starts a headless browser with a 1400×1000 window.
   *
   * @throws org.opentest4j.TestAbortedException if chromium or chromedriver is missing (see {@link
   *     Requirements})
   */
  static HeadlessChromium start() {
    Requirements.require(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "chromium and chromium-driver",
        "apt-get install chromium chromium-driver");
    SELENIUM_LOG.setLevel(Level.SEVERE);

    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .withLogFile(logFile())
            .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check");
    // The page's console, for the failure message of a test that waited in vain.
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriver driver;
    try {
      driver = new ChromeDriver(service, options);
    } catch (RuntimeException e) {
      service.stop();
      throw e;
    }
    driver.manage().timeouts().pageLoadTimeout(TestTime.scaled(Duration.ofSeconds(30)));
    driver.manage().timeouts().scriptTimeout(TestTime.scaled(Duration.ofSeconds(10)));
    return new HeadlessChromium(service, driver);
  }

  private static File logFile() {
    try {
      Files.createDirectories(SCREENSHOTS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return SCREENSHOTS.resolve("chromedriver.log").toFile();
  }

  WebDriver driver() {
    return driver;
  }

  /**
   * Saves what the window shows as {@code target/screenshots/<name>.png}.
   *
   * @return the file
   */
  Path screenshot(String name) {
    try {
      Files.createDirectories(SCREENSHOTS);
      Path to = SCREENSHOTS.resolve(name + ".png");
      Files.move(
          driver.getScreenshotAs(OutputType.FILE).toPath(),
          to,
          StandardCopyOption.REPLACE_EXISTING);
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * @return what the page logged to its console since the last call, one entry a line
   */
  String console() {
    List<LogEntry> entries = driver.manage().logs().get(LogType.BROWSER).getAll();
    return entries.stream()
        .map(e -> e.getLevel() + " " + e.getMessage())
        .collect(Collectors.joining("\n"));
  }

  /** Quits the browser and stops the driver; never throws. */
  @Override
  public void close() {
    try {
      driver.quit();
    } catch (RuntimeException e) {
      System.err.println("quitting chromium: " + e);
    } finally {
      service.stop();
    }
  }
}
