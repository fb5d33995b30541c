package org.dealbridge.app.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.dealbridge.app.config.DealBridgeConfig;
import org.dealbridge.app.runtime.DealBridgeRuntime;
import org.dealbridge.app.runtime.Logging;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run DealBridge until stopped (Ctrl-C). Without kafka.bootstrap-servers an embedded broker keeps its data under data.dir.")
final class RunCommand implements Callable<Integer> {
    @ParentCommand
    DealBridgeCli cli;

    @Override
    public Integer call() throws Exception {
        DealBridgeConfig cfg = cli.config();
        Logging.apply(cfg.getString(DealBridgeConfig.LOG_FORMAT));
        CountDownLatch stopped = new CountDownLatch(1);
        DealBridgeRuntime runtime = DealBridgeRuntime.start(cfg);
        Thread hook = new Thread(() -> {
            runtime.close();
            stopped.countDown();
        }, "dealbridge-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("DealBridge running; health: http://" + cfg.getString(DealBridgeConfig.HTTP_BIND_ADDRESS) + ":"
                + runtime.httpPort() + "/health  (Ctrl-C to stop)");
        stopped.await();
        return 0;
    }
}
