;; WebAssembly SIMD128 kernels of top-k selection (predictions and nearest
;; neighbours), loaded by src/kge/wasm/scorer.ts beside kernels.wat over the
;; same memory; compiled by scripts/build-wasm.mjs into
;; dist/src/kge/wasm/select.wasm.
;;
;; A selection first takes the best k of a prefix of a score row in
;; JavaScript; the k-th best of the prefix is then a threshold that nearly
;; every other entry fails. These kernels scan the rest of the row four
;; entries per step and list only the entries above the threshold, which
;; JavaScript then offers to its heap (src/kge/topk.ts).
;;
;; above_f32(ptr, n, t: f32, idx, first) -> m
;;   over the n (a multiple of 4) float32 at ptr: writes first + j (int32,
;;   ascending) to idx for every j whose value is greater than t (a NaN is
;;   greater than nothing, and nothing is greater than a NaN t), and returns
;;   their count m.
;;
;; above_i32(ptr, n, t: i32, idx, first) -> m
;;   the same over int32 values, compared signed.
;;
;; A step whose four values all fail (the common case) writes nothing.
(module
  (type $above_f32 (func (param i32 i32 f32 i32 i32) (result i32)))
  (type $above_i32 (func (param i32 i32 i32 i32 i32) (result i32)))
  ;; The caller's memory: see the layout in scorer.ts.
  (import "env" "mem" (memory 1))

  (func $above_f32 (export "above_f32") (type $above_f32)
    (param $ptr i32) (param $n i32) (param $t f32) (param $idx i32) (param $first i32) (result i32)
    (local $j i32) (local $m i32) (local $l i32) (local $tv v128)
    (local.set $tv (f32x4.splat (local.get $t)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $steps
        (if (v128.any_true (f32x4.gt (v128.load (i32.add (local.get $ptr) (i32.shl (local.get $j) (i32.const 2))))
                                     (local.get $tv)))
          (then
            ;; some lane is above t: list those lanes' indices
            (local.set $l (i32.const 0))
            (loop $lanes
              (if (f32.gt (f32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $j) (local.get $l)) (i32.const 2))))
                          (local.get $t))
                (then
                  (i32.store (i32.add (local.get $idx) (i32.shl (local.get $m) (i32.const 2)))
                             (i32.add (local.get $first) (i32.add (local.get $j) (local.get $l))))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))
              (br_if $lanes (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 4))))))
        (br_if $steps (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $n)))))
    (local.get $m))

  (func $above_i32 (export "above_i32") (type $above_i32)
    (param $ptr i32) (param $n i32) (param $t i32) (param $idx i32) (param $first i32) (result i32)
    (local $j i32) (local $m i32) (local $l i32) (local $tv v128)
    (local.set $tv (i32x4.splat (local.get $t)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $steps
        (if (v128.any_true (i32x4.gt_s (v128.load (i32.add (local.get $ptr) (i32.shl (local.get $j) (i32.const 2))))
                                       (local.get $tv)))
          (then
            (local.set $l (i32.const 0))
            (loop $lanes
              (if (i32.gt_s (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $j) (local.get $l)) (i32.const 2))))
                            (local.get $t))
                (then
                  (i32.store (i32.add (local.get $idx) (i32.shl (local.get $m) (i32.const 2)))
                             (i32.add (local.get $first) (i32.add (local.get $j) (local.get $l))))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))
              (br_if $lanes (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 4))))))
        (br_if $steps (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $n)))))
    (local.get $m))
)
