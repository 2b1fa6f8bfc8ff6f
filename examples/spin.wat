;; SPDX-License-Identifier: GPL-2.0
;;
;; Runs forever: stop it with Ctrl-C (or any fatal signal) and the kernel
;; ends the invocation with an "interrupted" trap; with a fuel limit it ends
;; with "out of fuel".
;;   wasmctl run -f spin.wat
(module
  (func (export "main")
    (loop $forever
      (br $forever))))
