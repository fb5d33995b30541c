package org.dealbridge.mapping;

/** Builds the document paths used in errors: {@code pipelines.bySection[0].section}, {@code stages."2"[1].stage}. */
final class DocumentPath {

    private DocumentPath() {
    }

    static String field(String parent, String name) {
        return parent.isEmpty() ? name : parent + "." + name;
    }

    /** A key of a map whose keys are ids (pipelines), quoted as YAML would need them to stay strings. */
    static String key(String parent, String key) {
        return parent + ".\"" + key + "\"";
    }

    static String index(String parent, int index) {
        return parent + "[" + index + "]";
    }
}
