#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The driver loaded at boot (init runs modprobe), logged its version, and
# unloads and loads again cleanly.
set -e
dmesg | grep -q 'wasm: WebAssembly runtime [0-9]*\.[0-9]*\.[0-9]* loaded' ||
	{ echo "no init line in dmesg"; exit 1; }
grep -q '^wasm ' /proc/modules || { echo "wasm is not in /proc/modules"; exit 1; }
rmmod wasm
! grep -q '^wasm ' /proc/modules || { echo "wasm still loaded after rmmod"; exit 1; }
dmesg | grep -q 'wasm: WebAssembly runtime unloaded' || { echo "no exit line"; exit 1; }
modprobe wasm
grep -q '^wasm ' /proc/modules || { echo "wasm did not load again"; exit 1; }
