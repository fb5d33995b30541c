package org.dealbridge.dealevents;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.Locale;
import java.util.Set;
import java.util.function.LongConsumer;
import org.dealbridge.bitrix.events.EventHook;
import org.dealbridge.bitrix.events.EventHook.Answer;
import org.dealbridge.bitrix.events.OutboundEvent;
import org.dealbridge.ingestion.RefreshQueue;

/**
 * {@code POST /hooks/bitrix24}: the CRM's outbound events {@code ONCRMDEALADD}, {@code ONCRMDEALUPDATE} and
 * {@code ONCRMDEALDELETE}. The call is checked by {@link EventHook} (405, 413, 400, 401, in that order); the event names
 * only the deal, so an authentic one queues the id for a read and is answered at once: 200 "ignored" for other events;
 * 400 deal id missing or not a positive integer; 200 queued (503 while not running: the poller covers it).
 */
public final class CrmHookHandler implements HttpHandler {

    public static final String PATH = "/hooks/bitrix24";
    static final Set<String> UPSERTS = Set.of("ONCRMDEALADD", "ONCRMDEALUPDATE");
    static final String DELETE = "ONCRMDEALDELETE";

    private final EventHook hook;
    private final RefreshQueue queue;
    private final LongConsumer deletions;

    /** @param deletions publishes a deal's deletion and returns once it is in Kafka */
    public CrmHookHandler(DealEventsConfig config, RefreshQueue queue, LongConsumer deletions) {
        String token = config.applicationToken().value();
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException(DealEventsConfig.APPLICATION_TOKEN + " must be set: without it every CRM event would be refused");
        }
        this.queue = queue;
        this.deletions = deletions;
        this.hook = new EventHook("CRM hook", token, config.maxBodyBytes(), this::receive, reason -> { });
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        hook.handle(exchange);
    }

    private Answer receive(OutboundEvent event) {
        String name = event.name();
        if (!UPSERTS.contains(name) && !DELETE.equals(name)) {
            return Answer.ok("ignored: event " + name + " is not handled");
        }
        long dealId = event.id("deal");
        try {
            if (DELETE.equals(name)) {
                deletions.accept(dealId);
                return Answer.ok("deal " + dealId + " deletion published");
            }
            return Answer.ok("deal " + dealId + " " + queue.submit(dealId).name().toLowerCase(Locale.ROOT));
        } catch (IllegalStateException closed) {
            return new Answer(503, "not running; deal " + dealId + " is left to the poller");
        }
    }
}
