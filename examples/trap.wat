;; SPDX-License-Identifier: GPL-2.0
;;
;; Modules that trap; wasmctl exits with status 4 and says why and where.
;;   wasmctl run -f trap.wat                        (unreachable)
;;   wasmctl run -f trap.wat --invoke div 7 0       (integer divide by zero)
;;   wasmctl run -f trap.wat --invoke load 65536    (out of bounds memory access)
;;   wasmctl run -f trap.wat --invoke recurse       (call stack exhausted)
(module
  (memory 1)

  (func (export "main")
    unreachable)

  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))

  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))

  (func $recurse (export "recurse")
    (call $recurse)))
