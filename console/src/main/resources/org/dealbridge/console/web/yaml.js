"use strict";
// The mapping form's model (lists of [key, value] rows where the document has maps, so that a key chosen twice
// reaches the validation as the duplicate it is instead of vanishing) → the YAML document `bin/dealbridge mapping publish` takes (MAPPING.md). Written here, not
// by a library, because the document has a fixed shape: block style for sections, flow style for pairs as in the
// examples, a text value quoted only where YAML could read it as something else (a stage such as "C2:NEW", a
// status such as "ON" or "12"), the comment block that opened the document in force kept on top, and a missing
// required value left out so that the validation names it. Written like the admins' own files, a form's document
// differs from theirs only where the form changed something, and so does the diff shown before publishing.
window.MappingYaml = (() => {
  const PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;
  const YAML_WORDS = /^(yes|no|true|false|on|off|null|~)$/i;  // YAML 1.1 booleans and null (y and n are text to the parser)
  const q = (s) => { s = String(s); return PLAIN.test(s) && !YAML_WORDS.test(s) ? s : JSON.stringify(s); };
  const id = (v) => (v === null || v === undefined || v === "") ? null : (/^-?[0-9]+$/.test(String(v)) ? String(Number(v)) : q(v));

  function toYaml(doc) {
    const out = [];
    const line = (indent, text) => out.push("  ".repeat(indent) + text);
    (doc.header || []).forEach((comment) => out.push(comment));
    line(0, "site: " + q(doc.site));
    line(0, "pipelines:");
    if (id(doc.pipelines.default) !== null) line(1, "default: " + id(doc.pipelines.default));
    if (doc.pipelines.bySection.length === 0) {
      line(1, "bySection: []");
    } else {
      line(1, "bySection:");
      doc.pipelines.bySection.forEach((r) => line(2, "- { section: " + (id(r.section) ?? "null") + ", pipeline: " + (id(r.pipeline) ?? "null") + " }"));
    }
    const pipelines = Object.keys(doc.stages);
    if (pipelines.length === 0) {
      line(0, "stages: {}");
    } else {
      line(0, "stages:");
      pipelines.forEach((p) => {
        const pairs = doc.stages[p];
        if (pairs.length === 0) { line(1, q(p) + ": []"); return; }
        line(1, q(p) + ":");
        pairs.forEach((pair) => line(2, "- { stage: " + (pair.stage ? q(pair.stage) : "null") + ", status: " + (pair.status ? q(pair.status) : "null") + " }"));
      });
    }
    line(0, "responsible:");
    if (id(doc.responsible.default) !== null) line(1, "default: " + id(doc.responsible.default));
    const by = doc.responsible.byPipeline;
    line(1, "byPipeline: {" + by.map(([p, u]) => " " + q(p) + ": " + (id(u) ?? "null")).join(",") + (by.length ? " }" : "}"));
    line(1, "contactOwner: " + (doc.responsible.contactOwner ? "true" : "false"));
    const fields = doc.dealFields;
    if (fields.length === 0) {
      line(0, "dealFields: {}");
    } else {
      line(0, "dealFields:");
      fields.forEach(([k, v]) => line(1, k + ": " + (v ? q(v) : "null")));
    }
    line(0, "payment:");
    if (id(doc.payment.default) !== null) line(1, "default: " + id(doc.payment.default));
    if (doc.deal.title) { line(0, "deal:"); line(1, "title: " + q(doc.deal.title)); }
    if (doc.dealToOrder.pipelines.length) {
      line(0, "dealToOrder:");
      line(1, "pipelines: [" + doc.dealToOrder.pipelines.map(id).join(", ") + "]");
    }
    const cancelled = doc.cancelled;
    if (cancelled.length) {
      line(0, "cancelled:");
      cancelled.forEach(([p, s]) => line(1, q(p) + ": " + (s ? q(s) : "null")));
    }
    if (doc.deals.onDeleted) { line(0, "deals:"); line(1, "onDeleted: " + doc.deals.onDeleted); }
    return out.join("\n") + "\n";
  }

  return {toYaml};
})();
