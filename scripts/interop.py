#!/usr/bin/env python3
"""Check a kgshard npy export with NumPy itself.

usage: python3 scripts/interop.py DIR [EXPECTED_JSON]

DIR holds what `exportEmbeddings(DIR, {format: 'npy', ...})` wrote
(<dataset>_<model>_entity.npy, <dataset>_<model>_relation.npy, entities.tsv,
relations.tsv). EXPECTED_JSON (default DIR/expected.json) holds
{"dataset", "model", "entities": [names], "relations": [names],
 "entity": [[row], ...], "relation": [[row], ...]}.

Loads the tables with numpy.load (allow_pickle=False) and the id maps, and
compares dtype, shape, every value (bit for bit, as float32) and every name.
Prints OK and exits 0, or prints each mismatch and exits 1. Exits 2 if NumPy
is not installed.
"""
import json
import os
import sys

try:
    import numpy as np
except ImportError:
    print("interop: NumPy is not installed for %s (pip install numpy, or apt-get install python3-numpy)" % sys.executable)
    sys.exit(2)


def read_ids(path):
    names = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for i, line in enumerate(f.read().split("\n")):
            if line == "":
                continue
            idx, _, name = line.partition("\t")
            if idx != str(len(names)):
                raise ValueError("%s:%d: expected index %d, found %r" % (path, i + 1, len(names), idx))
            names.append(name)
    return names


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip())
        return 1
    d = argv[1]
    expected_path = argv[2] if len(argv) > 2 else os.path.join(d, "expected.json")
    with open(expected_path, encoding="utf-8") as f:
        want = json.load(f)
    problems = []
    stem = "%s_%s" % (want["dataset"], want["model"])
    for side, ids in (("entity", "entities"), ("relation", "relations")):
        path = os.path.join(d, "%s_%s.npy" % (stem, side))
        try:
            got = np.load(path, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - report any load failure
            problems.append("%s: numpy.load failed: %s" % (path, e))
            continue
        exp = np.array(want[side], dtype=np.float32)
        if got.dtype != np.dtype("<f4"):
            problems.append("%s: dtype %s, expected <f4" % (path, got.dtype))
        if got.shape != exp.shape:
            problems.append("%s: shape %s, expected %s" % (path, got.shape, exp.shape))
        elif not np.array_equal(got.view(np.uint32), exp.view(np.uint32)):
            bad = np.argwhere(got.view(np.uint32) != exp.view(np.uint32))
            r, c = bad[0]
            problems.append("%s: %d values differ, first at [%d, %d]: %r vs %r" % (path, len(bad), r, c, got[r, c], exp[r, c]))
        if not got.flags["C_CONTIGUOUS"]:
            problems.append("%s: not C order" % path)
        ids_path = os.path.join(d, "%s.tsv" % ids)
        try:
            names = read_ids(ids_path)
        except Exception as e:  # noqa: BLE001
            problems.append("%s: %s" % (ids_path, e))
            continue
        if names != want[ids]:
            problems.append("%s: names differ from the expected %d names" % (ids_path, len(want[ids])))
        if got.ndim == 2 and len(names) != got.shape[0]:
            problems.append("%s: %d names for %d rows" % (ids_path, len(names), got.shape[0]))
    if problems:
        for p in problems:
            print("MISMATCH " + p)
        return 1
    print("OK numpy %s read %s: %d entities x %d, %d relations x %d" % (
        np.__version__, stem, len(want["entities"]), len(want["entity"][0]) if want["entity"] else 0,
        len(want["relations"]), len(want["relation"][0]) if want["relation"] else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
