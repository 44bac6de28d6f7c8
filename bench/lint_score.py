#!/usr/bin/env python3
"""bench/lint_score.py - precision and recall of a linter on the labelled
lint corpus (tests/lint-corpus), for scripts/bench figure 6.

    lint_score.py CORPUS TOOL REPORT.json [EXCLUDED_RULE...]

TOOL is "cairn" (the JSON of `cairn --format json lint FILE...`: findings
with code and severity; notices, the style rules, do not count) or
"squawk" (the JSON of `squawk --reporter json FILE...`: a list of
violations with rule_name).  Rules named after the report are ignored
(for Squawk: its style and timeout-setting rules).  A file counts as
flagged when at least one remaining finding names it.  Files under
CORPUS/dangerous should be flagged, files under CORPUS/safe not.

Prints one line of key=value pairs: dangerous, flagged_dangerous, safe,
flagged_safe, right_rule (cairn only: dangerous files flagged with every
rule their "-- expect:" header names), precision and recall (in %).
"""
import json
import os
import sys


def corpus_files(corpus):
    files = {}
    for kind in ("dangerous", "safe"):
        d = os.path.join(corpus, kind)
        for name in sorted(os.listdir(d)):
            if not name.endswith(".sql"):
                continue
            with open(os.path.join(d, name), encoding="utf-8") as f:
                first = f.readline().strip()
            expect = first[len("-- expect: "):].split()
            files[(kind, name)] = expect
    return files


def key_of(path):
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) >= 2:
        return (parts[-2], parts[-1])
    return ("", parts[-1])


def findings(tool, report, excluded):
    with open(report, encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    if tool == "cairn":
        for x in data.get("findings", []):
            if x.get("severity") == "notice":
                continue
            code = x["code"]
            rule = code[5:] if code.startswith("lint/") else code
            if rule in excluded:
                continue
            out.setdefault(key_of(x["file"]), set()).add(rule)
    else:
        for x in data:
            rule = x.get("rule_name", "")
            if rule in excluded:
                continue
            out.setdefault(key_of(x["file"]), set()).add(rule)
    return out


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    corpus, tool, report = sys.argv[1:4]
    excluded = set(sys.argv[4:])
    files = corpus_files(corpus)
    got = findings(tool, report, excluded)
    dangerous = [k for k in files if k[0] == "dangerous"]
    safe = [k for k in files if k[0] == "safe"]
    fd = sum(1 for k in dangerous if got.get(k))
    fs = sum(1 for k in safe if got.get(k))
    right = sum(1 for k in dangerous
                if got.get(k) and all(r in got[k] for r in files[k]))
    precision = 100.0 * fd / (fd + fs) if fd + fs else 0.0
    recall = 100.0 * fd / len(dangerous) if dangerous else 0.0
    print("dangerous=%d flagged_dangerous=%d safe=%d flagged_safe=%d "
          "right_rule=%s precision=%.1f recall=%.1f"
          % (len(dangerous), fd, len(safe), fs,
             right if tool == "cairn" else "-", precision, recall))
    return 0


if __name__ == "__main__":
    sys.exit(main())
