;; SPDX-License-Identifier: GPL-2.0
;;
;; A packet filter for a netfilter hook: drops ICMP echo requests (ping) and
;; counts the packets it saw and the ones it dropped.
;;
;;   h=$(wasmctl attach -f icmp-filter.wat --netfilter ipv4:local_in --handler filter)
;;   ping -c1 127.0.0.1            # no answer
;;   wasmctl invoke $h dropped     # 1
;;   wasmctl detach $h
(module
  (import "kernel" "event_read" (func $event_read (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $seen (mut i32) (i32.const 0))
  (global $dropped (mut i32) (i32.const 0))

  ;; The handler: the packet's length; returns 0 to drop it, 1 to accept it.
  (func (export "filter") (param $len i32) (result i32)
    (local $header i32)
    (global.set $seen (i32.add (global.get $seen) (i32.const 1)))
    ;; The IP header and what follows, at address 0.
    (drop (call $event_read (i32.const 0) (i32.const 0) (i32.const 64)))
    ;; IPv4 (version 4), protocol 1 (ICMP)?
    (if (i32.ne (i32.shr_u (i32.load8_u (i32.const 0)) (i32.const 4)) (i32.const 4))
      (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.const 9)) (i32.const 1))
      (then (return (i32.const 1))))
    ;; The ICMP type, after the header's IHL * 4 bytes: 8 is an echo request.
    (local.set $header
      (i32.shl (i32.and (i32.load8_u (i32.const 0)) (i32.const 15)) (i32.const 2)))
    (if (i32.ne (i32.load8_u (local.get $header)) (i32.const 8))
      (then (return (i32.const 1))))
    (global.set $dropped (i32.add (global.get $dropped) (i32.const 1)))
    (i32.const 0))

  (func (export "seen") (result i32) (global.get $seen))
  (func (export "dropped") (result i32) (global.get $dropped)))
