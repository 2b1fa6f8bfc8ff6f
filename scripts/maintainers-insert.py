#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Insert MAINTAINERS.fragment into MAINTAINERS (stdin -> stdout), keeping
the file's alphabetical order of section titles, or replace the section if
it is already there."""
import sys

fragment = open(sys.argv[1]).read().strip("\n").split("\n")
title = fragment[0]
lines = sys.stdin.read().split("\n")

# Sections start after the "THE REST" preamble ... in practice every section
# is a title line followed by a line like "M:\t", "L:\t", "S:\t"...
def is_title(i):
    return (i + 1 < len(lines) and lines[i] and not lines[i][0].isspace()
            and len(lines[i + 1]) > 2 and lines[i + 1][1] == ":"
            and (i == 0 or lines[i - 1] == ""))

titles = [i for i in range(len(lines)) if is_title(i)]
# Drop an existing copy of our section.
for i in titles:
    if lines[i] == title:
        end = i
        while end < len(lines) and lines[end] != "":
            end += 1
        del lines[i:end + 1]
        titles = [j for j in range(len(lines)) if is_title(j)]
        break
# MAINTAINERS is sorted by title except for a few stray sections, so
# insert into the first gap between two titles starting with our letter
# (or, failing that, any two titles) that sort around ours, ignoring case.
body = [i for i in titles if lines[i] != "THE REST"]
key = title.upper()
gaps = [(p, n) for p, n in zip(body, body[1:])
        if lines[p].upper() < key < lines[n].upper()]
same = [g for g in gaps if lines[g[0]][0].upper() == key[0]]
if not (same or gaps):
    sys.exit("MAINTAINERS: no place for " + title)
prev = (same or gaps)[0][0]
at = prev
while at < len(lines) and lines[at] != "":
    at += 1
lines[at + 1:at + 1] = fragment + [""]
sys.stdout.write("\n".join(lines))
