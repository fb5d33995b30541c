package org.dealbridge.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One benchmark's figures, in the order they were measured: printed as a table and written as JSON. */
public final class BenchResult {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String name;
    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    public BenchResult(String name) {
        this.name = name;
        figures.put("benchmark", name);
        figures.put("date", Instant.now().toString());
        figures.put("cores", Runtime.getRuntime().availableProcessors());
        figures.put("maxHeapMb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
    }

    public String name() {
        return name;
    }

    public BenchResult put(String key, Object value) {
        figures.put(key, value instanceof Double d && Double.isFinite(d) ? Math.round(d * 1000) / 1000.0 : value);  // NaN: not measured
        return this;
    }

    /** A figure with a line saying what it means, printed beside it. */
    public BenchResult put(String key, Object value, String meaning) {
        notes.put(key, meaning);
        return put(key, value);
    }

    public Map<String, Object> figures() {
        return figures;
    }

    public void print(PrintStream out) {
        int width = figures.keySet().stream().mapToInt(String::length).max().orElse(10);
        out.println("== bench " + name + " ==");
        figures.forEach((key, value) -> {
            String note = notes.get(key);
            out.println(String.format(Locale.ROOT, "%-" + width + "s  %-14s%s", key, value, note == null ? "" : "  " + note));
        });
    }

    /** Writes {@code <dir>/<name>.json} and returns its path. */
    public Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(name + ".json");
            JSON.writeValue(file.toFile(), figures);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the result of bench " + name + " under " + dir.toAbsolutePath(), e);
        }
    }
}
