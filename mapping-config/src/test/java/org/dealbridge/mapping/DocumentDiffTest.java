package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DocumentDiffTest {

    @Test
    void sameTextHasNoDiff() {
        assertThat(DocumentDiff.lines("a\nb\n", "a\nb\n")).isEmpty();
    }

    @Test
    void changedLineIsRemovedAndAdded() {
        assertThat(DocumentDiff.lines("a\nb\nc", "a\nx\nc")).containsExactly("  a", "- b", "+ x", "  c");
    }

    @Test
    void insertedAndDeletedLinesKeepTheCommonOnes() {
        assertThat(DocumentDiff.lines("a\nc", "a\nb\nc")).containsExactly("  a", "+ b", "  c");
        assertThat(DocumentDiff.lines("a\nb\nc", "a\nc")).containsExactly("  a", "- b", "  c");
    }

    @Test
    void fromNothingEveryLineIsNew() {
        assertThat(DocumentDiff.lines("", "a\nb")).containsExactly("+ a", "+ b");
    }
}
