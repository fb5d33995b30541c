package org.dealbridge.mapping;

import java.util.ArrayList;
import java.util.List;

/** A line diff of two document texts (longest common subsequence), for showing what a publish changes. */
public final class DocumentDiff {

    private DocumentDiff() {
    }

    /**
     * Lines prefixed {@code "- "} (only in the old text), {@code "+ "} (only in the new one) or {@code "  "}
     * (in both); empty when the texts have the same lines.
     */
    public static List<String> lines(String oldText, String newText) {
        String[] a = oldText.isEmpty() ? new String[0] : oldText.split("\n", -1);
        String[] b = newText.isEmpty() ? new String[0] : newText.split("\n", -1);
        int[][] common = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                common[i][j] = a[i].equals(b[j]) ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        boolean changed = false;
        int i = 0;
        int j = 0;
        while (i < a.length || j < b.length) {
            if (i < a.length && j < b.length && a[i].equals(b[j])) {
                out.add("  " + a[i++]);
                j++;
            } else if (i < a.length && (j == b.length || common[i + 1][j] >= common[i][j + 1])) {
                out.add("- " + a[i++]);  // removals first, as diff tools show a changed line
                changed = true;
            } else {
                out.add("+ " + b[j++]);
                changed = true;
            }
        }
        return changed ? out : List.of();
    }
}
