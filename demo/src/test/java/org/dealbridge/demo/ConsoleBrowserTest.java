package org.dealbridge.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.EmulatorOptions;
import org.dealbridge.mapping.DocumentCheck;
import org.dealbridge.mapping.MappingError;
import org.dealbridge.mapping.MappingPublisher;
import org.dealbridge.mapping.MappingTopicReader;
import org.dealbridge.mapping.MappingTopics;
import org.dealbridge.mapping.MappingValidator;
import org.dealbridge.schemas.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, installed by
 * {@code .ci/run}) against the whole runtime, an embedded broker and the emulated shop of the demo: sign in, move a
 * catalog section to another pipeline through the form and publish, see a new order's deal land in that pipeline and
 * read the order's story, see why an order has no deal, be refused a broken entry by name, retire a dead letter.
 * Every step saves a screenshot under {@code target/console-screenshots/} (the README's pictures come from there).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String TOKEN = UUID.randomUUID().toString().replace("-", "");

    @TempDir
    static Path dir;
    static BitrixEmulator emu;
    static DealBridgeRuntime runtime;
    static WebDriver browser;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Optional<Path> chromium = onPath("chromium");
        Optional<Path> driver = onPath("chromedriver");
        Assumptions.assumeTrue(chromium.isPresent() && driver.isPresent(),
                "browser tests skipped: Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver; .ci/run does)");
        Files.createDirectories(SCREENSHOTS);

        emu = BitrixEmulator.start(EmulatorOptions.defaults().port(0));
        DemoShop.seed(emu);
        String crmToken = UUID.randomUUID().toString();
        String storeToken = UUID.randomUUID().toString();
        Map<String, Object> values = new HashMap<>();
        values.put(DealBridgeConfig.DATA_DIR, dir.resolve("data").toString());
        values.put(DealBridgeConfig.HTTP_PORT, "0");
        values.put(DealBridgeConfig.CRM_WEBHOOK_URL, emu.crmWebhookUrl());
        values.put(DealBridgeConfig.CRM_APPLICATION_TOKEN, crmToken);
        values.put(DealBridgeConfig.STORE_WEBHOOK_URL, emu.storeWebhookUrl());
        values.put(DealBridgeConfig.STORE_APPLICATION_TOKEN, storeToken);
        values.put(DealBridgeConfig.STORE_POLL_INTERVAL, "10s");
        values.put(DealBridgeConfig.CONSOLE_ENABLED, "true");
        values.put(DealBridgeConfig.CONSOLE_TOKEN, TOKEN);
        runtime = DealBridgeRuntime.start(new DealBridgeConfig(values));
        base = "http://127.0.0.1:" + runtime.httpPort();
        emu.subscribeStore(base + "/hooks/store", storeToken, "ONSALEORDERSAVED", "ONSALEBEFOREORDERDELETE");
        emu.subscribeCrm(base + "/hooks/bitrix24", crmToken, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE");
        try (InputStream in = DemoCommand.class.getResourceAsStream("/demo-mapping.yaml")) {
            new MappingPublisher(runtime.clientProperties(), MappingTopics.of(runtime.schemaRegistry()), Clock.systemUTC())
                    .publish(new String(in.readAllBytes(), StandardCharsets.UTF_8), "demo", false, DocumentCheck.NONE);
        }

        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.get().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.get().toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (emu != null) {
            emu.close();
        }
    }

    static Optional<Path> onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(d, command);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static WebDriverWait waiting() {
        return new WebDriverWait(browser, WAIT);
    }

    static WebElement visible(String css) {
        return waiting().until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
    }

    /** The whole page, not only the window: the window is stretched to the page's height first. */
    static void screenshot(String name, int width) throws Exception {
        browser.manage().window().setSize(new Dimension(width, 900));
        long height = (Long) ((JavascriptExecutor) browser).executeScript(
                "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)");
        browser.manage().window().setSize(new Dimension(width, (int) Math.min(height + 120, 6000)));
        Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        browser.manage().window().setSize(new Dimension(1280, 900));
    }

    /** Clicks an element scrolled to the middle of the window, clear of the form's sticky buttons. */
    static void click(WebElement element) {
        ((JavascriptExecutor) browser).executeScript("arguments[0].scrollIntoView({block: 'center'})", element);
        element.click();
    }

    /** Opens a page afresh (a hash change alone would keep the previous page's state). */
    static void go(String hash) {
        browser.get("about:blank");
        browser.get(base + "/console/#" + hash);
    }

    @Test
    @Order(1)
    void signInWithTheToken() throws Exception {
        browser.get(base + "/console/");
        waiting().until(ExpectedConditions.urlContains("/console/sign-in.html"));
        visible("#token").sendKeys("not-the-token");
        browser.findElement(By.id("sign-in")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("sign-in-error"), "not the console.token"));
        browser.findElement(By.id("token")).clear();
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        screenshot("sign-in", 1280);
        browser.findElement(By.id("sign-in")).click();
        waiting().until(ExpectedConditions.urlMatches("/console/(#.*)?$"));
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("health"), "deal-projector"));
        assertThat(browser.findElement(By.id("health")).getText()).contains("crm", "store", "kafka");
        assertThat(browser.manage().getCookieNamed("dealbridge_console").isHttpOnly()).isTrue();
        assertThat(((JavascriptExecutor) browser).executeScript("return document.cookie")).as("scripts never see the session").isEqualTo("");
    }

    @Test
    @Order(2)
    void moveTheBooksSectionToTheElectronicsPipelineThroughTheFormAndPublish() throws Exception {
        go("mapping");
        waiting().until(d -> d.findElements(By.cssSelector("#by-section tbody tr")).size() == 1);
        assertThat(new Select(browser.findElement(By.cssSelector("#by-section tbody tr select.section"))).getFirstSelectedOption().getText())
                .as("the section in force, named from the live catalog").isEqualTo("Catalog / Electronics (12)");
        assertThat(new Select(browser.findElement(By.cssSelector(".stage-box[data-pipeline='2'] tbody tr select.status")))
                .getFirstSelectedOption().getText()).as("statuses by their names in the store").isEqualTo("Accepted (N)");
        click(browser.findElement(By.id("validate")));
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("mapping-result"), "the same as version 1 in force"));
        assertThat(browser.findElement(By.id("yaml-preview")).getAttribute("textContent"))
                .as("the form writes the document in force back as it was, comments and all")
                .isEqualTo(new MappingTopicReader(runtime.clientProperties(), MappingTopics.of(runtime.schemaRegistry())).latest("s1")
                        .orElseThrow().getDocument());
        click(browser.findElement(By.id("add-section")));
        WebElement row = browser.findElements(By.cssSelector("#by-section tbody tr")).get(1);
        new Select(row.findElement(By.cssSelector("select.section"))).selectByVisibleText("Catalog / Books (11)");
        new Select(row.findElement(By.cssSelector("select.pipeline"))).selectByVisibleText("Electronics (2)");
        browser.findElement(By.id("validate")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("mapping-result"),
                "Valid (checked against the live CRM and store). Publishing makes it version 2."));
        assertThat(browser.findElement(By.id("mapping-result")).getText()).contains("+     - { section: 11, pipeline: 2 }")
                .as("only the new line changes").doesNotContain("- site");
        browser.findElement(By.id("publish")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("mapping-result"), "Published version 2"));
        screenshot("mapping", 1280);

        String inForce = new MappingTopicReader(runtime.clientProperties(), MappingTopics.of(runtime.schemaRegistry())).latest("s1")
                .orElseThrow().getDocument();
        assertThat(inForce).contains("- { section: 11, pipeline: 2 }").contains("- { section: 12, pipeline: 2 }");
        assertThat(MappingValidator.validate(inForce)).isEmpty();
        assertThat(browser.findElement(By.id("history")).getText()).contains("in force").contains("Roll back to this");
    }

    @Test
    @Order(3)
    void aNewBookOrdersDealAppearsInTheChosenPipelineAndTheConsoleTellsItsStory() throws Exception {
        long order = emu.store().addOrder(DemoShop.bookOrder("Olga Petrova", "olga@example.ru"));
        Map<String, Object> deal = waitForDeal(order);
        assertThat(String.valueOf(deal.get("CATEGORY_ID"))).as("books now go to pipeline 2").isEqualTo("2");
        assertThat(String.valueOf(deal.get("STAGE_ID"))).isEqualTo("C2:NEW");
        String dealId = String.valueOf(deal.get("ID"));

        go("order");
        visible("#order-key").sendKeys(Long.toString(order));
        browser.findElement(By.id("order-find")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("order-summary"), "Linked deal: " + dealId));
        String story = browser.findElement(By.id("order-entries")).getText();
        assertThat(story).contains("order event").contains("mapping v2").containsPattern("in pipeline 2");
        assertThat(story).contains("outcome ORDER_TO_DEAL CREATED").contains("Deal " + dealId + " created for order s1:" + order);
        screenshot("order", 1280);

        // the same story, found from the deal
        browser.findElement(By.id("order-key")).clear();
        browser.findElement(By.id("order-key")).sendKeys("deal " + dealId);
        browser.findElement(By.id("order-find")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#order-story h2"), "Order s1:" + order));
    }

    @Test
    @Order(4)
    void whyAnOrderHasNoDealIsOnTheOrdersPage() throws Exception {
        long order = emu.store().addOrder(DemoShop.waitingOrder("Ivan Sidorov"));
        go("order/" + order);
        // the order reaches DealBridge by hook; its outcome may follow a moment later: search again until it is there
        waiting().until(d -> {
            d.findElement(By.id("order-find")).click();
            List<WebElement> why = d.findElements(By.id("order-why"));
            return !why.isEmpty() && why.get(0).getText().contains("SKIPPED_UNMAPPED_STATUS");
        });
        assertThat(browser.findElement(By.id("order-summary")).getText()).isEqualTo("No deal is linked; the entries below say why.");
        assertThat(browser.findElement(By.id("order-why")).getText()).contains("Status W");
        screenshot("order-no-deal", 1280);
        screenshot("order-no-deal-phone", 390);
        assertThat(emu.crm().dealsByOrigin(DemoStory.ORIGINATOR, Long.toString(order))).isEmpty();

        // what the page says to do: map W in the charger's pipeline, publish, read the order again
        click(browser.findElement(By.linkText("Mapping")));
        waiting().until(d -> !d.findElements(By.cssSelector("#stage-tables .stage-box[data-pipeline='2'] tbody tr")).isEmpty());
        WebElement table2 = browser.findElement(By.cssSelector("#stage-tables .stage-box[data-pipeline='2']"));
        int pairs = table2.findElements(By.cssSelector("tbody tr")).size();
        click(table2.findElement(By.cssSelector("button.add-pair")));
        WebElement added = table2.findElements(By.cssSelector("tbody tr")).get(pairs);
        new Select(added.findElement(By.cssSelector("select.stage"))).selectByValue("C2:NEW");
        new Select(added.findElement(By.cssSelector("select.status"))).selectByVisibleText("Waiting for the supplier (W)");
        click(browser.findElement(By.id("publish")));
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("mapping-result"), "Published version 3"));
        go("order/" + order);
        click(visible("#order-resync"));
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("order-summary"), "Linked deal:"));
        Map<String, Object> deal = waitForDeal(order);
        assertThat(String.valueOf(deal.get("STAGE_ID"))).isEqualTo("C2:NEW");
        assertThat(browser.findElement(By.id("order-entries")).getText()).contains("mapping v3");
    }

    @Test
    @Order(5)
    void aBrokenEntryIsRefusedByName() throws Exception {
        go("mapping");
        waiting().until(d -> !d.findElements(By.cssSelector("#stage-tables .stage-box[data-pipeline='2'] tbody tr")).isEmpty());
        WebElement table2 = browser.findElement(By.cssSelector("#stage-tables .stage-box[data-pipeline='2']"));
        int pairs = table2.findElements(By.cssSelector("tbody tr")).size();
        click(table2.findElement(By.cssSelector("button.add-pair")));
        WebElement added = table2.findElements(By.cssSelector("tbody tr")).get(pairs);
        new Select(added.findElement(By.cssSelector("select.stage"))).selectByValue("C2:LOSE");
        new Select(added.findElement(By.cssSelector("select.status"))).selectByValue("N");  // N is in the table already
        String yaml = (String) ((JavascriptExecutor) browser).executeScript("return document.getElementById('yaml-preview').textContent");
        browser.findElement(By.id("publish")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("mapping-result"), "Refused"));
        List<String> shown = browser.findElements(By.cssSelector("#mapping-result li")).stream().map(WebElement::getText).toList();
        List<String> cli = MappingValidator.validate(yaml).stream().map(MappingError::toString).toList();
        assertThat(shown).as("the CLI's own error lines").isEqualTo(cli);
        assertThat(shown).anySatisfy(line -> assertThat(line).startsWith("stages.\"2\"[" + pairs + "].status = \"N\""));
        screenshot("mapping-refused", 1280);
        assertThat(new MappingTopicReader(runtime.clientProperties(), MappingTopics.of(runtime.schemaRegistry())).latest("s1")
                .orElseThrow().getVersion()).as("nothing was published").isEqualTo(3);
    }

    @Test
    @Order(6)
    void aDeadLetterIsListedWithItsReasonAndRetiredWithANote() throws Exception {
        Properties p = runtime.clientProperties();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.ORDER_CHANGES, "s1:9999".getBytes(StandardCharsets.UTF_8),
                    "not an Avro record".getBytes(StandardCharsets.UTF_8))).get();
        }
        // the deal projector dead-letters the unreadable record; open the page until the list shows it
        waiting().until(d -> {
            go("dead-letters");
            new WebDriverWait(d, WAIT).until(ExpectedConditions.or(
                    ExpectedConditions.presenceOfElementLocated(By.cssSelector(".dead-letter")),
                    ExpectedConditions.presenceOfElementLocated(By.id("no-dead-letters"))));
            return !d.findElements(By.cssSelector(".dead-letter")).isEmpty();
        });
        WebElement card = browser.findElement(By.cssSelector(".dead-letter"));
        assertThat(card.getText()).contains("s1:9999");
        screenshot("dead-letters", 1280);
        card.findElement(By.cssSelector("button.retire")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("flash"), "note"));
        browser.findElement(By.cssSelector(".dead-letter input.note")).sendKeys("a test record, nothing to send");
        browser.findElement(By.cssSelector(".dead-letter button.retire")).click();
        visible("#no-dead-letters");

        go("overview");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("outcomes"), "CREATED"));
        assertThat(browser.findElement(By.id("dead-letter-count")).getText()).isEqualTo("0 dead letters");
        assertThat(browser.findElement(By.id("rate-budget")).getText()).contains("crm:").contains("store:");
        assertThat(browser.findElement(By.id("lag")).getText()).contains("order-changes");
        assertThat(browser.findElements(By.cssSelector("#outcomes-chart svg rect"))).isNotEmpty();
        screenshot("overview", 1280);
        screenshot("overview-phone", 390);
    }

    private static Map<String, Object> waitForDeal(long order) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<Map<String, Object>> deals = emu.crm().dealsByOrigin(DemoStory.ORIGINATOR, Long.toString(order));
            if (!deals.isEmpty()) {
                return deals.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no deal for order " + order + " within " + WAIT);
    }
}
