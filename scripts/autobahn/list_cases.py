"""List the case ids a fuzzingclient spec selects (Python 2.7, wstest venv).

    .venv-autobahn/wstest/bin/python list_cases.py SPEC.json OUT.json

Uses Autobahn|Testsuite's own pattern matching (CaseSet.parseSpecCases, the
same code the fuzzingclient runs), so summarize.py can tell whether every
selected case made it into index.json. Writes a JSON list of case ids.
"""
from __future__ import print_function

import json
import sys

from autobahntestsuite.fuzzing import (CaseSet, Cases, CaseBasename,
                                       CaseSetname, CaseCategories,
                                       CaseSubCategories)


def main(spec_path, out_path):
    with open(spec_path) as f:
        spec = json.load(f)
    cs = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
    ids = cs.parseSpecCases(spec)
    unknown = [c for c in ids if c not in cs.CasesIndices]
    if unknown:
        print("list_cases: unknown case ids in spec: %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    if not ids:
        print("list_cases: spec selects no cases: %r" % (spec.get("cases"),), file=sys.stderr)
        return 2
    with open(out_path, "w") as f:
        json.dump(ids, f)
    print("%d cases selected" % len(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
