;; SPDX-License-Identifier: GPL-2.0
;;
;; Floating point, bit-exact in the kernel without touching the FPU.
;;   wasmctl run -f float.wat --invoke hypot 3 4     (5)
;;   wasmctl run -f float.wat --invoke average 1 2 4 (2.3333333333333335)
(module
  (func (export "hypot") (param $x f64) (param $y f64) (result f64)
    (f64.sqrt
      (f64.add
        (f64.mul (local.get $x) (local.get $x))
        (f64.mul (local.get $y) (local.get $y)))))

  (func (export "average") (param f64 f64 f64) (result f64)
    (f64.div
      (f64.add (f64.add (local.get 0) (local.get 1)) (local.get 2))
      (f64.const 3))))
