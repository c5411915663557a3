#!/usr/bin/env python3
"""Summarize an Autobahn|Testsuite fuzzingclient report (index.json).

    summarize.py REPORT_DIR [--agent NAME] [--expected expected-cases.json]
                 [--wall-seconds N] [--allow-unimplemented]

Prints counts per outcome for `behavior` and `behaviorClose`, a per-section
table, every failing case with a description snippet and the suite's reason,
the case-duration total, and the wall time of the run. Exit status:

    0  every selected case ran and none failed
    1  at least one case failed, or a selected case is missing from the report
    2  the report could not be read

A case fails when
  * behavior is FAILED (or any value the suite does not define as a pass),
  * behaviorClose is FAILED or UNCLEAN (the suite's HTML report shows both red),
  * behavior or behaviorClose is UNIMPLEMENTED, unless --allow-unimplemented
    (UNIMPLEMENTED means e.g. permessage-deflate was not negotiated for a 12.*
    or 13.* case; expected only when the server runs with --no-deflate).
NON-STRICT, INFORMATIONAL, NO CLOSE (behavior) and WRONG CODE, FAILED BY
CLIENT (behaviorClose) are counted and listed per section but do not fail.
"""

import argparse
import html
import json
import os
import re
import sys
from collections import Counter, defaultdict

MAIN = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
BEHAVIOR_PASS = {"OK", "NON-STRICT", "INFORMATIONAL", "NO CLOSE"}
CLOSE_PASS = {"OK", "INFORMATIONAL", "WRONG CODE", "FAILED BY CLIENT"}


def case_key(case_id):
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def snippet(text, limit):
    """Plain-text, single-line, truncated version of an HTML description."""
    text = re.sub(r"<[^>]+>", " ", text or "")
    text = " ".join(html.unescape(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counts_line(counter):
    parts = ["%s=%d" % (k, counter.get(k, 0)) for k in MAIN]
    parts += ["%s=%d" % (k, v) for k, v in sorted(counter.items()) if k not in MAIN]
    return "  ".join(parts)


def fmt_seconds(s):
    s = int(round(s))
    return "%dm%02ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


def main():
    ap = argparse.ArgumentParser(description="Summarize an Autobahn fuzzingclient report.")
    ap.add_argument("report_dir")
    ap.add_argument("--agent", help="agent name in index.json (default: the only one)")
    ap.add_argument("--expected", help="JSON list of case ids that must all be present")
    ap.add_argument("--wall-seconds", type=float, help="wall time of the fuzzingclient run")
    ap.add_argument("--allow-unimplemented", action="store_true",
                    help="do not count UNIMPLEMENTED as a failure")
    ap.add_argument("--snippet", type=int, default=110, help="description snippet length")
    args = ap.parse_args()

    index_path = os.path.join(args.report_dir, "index.json")
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print("autobahn summary: cannot read %s: %s" % (index_path, e))
        return 2

    if args.agent:
        if args.agent not in index:
            print("autobahn summary: agent %r not in %s (agents: %s)"
                  % (args.agent, index_path, ", ".join(sorted(index)) or "none"))
            return 2
        agent = args.agent
    elif len(index) == 1:
        agent = next(iter(index))
    else:
        print("autobahn summary: %d agents in %s; pass --agent" % (len(index), index_path))
        return 2
    cases = index[agent]

    expected = None
    if args.expected:
        with open(args.expected) as f:
            expected = json.load(f)
    missing = sorted(set(expected or []) - set(cases), key=case_key)

    unimpl_fails = not args.allow_unimplemented
    beh, close = Counter(), Counter()
    sections = defaultdict(lambda: {"n": 0, "beh": Counter(), "close": Counter()})
    failing = []
    total_ms = 0
    longest = (0, None)
    for cid in sorted(cases, key=case_key):
        c = cases[cid]
        b, bc = c.get("behavior", "?"), c.get("behaviorClose", "?")
        beh[b] += 1
        close[bc] += 1
        sec = sections[cid.split(".")[0]]
        sec["n"] += 1
        sec["beh"][b] += 1
        sec["close"][bc] += 1
        d = int(c.get("duration") or 0)
        total_ms += d
        if d > longest[0]:
            longest = (d, cid)
        bad = (b not in BEHAVIOR_PASS and (b != "UNIMPLEMENTED" or unimpl_fails)) or \
              (bc not in CLOSE_PASS and (bc != "UNIMPLEMENTED" or unimpl_fails))
        if bad:
            failing.append(cid)

    out = []
    p = out.append
    p("=" * 78)
    p("Autobahn|Testsuite summary — agent %r, %d cases in report%s"
      % (agent, len(cases), "" if expected is None else ", %d selected" % len(expected)))
    p("report: %s" % os.path.join(args.report_dir, "index.html"))
    p("-" * 78)
    p("behavior      : " + counts_line(beh))
    p("behaviorClose : " + counts_line(close))
    p("-" * 78)
    p("%-8s %5s %5s %5s %5s %5s %5s   %s" % ("section", "cases", "OK", "NSTR", "INFO", "UNIMP", "FAIL", "close not OK"))
    for s in sorted(sections, key=int):
        v = sections[s]
        other_b = sum(n for k, n in v["beh"].items() if k not in MAIN)
        cnot = ", ".join("%s=%d" % kv for kv in sorted(v["close"].items()) if kv[0] != "OK")
        p("%-8s %5d %5d %5d %5d %5d %5d   %s" % (
            s + ".*", v["n"], v["beh"]["OK"], v["beh"]["NON-STRICT"], v["beh"]["INFORMATIONAL"],
            v["beh"]["UNIMPLEMENTED"], v["beh"]["FAILED"] + other_b, cnot or "-"))
    p("-" * 78)
    p("case durations: sum %s (%d ms); longest %s at %d ms"
      % (fmt_seconds(total_ms / 1000.0), total_ms, longest[1], longest[0]))
    if args.wall_seconds is not None:
        p("fuzzingclient wall time: %s (%.1f s)" % (fmt_seconds(args.wall_seconds), args.wall_seconds))

    if failing:
        p("-" * 78)
        p("FAILING CASES (%d):" % len(failing))
        for cid in failing:
            c = cases[cid]
            desc, reason = "", ""
            rf = c.get("reportfile")
            if rf:
                try:
                    with open(os.path.join(args.report_dir, rf)) as f:
                        detail = json.load(f)
                    desc = snippet(detail.get("description", ""), args.snippet)
                    reasons = []
                    if c.get("behavior") not in BEHAVIOR_PASS:
                        reasons.append(snippet(detail.get("result", ""), args.snippet))
                    if c.get("behaviorClose") not in CLOSE_PASS:
                        reasons.append("close: " + snippet(detail.get("resultClose", ""), args.snippet))
                    reason = " | ".join(r for r in reasons if r)
                except (OSError, ValueError) as e:
                    desc = "(case report unreadable: %s)" % e
            p("  %-9s behavior=%s close=%s code=%s (%s)" % (
                cid, c.get("behavior"), c.get("behaviorClose"), c.get("remoteCloseCode"), rf or "no report file"))
            if desc:
                p("            %s" % desc)
            if reason:
                p("            -> %s" % reason)

    if missing:
        p("-" * 78)
        shown = ", ".join(missing[:40]) + (" …" if len(missing) > 40 else "")
        p("MISSING FROM REPORT (%d of %d selected): %s" % (len(missing), len(expected), shown))

    p("-" * 78)
    ok = not failing and not missing
    verdict = "PASS" if ok else "FAIL"
    why = []
    if failing:
        why.append("%d failing case(s)" % len(failing))
    if missing:
        why.append("%d missing case(s)" % len(missing))
    p("RESULT: %s%s%s" % (verdict, " — " + ", ".join(why) if why else "",
                          "" if unimpl_fails else " (UNIMPLEMENTED allowed)"))
    p("=" * 78)
    text = "\n".join(out)
    print(text)
    try:
        with open(os.path.join(args.report_dir, "summary.txt"), "w") as f:
            f.write(text + "\n")
    except OSError:
        pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
