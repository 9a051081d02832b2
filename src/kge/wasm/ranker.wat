;; WebAssembly SIMD128 kernels of the exact two-pass ranker for the `dot`
;; plans (DistMult, ComplEx), loaded by src/kge/wasm/scorer.ts beside
;; kernels.wat over the same memory; compiled by scripts/build-wasm.mjs into
;; dist/src/kge/wasm/ranker.wasm.
;;
;; Pass 1 scores every query against every entity in 16-bit fixed point
;; (dot16: i32x4.dot_i16x8_s multiplies eight pairs and adds them pairwise,
;; twice the work per instruction of f32x4.mul + f32x4.add, on rows half the
;; size), which bounds each float32 score to a known interval around it.
;; band sorts a row of those integer scores against the target's interval:
;; below it, above it, or inside (then the index is listed). Pass 2
;; (rescore) computes the float32 score of the listed entities only, with
;; the same arithmetic for the target, so every comparison that the bound
;; cannot settle is settled by float32 scores of one kernel.
;;
;; dot16(qPtr, nq, qStride, cPtr, nc, cStride, kBytes, outPtr, outStride)
;;   int16 rows, every pointer and stride in bytes and 16-byte aligned, nq a
;;   positive multiple of 2, nc of 4, kBytes of 16. The int32 dot product of
;;   query row i and candidate row j goes to outPtr + i * outStride + 4 * j.
;;   The loops are those of kernels.wat's dot (4 candidate rows outer,
;;   2 query rows inner, 8 int16 of each row per step). No value may be
;;   -32768 (then no i32x4.dot_i16x8_s pair overflows); the int32 adds wrap,
;;   so a dot product is exact whenever its total lies in int32 (the caller
;;   keeps ||q||_2 ||x||_2 < 2^31), whatever its partial sums.
;;
;; band(ptr, n, lo, hi, res, idx) -> m
;;   over the n (a multiple of 4) int32 at ptr: stores at res the count below
;;   lo and at res + 4 the count above hi (signed compares), writes the
;;   indices j (0-based, int32) of the other m values to idx, in order, and
;;   returns m.
;;
;; rescore(qPtr, cPtr, rowBytes, kBytes, idx, m, outPtr)
;;   float32 dot product of the query row at qPtr with candidate rows
;;   cPtr + idx[p] * rowBytes for p < m, written as float32 to outPtr + 4p.
;;   Four lanes of partial sums over k, then (l0 + l2) + (l1 + l3): the order
;;   of kernels.wat's dot, so a score does not depend on which pass or
;;   position computed it.
(module
  (type $dot16 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $band (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type $rescore (func (param i32 i32 i32 i32 i32 i32 i32)))
  ;; The caller's memory: see the layout in scorer.ts.
  (import "env" "mem" (memory 1))

  (func $dot16 (export "dot16") (type $dot16)
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $cPtr i32) (param $nc i32)
    (param $cStride i32) (param $kBytes i32) (param $outPtr i32) (param $outStride i32)
    (local $c i32) (local $qi i32) (local $k i32) (local $cp i32) (local $qp i32)
    (local $cand0 i32) (local $cand1 i32) (local $cand2 i32) (local $cand3 i32)
    (local $query0 i32) (local $query1 i32)
    ;; acc<i><j>: four int32 partial sums of query row i against candidate row j
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    (local $acc10 v128) (local $acc11 v128) (local $acc12 v128) (local $acc13 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $q v128) (local $t0 v128) (local $t1 v128)
    (local.set $cp (local.get $cPtr))
    (local.set $c (i32.const 0))
    (loop $candidates ;; a tile of 4 candidate rows, kept in L1 while every query row passes
      (local.set $cand0 (local.get $cp))
      (local.set $cand1 (i32.add (local.get $cp) (local.get $cStride)))
      (local.set $cand2 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 2))))
      (local.set $cand3 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 3))))
      (local.set $qp (local.get $qPtr))
      (local.set $qi (i32.const 0))
      (loop $queries ;; a tile of 2 query rows
        (local.set $query0 (local.get $qp))
        (local.set $query1 (i32.add (local.get $qp) (local.get $qStride)))
        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0))
        (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc12 (v128.const i32x4 0 0 0 0))
        (local.set $acc13 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps ;; 8 int16 of each row per step
          (local.set $x0 (v128.load (i32.add (local.get $cand0) (local.get $k))))
          (local.set $x1 (v128.load (i32.add (local.get $cand1) (local.get $k))))
          (local.set $x2 (v128.load (i32.add (local.get $cand2) (local.get $k))))
          (local.set $x3 (v128.load (i32.add (local.get $cand3) (local.get $k))))
          (local.set $q (v128.load (i32.add (local.get $query0) (local.get $k))))
          (local.set $acc00 (i32x4.add (local.get $acc00) (i32x4.dot_i16x8_s (local.get $q) (local.get $x0))))
          (local.set $acc01 (i32x4.add (local.get $acc01) (i32x4.dot_i16x8_s (local.get $q) (local.get $x1))))
          (local.set $acc02 (i32x4.add (local.get $acc02) (i32x4.dot_i16x8_s (local.get $q) (local.get $x2))))
          (local.set $acc03 (i32x4.add (local.get $acc03) (i32x4.dot_i16x8_s (local.get $q) (local.get $x3))))
          (local.set $q (v128.load (i32.add (local.get $query1) (local.get $k))))
          (local.set $acc10 (i32x4.add (local.get $acc10) (i32x4.dot_i16x8_s (local.get $q) (local.get $x0))))
          (local.set $acc11 (i32x4.add (local.get $acc11) (i32x4.dot_i16x8_s (local.get $q) (local.get $x1))))
          (local.set $acc12 (i32x4.add (local.get $acc12) (i32x4.dot_i16x8_s (local.get $q) (local.get $x2))))
          (local.set $acc13 (i32x4.add (local.get $acc13) (i32x4.dot_i16x8_s (local.get $q) (local.get $x3))))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; out[qi][c .. c + 4] = the lane sums of acc00 .. acc03 (address first, then the value)
        (i32.add (i32.add (i32.mul (local.get $qi) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc00) (local.get $acc01))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc00) (local.get $acc01))))
        (local.set $t1 (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc02) (local.get $acc03))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc02) (local.get $acc03))))
        (v128.store (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        ;; out[qi + 1][c .. c + 4] likewise from acc10 .. acc13
        (i32.add (i32.add (i32.mul (i32.add (local.get $qi) (i32.const 1)) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc10) (local.get $acc11))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc10) (local.get $acc11))))
        (local.set $t1 (i32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc12) (local.get $acc13))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc12) (local.get $acc13))))
        (v128.store (i32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        (local.set $qp (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 2))))
        (br_if $queries (i32.lt_u (local.tee $qi (i32.add (local.get $qi) (i32.const 2))) (local.get $nq)))
      )
      (local.set $cp (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 4))))
      (br_if $candidates (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $nc)))
    )
  )

  ;; band: a true i32x4 comparison lane is all ones (-1): subtracting it counts one.
  ;; A step whose four values all fall outside [lo, hi] (the common case) writes no index.
  (func $band (export "band") (type $band)
    (param $ptr i32) (param $n i32) (param $lo i32) (param $hi i32) (param $res i32) (param $idx i32) (result i32)
    (local $j i32) (local $m i32) (local $l i32) (local $x i32)
    (local $lov v128) (local $hiv v128) (local $v v128) (local $below v128) (local $above v128)
    (local $ltm v128) (local $gtm v128)
    (local.set $lov (i32x4.splat (local.get $lo)))
    (local.set $hiv (i32x4.splat (local.get $hi)))
    (local.set $below (v128.const i32x4 0 0 0 0))
    (local.set $above (v128.const i32x4 0 0 0 0))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $steps
        (local.set $v (v128.load (i32.add (local.get $ptr) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $ltm (i32x4.lt_s (local.get $v) (local.get $lov)))
        (local.set $gtm (i32x4.gt_s (local.get $v) (local.get $hiv)))
        (local.set $below (i32x4.sub (local.get $below) (local.get $ltm)))
        (local.set $above (i32x4.sub (local.get $above) (local.get $gtm)))
        (if (i32.eqz (i32x4.all_true (v128.or (local.get $ltm) (local.get $gtm))))
          (then
            ;; some lane lies in [lo, hi]: list those lanes' indices
            (local.set $l (i32.const 0))
            (loop $lanes
              (local.set $x (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $j) (local.get $l)) (i32.const 2)))))
              (if (i32.and (i32.ge_s (local.get $x) (local.get $lo)) (i32.le_s (local.get $x) (local.get $hi)))
                (then
                  (i32.store (i32.add (local.get $idx) (i32.shl (local.get $m) (i32.const 2))) (i32.add (local.get $j) (local.get $l)))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))
              (br_if $lanes (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 4)))
            )))
        (br_if $steps (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $n)))
      )
    )
    (i32.store offset=0 (local.get $res)
      (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $below)) (i32x4.extract_lane 1 (local.get $below)))
                        (i32x4.extract_lane 2 (local.get $below)))
               (i32x4.extract_lane 3 (local.get $below))))
    (i32.store offset=4 (local.get $res)
      (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $above)) (i32x4.extract_lane 1 (local.get $above)))
                        (i32x4.extract_lane 2 (local.get $above)))
               (i32x4.extract_lane 3 (local.get $above))))
    (local.get $m)
  )

  (func $rescore (export "rescore") (type $rescore)
    (param $qPtr i32) (param $cPtr i32) (param $rowBytes i32) (param $kBytes i32) (param $idx i32) (param $m i32)
    (param $outPtr i32)
    (local $p i32) (local $k i32) (local $row0 i32) (local $row1 i32) (local $row2 i32) (local $row3 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $q v128) (local $t v128)
    (local $m4 i32)
    ;; four rows at a time: four independent chains of adds, four rows' loads in flight
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (block $done4
      (br_if $done4 (i32.eqz (local.get $m4)))
      (loop $rows4
        (local.set $row0 (i32.add (local.get $cPtr)
          (i32.mul (i32.load offset=0 (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $row1 (i32.add (local.get $cPtr)
          (i32.mul (i32.load offset=4 (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $row2 (i32.add (local.get $cPtr)
          (i32.mul (i32.load offset=8 (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $row3 (i32.add (local.get $cPtr)
          (i32.mul (i32.load offset=12 (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $acc3 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps4
          (local.set $q (v128.load (i32.add (local.get $qPtr) (local.get $k))))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $q) (v128.load (i32.add (local.get $row0) (local.get $k))))))
          (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $q) (v128.load (i32.add (local.get $row1) (local.get $k))))))
          (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $q) (v128.load (i32.add (local.get $row2) (local.get $k))))))
          (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $q) (v128.load (i32.add (local.get $row3) (local.get $k))))))
          (br_if $steps4 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; each row's (l0 + l2) + (l1 + l3)
        (local.set $t (f32x4.add (local.get $acc0) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc0) (local.get $acc0))))
        (f32.store offset=0 (i32.add (local.get $outPtr) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))
        (local.set $t (f32x4.add (local.get $acc1) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc1) (local.get $acc1))))
        (f32.store offset=4 (i32.add (local.get $outPtr) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))
        (local.set $t (f32x4.add (local.get $acc2) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc2) (local.get $acc2))))
        (f32.store offset=8 (i32.add (local.get $outPtr) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))
        (local.set $t (f32x4.add (local.get $acc3) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc3) (local.get $acc3))))
        (f32.store offset=12 (i32.add (local.get $outPtr) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))
        (br_if $rows4 (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $m4)))
      )
    )
    ;; the last m mod 4 rows, one at a time
    (block $done
      (br_if $done (i32.ge_u (local.get $p) (local.get $m)))
      (loop $rows
        (local.set $row0 (i32.add (local.get $cPtr)
          (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps
          (local.set $acc0 (f32x4.add (local.get $acc0)
            (f32x4.mul (v128.load (i32.add (local.get $qPtr) (local.get $k)))
                       (v128.load (i32.add (local.get $row0) (local.get $k))))))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        (local.set $t (f32x4.add (local.get $acc0) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc0) (local.get $acc0))))
        (f32.store (i32.add (local.get $outPtr) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t))))
        (br_if $rows (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $m)))
      )
    )
  )
)
