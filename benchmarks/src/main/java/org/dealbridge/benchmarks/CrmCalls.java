package org.dealbridge.benchmarks;

import java.util.List;
import org.dealbridge.emulator.BitrixEmulator;
import org.dealbridge.emulator.Call;
import org.dealbridge.emulator.Portal;

/** What the CRM emulator served, counted the way the API budget is spent: HTTP calls and the sub-commands in batches. */
record CrmCalls(long httpCalls, long batchCalls, long subCommands, long dealAdds, long dealUpdates, long http503) {

    static CrmCalls of(BitrixEmulator crm) {
        List<Call> calls = crm.calls().all().stream().filter(call -> call.portal() == Portal.CRM).toList();
        long http = calls.stream().filter(call -> !call.inBatch()).count();
        long batches = calls.stream().filter(call -> !call.inBatch() && call.method().equals("batch")).count();
        long sub = calls.stream().filter(Call::inBatch).count();
        long adds = calls.stream().filter(call -> call.method().equals("crm.deal.add") && call.succeeded()).count();
        long updates = calls.stream().filter(call -> call.method().equals("crm.deal.update") && call.succeeded()).count();
        long refused = calls.stream().filter(call -> !call.inBatch() && call.httpStatus() == 503).count();
        return new CrmCalls(http, batches, sub, adds, updates, refused);
    }

    long dealWrites() {
        return dealAdds + dealUpdates;
    }

    /** Sub-commands per batch call over the most a batch may hold (50). */
    double meanBatchFill() {
        return batchCalls == 0 ? 0 : subCommands / (double) batchCalls / 50.0;
    }

    /** Every call the budget paid for: top-level calls outside batches count once, batched ones as sub-commands. */
    long commands() {
        return subCommands + (httpCalls - batchCalls);
    }
}
