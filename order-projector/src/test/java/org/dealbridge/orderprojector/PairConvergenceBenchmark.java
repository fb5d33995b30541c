package org.dealbridge.orderprojector;

import org.dealbridge.mapping.PairDecision;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * The convergence property on many more histories than CI runs (the benchmark suite's long run), with a plain seeded
 * generator of the same step vocabulary as {@link PairConvergenceTest}, and the same checker. Prints the
 * figures and the first counterexample, if any.
 *
 * <p>Run: {@code java -cp <test classpath> org.dealbridge.orderprojector.PairConvergenceBenchmark [histories] [seed] [maxSteps]}.
 */
public final class PairConvergenceBenchmark {

    /** What a run found. */
    record Figures(long seed, int histories, int violations, long steps, long humanEdits, long elapsedMillis,
                   Optional<String> firstViolation) {
        String report() {
            return String.format(Locale.ROOT, "seed %d: %d histories (%d steps, %d human edits) in %d ms, %d broke an invariant%s",
                    seed, histories, steps, humanEdits, elapsedMillis, violations,
                    firstViolation.map(v -> "; first: " + v).orElse(""));
        }
    }

    public static void main(String[] args) {
        int histories = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        int maxSteps = args.length > 2 ? Integer.parseInt(args[2]) : 80;
        System.out.println(run(PairDecision.UNDER_MAPPING, histories, seed, maxSteps).report());
    }

    static Figures run(PairDecision rules, int histories, long seed, int maxSteps) {
        Random random = new Random(seed);
        int violations = 0;
        long steps = 0;
        long edits = 0;
        Optional<String> first = Optional.empty();
        long started = System.nanoTime();
        for (int h = 0; h < histories; h++) {
            List<PairConvergenceTest.Step> history = PairConvergenceTest.history(random, maxSteps);
            int length = history.size();
            edits += history.stream().filter(step -> step.kind() == PairConvergenceTest.Kind.EDIT_DEAL
                    || step.kind() == PairConvergenceTest.Kind.EDIT_ORDER).count();
            steps += length;
            Optional<String> violation = PairConvergenceTest.violation(rules, history);
            if (violation.isPresent()) {
                violations++;
                if (first.isEmpty()) {
                    first = Optional.of(violation.get() + " history " + history);
                }
            }
        }
        return new Figures(seed, histories, violations, steps, edits, (System.nanoTime() - started) / 1_000_000, first);
    }
}
