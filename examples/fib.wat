;; SPDX-License-Identifier: GPL-2.0
;;
;; Fibonacci numbers with a loop: every iteration costs one unit of fuel.
;;   wasmctl run -f fib.wat                  (main: fib(90))
;;   wasmctl run -f fib.wat --invoke fib 50
;;   wasmctl run -f fib.wat --fuel 10        (traps: out of fuel)
(module
  (func $fib (export "fib") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))

  (func (export "main") (result i64)
    (call $fib (i32.const 90))))
