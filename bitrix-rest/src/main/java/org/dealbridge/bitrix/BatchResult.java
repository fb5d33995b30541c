package org.dealbridge.bitrix;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The outcome of one {@code batch} request (reference §4.3): per command key either a result or an error. A batch
 * answers HTTP 200 even when commands fail, so callers must look at every key. With {@code halt}, commands after the
 * first failure did not run and appear in {@link #notExecuted()}.
 */
public final class BatchResult {
    private final List<BatchCommand> commands;
    private final Map<String, JsonNode> results;
    private final Map<String, BitrixException> errors;
    private final Map<String, Long> totals;
    private final Map<String, Long> nexts;

    BatchResult(List<BatchCommand> commands, Map<String, JsonNode> results, Map<String, BitrixException> errors,
                Map<String, Long> totals, Map<String, Long> nexts) {
        this.commands = List.copyOf(commands);
        this.results = Collections.unmodifiableMap(new LinkedHashMap<>(results));
        this.errors = Collections.unmodifiableMap(new LinkedHashMap<>(errors));
        this.totals = Collections.unmodifiableMap(new LinkedHashMap<>(totals));
        this.nexts = Collections.unmodifiableMap(new LinkedHashMap<>(nexts));
    }

    /** True when the command ran and succeeded. */
    public boolean succeeded(String key) {
        return results.containsKey(key);
    }

    /** The result of a command; throws its error if it failed, or {@link IllegalStateException} if it did not run. */
    public JsonNode result(String key) {
        JsonNode r = results.get(key);
        if (r != null) {
            return r;
        }
        BitrixException e = errors.get(key);
        if (e != null) {
            throw e;
        }
        throw new IllegalStateException("batch command '" + key + "' did not run (halted batch or unknown key); commands: "
                + commands.stream().map(BatchCommand::key).toList());
    }

    public Optional<BitrixException> error(String key) {
        return Optional.ofNullable(errors.get(key));
    }

    public Map<String, JsonNode> results() {
        return results;
    }

    public Map<String, BitrixException> errors() {
        return errors;
    }

    public OptionalLong total(String key) {
        Long t = totals.get(key);
        return t == null ? OptionalLong.empty() : OptionalLong.of(t);
    }

    public OptionalLong next(String key) {
        Long n = nexts.get(key);
        return n == null ? OptionalLong.empty() : OptionalLong.of(n);
    }

    /** Keys of commands that neither succeeded nor failed (they did not run: halted). */
    public List<String> notExecuted() {
        return commands.stream().map(BatchCommand::key).filter(k -> !results.containsKey(k) && !errors.containsKey(k)).toList();
    }

    public boolean allSucceeded() {
        return errors.isEmpty() && notExecuted().isEmpty();
    }

    /**
     * The answers of the commands sent with {@link BatchCommand#withKeyPrefix prefix}, under their own keys: what one
     * group of commands sharing this batch with others would have been answered on its own.
     */
    public BatchResult part(String prefix) {
        List<BatchCommand> own = commands.stream().filter(c -> c.key().startsWith(prefix))
                .map(c -> BatchCommand.of(c.key().substring(prefix.length()), c.method(), c.params())).toList();
        return new BatchResult(own, unprefixed(results, prefix), unprefixed(errors, prefix), unprefixed(totals, prefix),
                unprefixed(nexts, prefix));
    }

    private static <V> Map<String, V> unprefixed(Map<String, V> byKey, String prefix) {
        Map<String, V> own = new LinkedHashMap<>();
        byKey.forEach((key, value) -> {
            if (key.startsWith(prefix)) {
                own.put(key.substring(prefix.length()), value);
            }
        });
        return own;
    }

    @Override
    public String toString() {
        return "BatchResult{ok=" + results.keySet() + ", failed=" + errors.keySet() + ", notExecuted=" + notExecuted() + "}";
    }
}
