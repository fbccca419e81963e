"""Merge an imported page into an existing model spec (a ruamel tree).

Values the page states are updated; what the page does not state (descriptions,
notes, ``docs*`` records, ``codes``, item formats, rules and behaviours read from
descriptions, keys listed in a parameter's ``curated``) is kept; a curated value the
page now contradicts is reported as a conflict, not overwritten. Every change is a
``Note`` on the importer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..runtime.rule_kinds import KINDS
from ..spec.kinds import codegen_kind
from ..spec.model import RATE_KEYS
from . import rules as docs_rules
from .facts import RULE_HINT, STATED, Importer, _type_of, _unique
from .page import plain
from .yaml_rt import (
    as_data,
    block_node,
    delete_key,
    entry_node,
    give_tail,
    place,
    remove_item,
    same,
    spec_node,
    take_tail,
)


class Merger:
    """Applies an import to a spec tree; collects notes on the importer."""

    def __init__(self, importer: Importer, tree: CommentedMap) -> None:
        self.imp = importer
        self.tree = tree
        sections = importer.page.request + importer.page.response
        self.page_text = {s.anchor: s.full_text() for s in sections}
        self.lines = {s.anchor: s.line for s in sections}

    def change(self, line: int, message: str) -> None:
        self.imp.note("change", line, message)

    def run(self, imported: Mapping[str, Any]) -> None:
        for key in ("id", "name", "slug", "taskType", "status", "creator", "releaseDate",
                    "capabilities", "docs"):  # fmt: skip
            if key in self.imp.placeholders:
                continue  # the page lacks it (a warning says so): no news
            if not same(self.tree.get(key), imported[key]):
                self.change(0, f"{key}: {self.tree.get(key)!r} → {imported[key]!r}")
                self.tree[key] = spec_node(imported[key])
        self.pricing(imported.get("pricing"))
        self.dimensions(imported.get("dimensions"))
        self.params("parameters", imported["parameters"])
        self.params("response", imported["response"])
        self.rules(imported["rules"])
        self.examples(imported["examples"])
        self.curated_quotes()
        self.unread_sentences()
        # A reconciliation the spec already records (its docs* key) is no news.
        recorded = {
            (str(p["path"]), key)
            for p in list(self.tree["parameters"]) + list(self.tree["response"])
            for key in ("docsPath", "docsType", "docsRequired")
            if key in p
        }
        self.imp.notes = [n for n in self.imp.notes if n.about not in recorded]

    def kept_unreadable(self, part: str) -> bool:
        """Whether ``part`` of the page had lines the reader could not take in; then the spec's
        version is kept (a half-read table is not a shorter table) and a conflict is noted."""
        if part not in self.imp.page.unreadable:
            return False
        self.imp.note(
            "conflict", 0, f"{part}: the page has lines the importer could not read (see the "
            "warnings); the spec's entries there are kept, not removed",
        )  # fmt: skip
        return True

    def pricing(self, new: Mapping[str, Any] | None) -> None:
        cur = self.tree.get("pricing")
        if self.kept_unreadable("pricing"):
            return
        if new is None or cur is None:
            if new is not None:
                self.tree["pricing"] = spec_node(new)
            return
        if "quote" in new and cur.get("quote") != new["quote"]:
            self.change(0, f"pricing quote: {cur.get('quote')!r} → {new['quote']!r}")
            place(cur, "quote", new["quote"])
        self.rows(cur, "rates", new["rates"], RATE_KEYS, "price")
        surcharges = new.get("surcharges")
        if as_data(cur.get("surcharges")) != surcharges:
            self.change(0, f"pricing surcharges: {surcharges or 'none'}")
            if surcharges:
                place(cur, "surcharges", spec_node(surcharges))
            else:
                delete_key(cur, "surcharges")

    def dimensions(self, new: Mapping[str, Any] | None) -> None:
        cur = self.tree.get("dimensions")
        if self.kept_unreadable("dimensions"):
            return
        if new is None:
            if cur is not None:
                self.change(0, "dimension table removed")
                del self.tree["dimensions"]
            return
        if cur is None:
            self.change(0, "dimension table added")
            self.tree.insert(
                list(self.tree.keys()).index("parameters"), "dimensions", spec_node(new)
            )
            return
        preset = new.get("resolutionParameter")
        if cur.get("resolutionParameter") != preset:
            self.change(0, f"dimensions resolutionParameter: {preset or 'none'}")
            if preset:
                place(cur, "resolutionParameter", preset)
            else:
                delete_key(cur, "resolutionParameter")
        self.rows(cur, "rows", new["rows"], ("width", "height"), "dimension row")

    def rows(
        self,
        table: CommentedMap,
        key: str,
        new: list[dict[str, Any]],
        by: tuple[str, ...],
        name: str,
    ) -> None:
        """Merge a table's rows (prices, dimensions), matched by the ``by`` columns."""

        def label(row: Mapping[str, Any]) -> str:
            return " ".join(f"{k}={row[k]}" for k in by if row.get(k) not in (None, []))

        old = {label(r): r for r in table[key]}
        rows = CommentedSeq()
        for row in new:
            existing = old.pop(label(row), None)
            if existing is None:
                self.change(0, f"{name} added: {label(row)}")
                rows.append(spec_node(row))
                continue
            for k, v in row.items():
                if not same(existing.get(k), v):
                    self.change(0, f"{name} {label(row)} {k}: {existing.get(k)} → {v}")
                    existing[k] = v
            rows.append(existing)
        for gone in old:
            self.change(0, f"{name} removed: {gone}")
        if [id(r) for r in rows] != [id(r) for r in table[key]]:
            rows.fa.set_block_style()
            table[key] = rows

    def params(self, key: str, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree[key]
        by_anchor = {p["anchor"]: p for p in seq if "anchor" in p}
        by_path = {p["path"]: p for p in seq}
        kept: set[int] = set()
        last = -1
        for param in new:
            cur = by_anchor.get(param.get("anchor", "")) if "anchor" in param else None
            line = self.lines.get(param.get("anchor", ""), 0)
            if cur is None and (param.get("derived") or "anchor" not in param):
                cur = by_path.get(param["path"])
            elif cur is None and by_path.get(param["path"], {}).get("derived"):
                cur = by_path[param["path"]]  # a container the spec made up, headed now
                delete_key(cur, "derived")
                cur["description"] = param["description"]
                self.change(line, f"{key} {param['path']} is headed on the page now")
                note = f"{param['path']}: headed now; write its description"
                self.imp.note("warning", line, note)
            if cur is None:
                last += 1
                entry = entry_node(param)  # block style, like the entries around it
                before = seq[last - 1] if last else None
                # In the same group as the entry before, it goes above the next group's heading.
                tail = (
                    take_tail(before)
                    if before and before.get("group") == param.get("group")
                    else None
                )
                seq.insert(last, entry)
                give_tail(entry, tail)
                kept.add(id(entry))
                self.change(line, f"{key} {param['path']} added")
                if not param.get("derived"):
                    self.imp.note("warning", line, f"{param['path']}: new; write its description")
                continue
            last = max(last, next(i for i, p in enumerate(seq) if p is cur))
            kept.add(id(cur))
            if not param.get("derived"):
                self.param(cur, param, line)
        gone = [p for p in seq if id(p) not in kept]
        if gone and self.kept_unreadable(key):
            return
        for cur in gone:
            self.change(0, f"{key} {cur['path']} removed")
            remove_item(seq, cur)
        if not seq:  # ruamel writes a heading comment over an empty list as broken YAML
            seq.ca.comment = None
            self.tree.ca.items.pop(key, None)

    def param(self, cur: CommentedMap, new: Mapping[str, Any], line: int) -> None:
        name = cur["path"]
        literal = self.imp.literal.get(new["anchor"], {})
        if "unreadable" in literal:  # what the page says cannot be told from what it lost
            self.imp.note(
                "conflict", line, f"{name}: its {literal['unreadable']} is not understood; kept"
            )
            return
        curated = set(cur.get("curated", ()))
        # Keys the page states through a docs* record of the reconciled value.
        self._docs_record(cur, "path", "docsPath", literal.get("path", new["path"]), line)
        recorded = cur.get("docsType")
        if recorded is not None and _type_of(str(recorded))[0] != as_data(cur["type"]):
            # The spec reconciled the page's type (frame: "object" holding strings and numbers).
            self._docs_record(cur, "type", "docsType", literal.get("type"), line)
        else:
            if not same(cur["type"], new["type"]):
                self.change(line, f"{name} type: {as_data(cur['type'])} → {as_data(new['type'])}")
                cur["type"] = spec_node(new["type"])
            if "docsType" in new:
                place(cur, "docsType", new["docsType"])
            elif recorded is not None:
                delete_key(cur, "docsType")
        if "items" in new:
            items = cur.get("items")
            if items is None:
                place(cur, "items", spec_node(new["items"]))
                self.change(line, f"{name} items: {new['items']['type']}")
            elif items.get("type") != new["items"]["type"]:
                self.change(
                    line, f"{name} items type: {items.get('type')} → {new['items']['type']}"
                )
                items["type"] = new["items"]["type"]
        elif "items" in cur:
            self.change(line, f"{name} items removed")
            delete_key(cur, "items")
        self._docs_record(cur, "required", "docsRequired", literal.get("required", False), line)
        if cur.get("docsRequired") and new.get("required"):
            self.imp.note(
                "conflict",
                line,
                f"{name}: no either-or rule makes it conditional any more, and the page says "
                "it is required; the spec keeps it optional (review it)",
            )
        for key in ("group", "anchor"):
            if key in new and cur.get(key) != new[key]:
                self.change(line, f"{name} {key}: {cur.get(key)} → {new[key]}")
                place(cur, key, new[key])
        for key in STATED:
            if key in curated:
                if key in new and not same(cur.get(key), new[key]):
                    self.imp.note(
                        "conflict",
                        line,
                        f"{name}: the page now says {key} {new[key]!r}; the spec's curated "
                        f"{key} is {cur.get(key)!r} (kept; review it)",
                    )
                continue
            if key in new and not same(cur.get(key), new[key]):
                self.change(line, f"{name} {key}: {cur.get(key)!r} → {new[key]!r}")
                place(cur, key, new[key])
            elif key not in new and key in cur:
                self.change(line, f"{name} {key} {cur[key]!r} removed")
                delete_key(cur, key)
        self._enum(cur, new.get("enum"), line)
        if cur.get("docsDigest") != new["docsDigest"]:
            if "docsDigest" in cur:
                self.change(line, f"{name} description changed on the page (review ours)")
            place(cur, "docsDigest", new["docsDigest"])

    def _docs_record(
        self, cur: CommentedMap, key: str, docs_key: str, page: Any, line: int
    ) -> None:
        """Keys whose page value the spec may reconcile: ``docs_key`` keeps the page's word."""
        name = cur["path"]
        value = cur.get(key, False if key == "required" else None)
        if docs_key in cur:
            if same(cur[docs_key], page):
                return
            if same(value, page):
                self.imp.note(
                    "conflict",
                    line,
                    f"{name}: the page now agrees with the spec's {key} ({page!r}); "
                    f"{docs_key} dropped (review the note that explained it)",
                )
                delete_key(cur, docs_key)
                return
            self.imp.note(
                "conflict",
                line,
                f"{name}: the page now says {key} {page!r} (was {cur[docs_key]!r}); the spec "
                f"keeps {value!r} (review it)",
            )
            cur[docs_key] = page
            return
        if key == "type" or same(value, page):
            return
        self.change(line, f"{name} {key}: {value!r} → {page!r}")
        if key == "required" and not page:
            delete_key(cur, "required")
        else:
            place(cur, key, page)

    def _enum(self, cur: CommentedMap, values: list[dict[str, Any]] | None, line: int) -> None:
        name = cur["path"]
        if values is None:
            if "enum" in cur:
                self.change(line, f"{name} allowed values removed")
                delete_key(cur, "enum")
            return
        old = {str(e["value"]): e for e in cur.get("enum", [])}
        new_keys = [str(v["value"]) for v in values]
        if list(old) == new_keys:
            return
        for value in new_keys:
            if value not in old:
                self.change(line, f"{name} allowed value added: {value}")
        for value in old:
            if value not in new_keys:
                self.change(line, f"{name} allowed value removed: {value}")
        seq = CommentedSeq(
            old[str(v["value"])] if str(v["value"]) in old else spec_node(v) for v in values
        )
        place(cur, "enum", seq)

    def rules(self, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree["rules"]
        page_rules = [r for r in seq if r["source"].get("section") == docs_rules.SECTION]
        by_quote = {r["source"]["quote"]: r for r in page_rules}
        ids = {r["id"] for r in seq}
        matched: set[int] = set()
        last = -1
        from_fields = {
            (r["source"].get("anchor"), r["source"]["quote"]): r
            for r in seq
            if "anchor" in r["source"]
        }
        for rule in new:
            if "anchor" in rule["source"]:
                if (rule["source"]["anchor"], rule["source"]["quote"]) not in from_fields:
                    rule = dict(rule, id=_unique(rule["id"], ids))
                    seq.append(spec_node(rule))
                    self.change(
                        0, f"rule {rule['id']} ({rule['kind']}) added: {rule['source']['quote']}"
                    )
                continue
            cur = by_quote.get(rule["source"]["quote"])
            kind = codegen_kind(rule["kind"])
            if cur is None and kind.table is not None:  # the model's one rule of the kind
                cur = next((r for r in page_rules if r["kind"] == kind.name), None)
            if cur is None and kind.upper_bound is not None:
                unmatched = [r for r in page_rules if id(r) not in matched]
                cur = self._relimit(unmatched, rule, kind.upper_bound.key)
            if cur is not None:
                matched.add(id(cur))
                last = max(last, next(i for i, r in enumerate(seq) if r is cur))
                if cur["source"]["quote"] != rule["source"]["quote"]:
                    cur["source"]["quote"] = rule["source"]["quote"]
                continue
            rule = dict(rule, id=_unique(rule["id"], ids))
            last += 1
            seq.insert(last, spec_node(rule))
            self.change(0, f"rule {rule['id']} ({rule['kind']}) added: {rule['source']['quote']}")
        for cur in page_rules:
            if id(cur) not in matched:
                self.change(0, f"rule {cur['id']} removed: its sentence is no longer on the page")
                remove_item(seq, cur)

    def _relimit(self, candidates: list[CommentedMap], rule: Mapping[str, Any], bound: str) -> Any:
        """The spec's rule saying what ``rule`` says but for the ``bound`` (an upper bound, such
        as an item limit), the bound set to the page's (the rule keeps its id and notes);
        None if there is none."""
        keys = ["kind", *(k for k in KINDS[rule["kind"]].keys if k != bound)]
        cur = next((r for r in candidates if all(same(r.get(k), rule[k]) for k in keys)), None)
        if cur is None:
            return None
        self.change(0, f"rule {cur['id']} {bound}: {cur[bound]} → {rule[bound]}")
        stated = docs_rules.rule_from_sentence(cur["source"]["quote"], self.imp.phrasings)
        if stated is not None and cur.get("message") == stated["message"]:
            cur["message"] = rule["message"]
        else:
            self.imp.note("conflict", 0, f"rule {cur['id']}: review its message for the new limit")
        cur[bound] = rule[bound]
        return cur

    def examples(self, new: list[dict[str, Any]]) -> None:
        seq: CommentedSeq = self.tree["examples"]
        old = {e["name"]: e for e in seq}
        out = CommentedSeq()
        readable = {e["name"]: e for e in new}
        for name in self.imp.example_names:
            cur = old.pop(name, None)
            if name not in readable:
                if cur is not None:
                    self.imp.note("conflict", 0, f"example {name}: unreadable on the page; kept")
                    out.append(cur)
                continue
            example = readable[name]
            if cur is None:
                self.change(0, f"example {example['name']} added")
                out.append(block_node(example))
                continue
            for key, value in example.items():
                if not same(cur.get(key), value):
                    self.change(0, f"example {example['name']} {key} changed")
                    cur[key] = block_node(value)
            out.append(cur)
        for name in old:
            self.change(0, f"example {name} removed")
        if old or [e["name"] for e in out] != [e["name"] for e in seq]:
            self.tree["examples"] = out

    def curated_quotes(self) -> None:
        """Rules and behaviours read from a description must still be on the page there."""
        entries = [(r["id"], r["source"]) for r in self.tree["rules"] if "anchor" in r["source"]]
        entries += [(b["id"], b) for b in self.tree.get("behaviours", [])]
        for name, source in entries:
            anchor, quote = source["anchor"], plain(source["quote"])
            text = self.page_text.get(anchor)
            if text is None:
                self.imp.note("conflict", 0, f"{name}: its section #{anchor} is gone from the page")
            elif quote not in text:
                self.imp.note(
                    "conflict",
                    self.lines.get(anchor, 0),
                    f"{name}: its sentence {source['quote']!r} is no longer in #{anchor}",
                )

    def unread_sentences(self) -> None:
        """Description sentences that read like a constraint but that the spec does not quote."""
        quotes = [plain(r["source"]["quote"]) for r in self.tree["rules"]]
        quotes += [plain(b["quote"]) for b in self.tree.get("behaviours", [])]
        for p in list(self.tree["parameters"]) + list(self.tree["response"]):
            quotes += [plain(str(n)) for n in p.get("notes", [])]
        for section in self.imp.page.request + self.imp.page.response:
            for text in section.prose + [v for v, _ in section.allowed]:
                for sentence in re.split(r"(?<=[.!?])\s+", plain(text.text)):
                    if RULE_HINT.search(sentence) and not any(
                        sentence.strip(" .") in q or (q and q.strip(" .") in sentence)
                        for q in quotes
                    ):
                        self.imp.note(
                            "warning",
                            text.line,
                            f"{section.name}: sentence may state a rule the spec does not "
                            f"capture: {sentence!r}",
                        )
