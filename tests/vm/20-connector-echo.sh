#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kernel::connector end to end, through samples/rust/rust_connector_echo:
# a user -> kernel -> user round trip with seq/ack and payloads intact (up
# to the largest message), a lying cn_msg length and garbage datagrams
# dropped without harm, and an unprivileged sender refused with -EPERM.
# init fails the run if the guest's dmesg has an oops or WARN afterwards.
set -e
modprobe rust_connector_echo
dmesg | grep -q 'rust_connector_echo: echoing on connector id {14, 1}'
cn-echo roundtrip --count 64
cn-echo bad-len
cn-echo garbage
cn-echo --uid 65534 expect-eperm
rmmod rust_connector_echo
# With the handler gone nobody answers.
! cn-echo roundtrip --count 1 2>/dev/null
