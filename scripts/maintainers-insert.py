#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Insert the sections of MAINTAINERS.fragment (separated by blank lines) into
MAINTAINERS (stdin -> stdout), keeping the file's alphabetical order of
section titles, or replace a section that is already there. A section with
no F: line is left out (and removed if it is there)."""
import sys

sections = [s.split("\n") for s in
            open(sys.argv[1]).read().strip("\n").split("\n\n") if s.strip()]
lines = sys.stdin.read().split("\n")


# Sections start after the "THE REST" preamble ... in practice every section
# is a title line followed by a line like "M:\t", "L:\t", "S:\t"...
def is_title(i):
    return (i + 1 < len(lines) and lines[i] and not lines[i][0].isspace()
            and len(lines[i + 1]) > 2 and lines[i + 1][1] == ":"
            and (i == 0 or lines[i - 1] == ""))


def titles():
    return [i for i in range(len(lines)) if is_title(i)]


for fragment in sections:
    title = fragment[0]
    # Drop an existing copy of the section.
    for i in titles():
        if lines[i] == title:
            end = i
            while end < len(lines) and lines[end] != "":
                end += 1
            del lines[i:end + 1]
            break
    if not any(line.startswith("F:") for line in fragment):
        continue
    # MAINTAINERS is sorted by title except for a few stray sections, so
    # insert into the first gap between two titles starting with our letter
    # (or, failing that, any two titles) that sort around ours, ignoring case.
    body = [i for i in titles() if lines[i] != "THE REST"]
    key = title.upper()
    gaps = [(p, n) for p, n in zip(body, body[1:])
            if lines[p].upper() < key < lines[n].upper()]
    same = [g for g in gaps if lines[g[0]][0].upper() == key[0]]
    if not (same or gaps):
        sys.exit("MAINTAINERS: no place for " + title)
    at = (same or gaps)[0][0]
    while at < len(lines) and lines[at] != "":
        at += 1
    lines[at + 1:at + 1] = fragment + [""]
sys.stdout.write("\n".join(lines))
