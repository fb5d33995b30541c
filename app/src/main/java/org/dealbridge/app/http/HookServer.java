package org.dealbridge.app.http;

/**
 * The Bitrix webhooks' own listener ({@code http.hooks.port}): the one port to open to the internet, with nothing but
 * {@code /hooks/*} on it and its own handler threads, so a flood of (or slow) webhook requests cannot starve
 * {@code /health} and {@code /metrics} on the admin listener.
 */
public final class HookServer extends HttpListener {
    public HookServer(String bindAddress, int port) {
        super("hooks", bindAddress, port, 8, "http.hooks.port");
    }
}
