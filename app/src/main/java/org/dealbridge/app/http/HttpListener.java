package org.dealbridge.app.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One listening socket with its own bounded pool of handler threads: the admin listener ({@code /health},
 * {@code /metrics}) and the webhooks' listener ({@code http.hooks.port}) each get one, so clients of one cannot take the
 * threads of the other. A request that does not arrive whole within {@value #REQUEST_SECONDS} s is cut off
 * ({@code sun.net.httpserver.maxReqTime}, set before the JDK's server reads it), so slow clients cannot hold threads.
 */
public class HttpListener implements AutoCloseable {
    static final int REQUEST_SECONDS = 30;

    static {
        // JVM-wide and read once, when the JDK's HTTP server is first used: the launcher's listeners come first
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", Integer.toString(REQUEST_SECONDS));
        }
    }

    private final HttpServer server;
    private final ThreadPoolExecutor executor;

    /**
     * @param threads handler threads; requests beyond them wait in a queue of {@code 4 × threads}, and beyond that are
     *                answered by the caller thread (the JDK's dispatcher), which slows accepting rather than dropping
     */
    protected HttpListener(String name, String bindAddress, int port, int threads, String portKey) {
        try {
            server = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the " + name + " listener to " + bindAddress + ":" + port
                    + " (set " + portKey + " to a free port, or 0 for any)", e);
        }
        executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(threads * 4), r -> {
            Thread t = new Thread(r, "dealbridge-" + name);
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        server.setExecutor(executor);
    }

    /** Adds an endpoint, e.g. a hook. */
    public void route(String path, HttpHandler handler) {
        server.createContext(path, handler);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
