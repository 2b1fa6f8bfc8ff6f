;; SPDX-License-Identifier: GPL-2.0
;;
;; The smallest useful module: wasmctl run -f add.wat --invoke add 2 3
(module
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add))
