package org.dealbridge.dealprojector.crm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.dealbridge.bitrix.BatchCommand;
import org.dealbridge.bitrix.BatchResult;
import org.dealbridge.bitrix.BitrixException;
import org.dealbridge.schemas.DealCommand;
import org.dealbridge.schemas.DealCommandKind;

/**
 * The deal look-ups of a round, shared between commands: the deals of up to 50 UPDATEs are read by one
 * {@code crm.deal.list} filtered by {@code @ID}, and the deals of up to 50 CREATEs of one originator by one
 * {@code crm.deal.list} filtered by ORIGINATOR_ID and {@code @ORIGIN_ID} (reference §3.5, §12): a look-up costs a
 * fiftieth of a sub-command instead of one. The look-up before an add stays mandatory (an add whose answer was lost
 * must be found, never repeated); it is only shared.
 *
 * <p>A list answers one page of 50 rows ({@code start = -1}, reference §3.2). Ids are unique, but an order may have
 * several deals (duplicates made before DealBridge, or by hand), so a full page of an origin look-up may have cut off
 * an order's deal: such an order, and an UPDATE whose deal the list did not return (deleted, or not readable), are
 * <em>confirmed</em> one by one in a second read of the same round ({@code crm.deal.list} by its one origin,
 * {@code crm.deal.get} of the one deal, as before the look-ups were shared). Both are rare, so they cost nothing in the
 * steady state.
 */
final class DealLookups {
    /** Rows in one page of a list (reference §3.1): the most a shared look-up may ask for. */
    static final int PAGE = 50;
    private static final List<String> DEAL_SELECT = List.of("ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "OPPORTUNITY",
            "IS_MANUAL_OPPORTUNITY", "CURRENCY_ID", "ASSIGNED_BY_ID", "DATE_MODIFY", "MODIFY_BY_ID", "MOVED_BY_ID", "MOVED_TIME",
            "ORIGIN_ID");
    private static final Pattern FIELD = Pattern.compile("[A-Z][A-Z0-9_]*");

    private enum Kind { BY_ID, BY_ORIGIN, ONE_BY_ID, ONE_BY_ORIGIN }

    /** One look-up sub-command and the rounds it answers. */
    private record Lookup(Kind kind, BatchCommand command, List<CommandRound> rounds) {
    }

    /** One read batch: its rounds, their own reads ({@link DealReads}) and the look-ups they share. */
    static final class Batch {
        final List<CommandRound> rounds;
        private final List<Lookup> lookups;
        /** False for a confirming batch: its rounds' own reads were answered by the first. */
        private final boolean ownReads;
        /** Other reads that travel with these ({@link ContactLookups}), answered through the batch's result. */
        private final List<BatchCommand> others = new ArrayList<>();

        private Batch(List<CommandRound> rounds, List<Lookup> lookups, boolean ownReads) {
            this.rounds = rounds;
            this.lookups = lookups;
            this.ownReads = ownReads;
        }

        List<BatchCommand> commands() {
            List<BatchCommand> commands = new ArrayList<>();
            lookups.forEach(l -> commands.add(l.command));
            if (ownReads) {
                rounds.forEach(r -> commands.addAll(r.reads));
            }
            commands.addAll(others);
            return commands;
        }

        /**
         * Gives every round what its look-up found; a round whose look-up failed is handed to {@code fail}. Returns the
         * rounds whose look-up was not conclusive, to {@link DealLookups#confirming confirm}.
         */
        List<CommandRound> answer(BatchResult result, BiConsumer<CommandRound, RoundFailure> fail) {
            List<CommandRound> unsure = new ArrayList<>();
            for (Lookup lookup : lookups) {
                String key = lookup.command.key();
                if (lookup.kind == Kind.ONE_BY_ID && result.error(key).orElse(null) instanceof BitrixException.NotFound gone) {
                    lookup.rounds.get(0).deletedBecause = gone.description();
                    continue;
                }
                if (result.error(key).isPresent()) {
                    lookup.rounds.forEach(r -> fail.accept(r, RoundFailure.of(result.error(key).get())));
                    continue;
                }
                if (!result.succeeded(key)) {
                    lookup.rounds.forEach(r -> fail.accept(r, new RoundFailure(true, "NOT_EXECUTED", key + " did not run")));
                    continue;
                }
                JsonNode answer = result.result(key);
                switch (lookup.kind) {
                    case ONE_BY_ID -> lookup.rounds.get(0).deal = answer;
                    case ONE_BY_ORIGIN -> lookup.rounds.get(0).dealsOfOrigin = rows(answer);
                    case BY_ID -> unsure.addAll(byId(lookup.rounds, rows(answer)));
                    case BY_ORIGIN -> unsure.addAll(byOrigin(lookup.rounds, rows(answer)));
                }
            }
            return unsure;
        }
    }

    private DealLookups() {
    }

    /**
     * The reads of these rounds packed into as few batches of at most {@code batchSize} sub-commands as fit: each
     * round's own reads plus its share of the look-ups; then the {@code others} (groups that must stay in one batch)
     * where there is room, in batches of their own where there is not.
     */
    static List<Batch> pack(List<CommandRound> rounds, List<List<BatchCommand>> others, int batchSize) {
        List<Batch> batches = pack(rounds, batchSize);
        for (List<BatchCommand> group : others) {
            Batch last = batches.isEmpty() ? null : batches.get(batches.size() - 1);
            if (last == null || last.commands().size() + group.size() > batchSize) {
                last = new Batch(List.of(), List.of(), false);
                batches.add(last);
            }
            last.others.addAll(group);
        }
        return batches;
    }

    private static List<Batch> pack(List<CommandRound> rounds, int batchSize) {
        List<Batch> batches = new ArrayList<>();
        List<CommandRound> current = new ArrayList<>();
        for (CommandRound round : rounds) {
            current.add(round);
            if (current.size() > 1 && cost(current) > batchSize) {
                current.remove(current.size() - 1);
                batches.add(shared(current));
                current = new ArrayList<>(List.of(round));
            }
        }
        if (!current.isEmpty()) {
            batches.add(shared(current));
        }
        return batches;
    }

    /** The second read of the rounds a shared look-up left unsure: one look-up each, as many per batch as fit. */
    static List<Batch> confirming(List<CommandRound> unsure, int batchSize) {
        List<Batch> batches = new ArrayList<>();
        for (int from = 0; from < unsure.size(); from += batchSize) {
            List<Lookup> lookups = new ArrayList<>();
            List<CommandRound> rounds = unsure.subList(from, Math.min(unsure.size(), from + batchSize));
            for (CommandRound round : rounds) {
                DealCommand c = round.command;
                lookups.add(c.getKind() == DealCommandKind.CREATE
                        ? new Lookup(Kind.ONE_BY_ORIGIN, byOrigin(round.key("find"), c.getOriginatorId(),
                        Long.toString(c.getOrderId()), List.of(round)), List.of(round))
                        : new Lookup(Kind.ONE_BY_ID, BatchCommand.of(round.key("get"), "crm.deal.get", Map.of("id", c.getDealId())),
                        List.of(round)));
            }
            batches.add(new Batch(List.copyOf(rounds), lookups, false));
        }
        return batches;
    }

    private static int cost(List<CommandRound> rounds) {
        int own = 0;
        int updates = 0;
        Map<String, Integer> creates = new LinkedHashMap<>();
        for (CommandRound r : rounds) {
            own += r.reads.size();
            if (r.command.getKind() == DealCommandKind.CREATE) {
                creates.merge(r.command.getOriginatorId(), 1, Integer::sum);
            } else {
                updates++;
            }
        }
        int lookups = pages(updates);
        for (int n : creates.values()) {
            lookups += pages(n);
        }
        return own + lookups;
    }

    private static int pages(int n) {
        return (n + PAGE - 1) / PAGE;
    }

    private static Batch shared(List<CommandRound> rounds) {
        List<Lookup> lookups = new ArrayList<>();
        List<CommandRound> updates = rounds.stream().filter(r -> r.command.getKind() != DealCommandKind.CREATE).toList();
        Map<String, List<CommandRound>> creates = new LinkedHashMap<>();
        rounds.stream().filter(r -> r.command.getKind() == DealCommandKind.CREATE)
                .forEach(r -> creates.computeIfAbsent(r.command.getOriginatorId(), o -> new ArrayList<>()).add(r));
        for (List<CommandRound> page : pagesOf(updates)) {
            List<Long> ids = page.stream().map(r -> r.command.getDealId()).distinct().toList();
            lookups.add(new Lookup(Kind.BY_ID, BatchCommand.of("dealsById" + lookups.size(), "crm.deal.list", Map.of(
                    "filter", Map.of("@ID", ids), "select", select(page), "start", -1)), page));
        }
        for (Map.Entry<String, List<CommandRound>> originator : creates.entrySet()) {
            for (List<CommandRound> page : pagesOf(originator.getValue())) {
                List<String> origins = page.stream().map(r -> Long.toString(r.command.getOrderId())).distinct().toList();
                lookups.add(new Lookup(Kind.BY_ORIGIN, byOrigin("dealsByOrigin" + lookups.size(), originator.getKey(), origins,
                        page), page));
            }
        }
        return new Batch(List.copyOf(rounds), lookups, true);
    }

    /** {@code crm.deal.list} by origin, oldest first (reference §12's upsert look-up; {@code @ORIGIN_ID} for several). */
    private static BatchCommand byOrigin(String key, String originator, Object origins, List<CommandRound> rounds) {
        String originFilter = origins instanceof List ? "@ORIGIN_ID" : "ORIGIN_ID";
        return BatchCommand.of(key, "crm.deal.list", Map.of(
                "filter", Map.of("ORIGINATOR_ID", originator, originFilter, origins),
                "select", select(rounds), "order", Map.of("ID", "ASC"), "start", -1));
    }

    /** Only the fields the decision reads: the deal's state, its origin, and the order's fields (custom ones by name). */
    private static List<String> select(List<CommandRound> rounds) {
        Set<String> fields = new LinkedHashSet<>(DEAL_SELECT);
        for (CommandRound r : rounds) {
            r.command.getOrderValues().keySet().stream().filter(f -> FIELD.matcher(f).matches()).forEach(fields::add);
            r.command.getFields().keySet().stream().filter(f -> f.startsWith("UF_") && FIELD.matcher(f).matches())
                    .forEach(fields::add);
        }
        return List.copyOf(fields);
    }

    private static List<List<CommandRound>> pagesOf(List<CommandRound> rounds) {
        List<List<CommandRound>> pages = new ArrayList<>();
        for (int from = 0; from < rounds.size(); from += PAGE) {
            pages.add(rounds.subList(from, Math.min(rounds.size(), from + PAGE)));
        }
        return pages;
    }

    /** Deals by id; a deal the list did not return is confirmed with {@code crm.deal.get} (deleted, or not readable). */
    private static List<CommandRound> byId(List<CommandRound> rounds, List<JsonNode> rows) {
        Map<Long, JsonNode> byId = new LinkedHashMap<>();
        rows.forEach(row -> byId.put(DealReads.longValue(row, "ID"), row));
        List<CommandRound> unsure = new ArrayList<>();
        for (CommandRound r : rounds) {
            JsonNode deal = byId.get(r.command.getDealId());
            if (deal == null) {
                unsure.add(r);
            } else {
                r.deal = deal;
            }
        }
        return unsure;
    }

    /**
     * Deals by origin, oldest first; an order without a deal in a full page may have been cut off by the page and is
     * confirmed by a look-up of its own.
     */
    private static List<CommandRound> byOrigin(List<CommandRound> rounds, List<JsonNode> rows) {
        Map<String, List<JsonNode>> byOrigin = new LinkedHashMap<>();
        rows.forEach(row -> byOrigin.computeIfAbsent(DealReads.text(row, "ORIGIN_ID"), o -> new ArrayList<>()).add(row));
        boolean fullPage = rows.size() >= PAGE;
        List<CommandRound> unsure = new ArrayList<>();
        for (CommandRound r : rounds) {
            List<JsonNode> found = byOrigin.getOrDefault(Long.toString(r.command.getOrderId()), List.of());
            if (found.isEmpty() && fullPage) {
                unsure.add(r);
            } else {
                r.dealsOfOrigin = found;
            }
        }
        return unsure;
    }

    private static List<JsonNode> rows(JsonNode answer) {
        List<JsonNode> rows = new ArrayList<>();
        if (answer != null && answer.isArray()) {
            answer.forEach(rows::add);
        }
        return rows;
    }
}
