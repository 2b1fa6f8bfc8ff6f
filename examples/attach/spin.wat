;; SPDX-License-Identifier: GPL-2.0
;;
;; A handler that never returns: its per-event fuel cuts it off, the event
;; gets the attachment's default verdict, and the cut is counted.
(module
  (func (export "handler") (param i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 1)))
