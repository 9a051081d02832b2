;; WebAssembly SIMD128 scoring kernels for evaluation (loaded by
;; src/kge/wasm/scorer.ts; compiled by scripts/build-wasm.mjs into
;; dist/src/kge/wasm/kernels.wasm).
;;
;; Each score function scores nq query rows against nc candidate rows:
;;
;;   (qPtr, nq, qStride, cPtr, nc, cStride, kBytes, outPtr, outStride, imOff: i32)
;;
;; with every pointer and stride in bytes and 16-byte aligned, nq a positive
;; multiple of the kernel's query tile (2 for dot and l2, 1 for l1 and
;; rotate: QUERY_TILE in scorer.ts), nc a positive multiple of 4 and kBytes a
;; positive multiple of 16 (the floats of a row, or of its real half for
;; rotate). The score of query row i against candidate row j is written as
;; a float32 at outPtr + i * outStride + 4 * j. The loops are
;;
;;   for (c = 0; c < nc; c += 4)            ;; a tile of 4 candidate rows, kept in L1
;;     for (i = 0; i < nq; i += QB)         ;; QB query rows
;;       acc[QB][4] = f32x4(0)
;;       for (k = 0; k < kBytes; k += 16)   ;; 4 floats of each row per step
;;         x_j = v128.load(cand_j + k)      ;; (rotate also loads the imaginary half at + imOff)
;;         q   = v128.load(query_i + k)
;;         acc[i][j] = f32x4.add(acc[i][j], op(q, x_j))
;;       out[i][c .. c+4] = finish(hsum4(acc[i][0..4]))   ;; one v128.store per query row
;;
;; where hsum4 turns four accumulators into one vector of their four lane
;; sums with four i8x16.shuffle and three adds, op is q*x (dot), abs(q - x)
;; (l1), (q - x)^2 (l2) or sqrt(dre^2 + dim^2) (rotate), and finish is
;; identity (dot), -sqrt (l2) or negation (l1, rotate). Float32 throughout.
;;
;; count(ptr, n, t: f32, res) counts the floats below t and equal to t among
;; the n (a multiple of 4) at ptr, and stores the two counts as i32 at res
;; and res + 4.
;;
;; The four score functions have the same signature but each its own type,
;; and every function declares the same locals in the same order, so that the
;; module stays the bytes the earlier run-time emitter produced
;; (test/kge/eval-wasm-kernels-are-built-from-the-wat.test.ts compares the
;; shipped kernels.wasm with this file compiled again).
(module
  (type $dot (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $l1 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $l2 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $rotate (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $count (func (param i32 i32 f32 i32)))
  ;; The caller's memory (one page at least): see the layout in scorer.ts.
  (import "env" "mem" (memory 1))

  ;; dot: score = <q, x>. Two query rows per tile.
  (func $dot (export "dot") (type $dot)
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $cPtr i32) (param $nc i32)
    (param $cStride i32) (param $kBytes i32) (param $outPtr i32) (param $outStride i32) (param $imOff i32)
    ;; counters and row addresses
    (local $c i32) (local $qi i32) (local $k i32) (local $cp i32) (local $qp i32)
    (local $cand0 i32) (local $cand1 i32) (local $cand2 i32) (local $cand3 i32)
    (local $query0 i32) (local $query1 i32)
    ;; acc<i><j>: four partial sums of query row i against candidate row j
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    (local $acc10 v128) (local $acc11 v128) (local $acc12 v128) (local $acc13 v128)
    ;; candidate vectors of this step
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    ;; the query vector of this step ($qim unused here), two temporaries, the abs mask (unused here)
    (local $q v128) (local $qim v128) (local $t0 v128) (local $t1 v128) (local $mask v128)
    (local.set $cp (local.get $cPtr))
    (local.set $c (i32.const 0))
    (loop $candidates ;; a tile of 4 candidate rows, kept in L1 while every query row passes
      (local.set $cand0 (local.get $cp))
      (local.set $cand1 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 1))))
      (local.set $cand2 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 2))))
      (local.set $cand3 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 3))))
      (local.set $qp (local.get $qPtr))
      (local.set $qi (i32.const 0))
      (loop $queries ;; a tile of 2 query rows
        (local.set $query0 (local.get $qp))
        (local.set $query1 (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 1))))
        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0))
        (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc12 (v128.const i32x4 0 0 0 0))
        (local.set $acc13 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps ;; 4 floats of each row per step
          (local.set $x0 (v128.load (i32.add (local.get $cand0) (local.get $k))))
          (local.set $x1 (v128.load (i32.add (local.get $cand1) (local.get $k))))
          (local.set $x2 (v128.load (i32.add (local.get $cand2) (local.get $k))))
          (local.set $x3 (v128.load (i32.add (local.get $cand3) (local.get $k))))
          (local.set $q (v128.load (i32.add (local.get $query0) (local.get $k))))
          (local.set $acc00 (f32x4.add (local.get $acc00) (f32x4.mul (local.get $q) (local.get $x0))))
          (local.set $acc01 (f32x4.add (local.get $acc01) (f32x4.mul (local.get $q) (local.get $x1))))
          (local.set $acc02 (f32x4.add (local.get $acc02) (f32x4.mul (local.get $q) (local.get $x2))))
          (local.set $acc03 (f32x4.add (local.get $acc03) (f32x4.mul (local.get $q) (local.get $x3))))
          (local.set $q (v128.load (i32.add (local.get $query1) (local.get $k))))
          (local.set $acc10 (f32x4.add (local.get $acc10) (f32x4.mul (local.get $q) (local.get $x0))))
          (local.set $acc11 (f32x4.add (local.get $acc11) (f32x4.mul (local.get $q) (local.get $x1))))
          (local.set $acc12 (f32x4.add (local.get $acc12) (f32x4.mul (local.get $q) (local.get $x2))))
          (local.set $acc13 (f32x4.add (local.get $acc13) (f32x4.mul (local.get $q) (local.get $x3))))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; out[qi + 0][c .. c + 4] = finish(the lane sums of acc00 .. acc03): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc00, b = acc01; t1 likewise of acc02, acc03; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (local.get $qi) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc00) (local.get $acc01))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc00) (local.get $acc01))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc02) (local.get $acc03))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc02) (local.get $acc03))))
        (v128.store (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        ;; out[qi + 1][c .. c + 4] = finish(the lane sums of acc10 .. acc13): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc10, b = acc11; t1 likewise of acc12, acc13; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (i32.add (local.get $qi) (i32.const 1)) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc10) (local.get $acc11))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc10) (local.get $acc11))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc12) (local.get $acc13))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc12) (local.get $acc13))))
        (v128.store (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        (local.set $qp (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 2))))
        (br_if $queries (i32.lt_u (local.tee $qi (i32.add (local.get $qi) (i32.const 2))) (local.get $nq)))
      )
      (local.set $cp (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 4))))
      (br_if $candidates (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $nc)))
    )
  )

  ;; l1: score = -sum_k |q_k - x_k|. One query row per tile.
  (func $l1 (export "l1") (type $l1)
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $cPtr i32) (param $nc i32)
    (param $cStride i32) (param $kBytes i32) (param $outPtr i32) (param $outStride i32) (param $imOff i32)
    ;; counters and row addresses
    (local $c i32) (local $qi i32) (local $k i32) (local $cp i32) (local $qp i32)
    (local $cand0 i32) (local $cand1 i32) (local $cand2 i32) (local $cand3 i32)
    (local $query0 i32)
    ;; acc<i><j>: four partial sums of query row i against candidate row j
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    ;; candidate vectors of this step
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    ;; the query vector of this step ($qim unused here), two temporaries, the abs mask
    (local $q v128) (local $qim v128) (local $t0 v128) (local $t1 v128) (local $mask v128)
    ;; abs(v) as v & 0x7fffffff, the mask held in a local: f32x4.abs makes Node 20 rebuild the mask at every use
    (local.set $mask (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
    (local.set $cp (local.get $cPtr))
    (local.set $c (i32.const 0))
    (loop $candidates ;; a tile of 4 candidate rows, kept in L1 while every query row passes
      (local.set $cand0 (local.get $cp))
      (local.set $cand1 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 1))))
      (local.set $cand2 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 2))))
      (local.set $cand3 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 3))))
      (local.set $qp (local.get $qPtr))
      (local.set $qi (i32.const 0))
      (loop $queries ;; a tile of 1 query row
        (local.set $query0 (local.get $qp))
        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps ;; 4 floats of each row per step
          (local.set $x0 (v128.load (i32.add (local.get $cand0) (local.get $k))))
          (local.set $x1 (v128.load (i32.add (local.get $cand1) (local.get $k))))
          (local.set $x2 (v128.load (i32.add (local.get $cand2) (local.get $k))))
          (local.set $x3 (v128.load (i32.add (local.get $cand3) (local.get $k))))
          (local.set $q (v128.load (i32.add (local.get $query0) (local.get $k))))
          (local.set $acc00 (f32x4.add (local.get $acc00) (v128.and (f32x4.sub (local.get $q) (local.get $x0)) (local.get $mask))))
          (local.set $acc01 (f32x4.add (local.get $acc01) (v128.and (f32x4.sub (local.get $q) (local.get $x1)) (local.get $mask))))
          (local.set $acc02 (f32x4.add (local.get $acc02) (v128.and (f32x4.sub (local.get $q) (local.get $x2)) (local.get $mask))))
          (local.set $acc03 (f32x4.add (local.get $acc03) (v128.and (f32x4.sub (local.get $q) (local.get $x3)) (local.get $mask))))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; out[qi + 0][c .. c + 4] = finish(the lane sums of acc00 .. acc03): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc00, b = acc01; t1 likewise of acc02, acc03; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (local.get $qi) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc00) (local.get $acc01))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc00) (local.get $acc01))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc02) (local.get $acc03))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc02) (local.get $acc03))))
        (v128.store (f32x4.neg (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))))
        (local.set $qp (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 1))))
        (br_if $queries (i32.lt_u (local.tee $qi (i32.add (local.get $qi) (i32.const 1))) (local.get $nq)))
      )
      (local.set $cp (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 4))))
      (br_if $candidates (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $nc)))
    )
  )

  ;; l2: score = -sqrt(sum_k (q_k - x_k)^2). Two query rows per tile.
  (func $l2 (export "l2") (type $l2)
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $cPtr i32) (param $nc i32)
    (param $cStride i32) (param $kBytes i32) (param $outPtr i32) (param $outStride i32) (param $imOff i32)
    ;; counters and row addresses
    (local $c i32) (local $qi i32) (local $k i32) (local $cp i32) (local $qp i32)
    (local $cand0 i32) (local $cand1 i32) (local $cand2 i32) (local $cand3 i32)
    (local $query0 i32) (local $query1 i32)
    ;; acc<i><j>: four partial sums of query row i against candidate row j
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    (local $acc10 v128) (local $acc11 v128) (local $acc12 v128) (local $acc13 v128)
    ;; candidate vectors of this step
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    ;; the query vector of this step ($qim unused here), two temporaries, the abs mask (unused here)
    (local $q v128) (local $qim v128) (local $t0 v128) (local $t1 v128) (local $mask v128)
    (local.set $cp (local.get $cPtr))
    (local.set $c (i32.const 0))
    (loop $candidates ;; a tile of 4 candidate rows, kept in L1 while every query row passes
      (local.set $cand0 (local.get $cp))
      (local.set $cand1 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 1))))
      (local.set $cand2 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 2))))
      (local.set $cand3 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 3))))
      (local.set $qp (local.get $qPtr))
      (local.set $qi (i32.const 0))
      (loop $queries ;; a tile of 2 query rows
        (local.set $query0 (local.get $qp))
        (local.set $query1 (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 1))))
        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0))
        (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc12 (v128.const i32x4 0 0 0 0))
        (local.set $acc13 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps ;; 4 floats of each row per step
          (local.set $x0 (v128.load (i32.add (local.get $cand0) (local.get $k))))
          (local.set $x1 (v128.load (i32.add (local.get $cand1) (local.get $k))))
          (local.set $x2 (v128.load (i32.add (local.get $cand2) (local.get $k))))
          (local.set $x3 (v128.load (i32.add (local.get $cand3) (local.get $k))))
          (local.set $q (v128.load (i32.add (local.get $query0) (local.get $k))))
          (local.set $acc00 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x0))) (local.get $t0)) (local.get $acc00)))
          (local.set $acc01 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x1))) (local.get $t0)) (local.get $acc01)))
          (local.set $acc02 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x2))) (local.get $t0)) (local.get $acc02)))
          (local.set $acc03 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x3))) (local.get $t0)) (local.get $acc03)))
          (local.set $q (v128.load (i32.add (local.get $query1) (local.get $k))))
          (local.set $acc10 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x0))) (local.get $t0)) (local.get $acc10)))
          (local.set $acc11 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x1))) (local.get $t0)) (local.get $acc11)))
          (local.set $acc12 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x2))) (local.get $t0)) (local.get $acc12)))
          (local.set $acc13 (f32x4.add (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x3))) (local.get $t0)) (local.get $acc13)))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; out[qi + 0][c .. c + 4] = finish(the lane sums of acc00 .. acc03): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc00, b = acc01; t1 likewise of acc02, acc03; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (local.get $qi) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc00) (local.get $acc01))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc00) (local.get $acc01))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc02) (local.get $acc03))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc02) (local.get $acc03))))
        (v128.store (f32x4.neg (f32x4.sqrt (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))))
        ;; out[qi + 1][c .. c + 4] = finish(the lane sums of acc10 .. acc13): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc10, b = acc11; t1 likewise of acc12, acc13; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (i32.add (local.get $qi) (i32.const 1)) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc10) (local.get $acc11))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc10) (local.get $acc11))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc12) (local.get $acc13))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc12) (local.get $acc13))))
        (v128.store (f32x4.neg (f32x4.sqrt (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))))
        (local.set $qp (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 2))))
        (br_if $queries (i32.lt_u (local.tee $qi (i32.add (local.get $qi) (i32.const 2))) (local.get $nq)))
      )
      (local.set $cp (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 4))))
      (br_if $candidates (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $nc)))
    )
  )

  ;; rotate: score = -sum_k |(q_re, q_im)_k - (x_re, x_im)_k|, the imaginary parts
  ;; $imOff bytes after the real ones. One query row per tile.
  (func $rotate (export "rotate") (type $rotate)
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $cPtr i32) (param $nc i32)
    (param $cStride i32) (param $kBytes i32) (param $outPtr i32) (param $outStride i32) (param $imOff i32)
    ;; counters and row addresses
    (local $c i32) (local $qi i32) (local $k i32) (local $cp i32) (local $qp i32)
    (local $cand0 i32) (local $cand1 i32) (local $cand2 i32) (local $cand3 i32)
    (local $query0 i32)
    ;; acc<i><j>: four partial sums of query row i against candidate row j
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    ;; candidate vectors of this step (real, then imaginary)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $xim0 v128) (local $xim1 v128) (local $xim2 v128) (local $xim3 v128)
    ;; the query vector of this step (real, imaginary), two temporaries, the abs mask (unused here)
    (local $q v128) (local $qim v128) (local $t0 v128) (local $t1 v128) (local $mask v128)
    (local.set $cp (local.get $cPtr))
    (local.set $c (i32.const 0))
    (loop $candidates ;; a tile of 4 candidate rows, kept in L1 while every query row passes
      (local.set $cand0 (local.get $cp))
      (local.set $cand1 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 1))))
      (local.set $cand2 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 2))))
      (local.set $cand3 (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 3))))
      (local.set $qp (local.get $qPtr))
      (local.set $qi (i32.const 0))
      (loop $queries ;; a tile of 1 query row
        (local.set $query0 (local.get $qp))
        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $steps ;; 4 floats of each row per step
          (local.set $x0 (v128.load (i32.add (local.get $cand0) (local.get $k))))
          (local.set $xim0 (v128.load (i32.add (i32.add (local.get $cand0) (local.get $k)) (local.get $imOff))))
          (local.set $x1 (v128.load (i32.add (local.get $cand1) (local.get $k))))
          (local.set $xim1 (v128.load (i32.add (i32.add (local.get $cand1) (local.get $k)) (local.get $imOff))))
          (local.set $x2 (v128.load (i32.add (local.get $cand2) (local.get $k))))
          (local.set $xim2 (v128.load (i32.add (i32.add (local.get $cand2) (local.get $k)) (local.get $imOff))))
          (local.set $x3 (v128.load (i32.add (local.get $cand3) (local.get $k))))
          (local.set $xim3 (v128.load (i32.add (i32.add (local.get $cand3) (local.get $k)) (local.get $imOff))))
          (local.set $q (v128.load (i32.add (local.get $query0) (local.get $k))))
          (local.set $qim (v128.load (i32.add (i32.add (local.get $query0) (local.get $k)) (local.get $imOff))))
          (local.set $acc00 (f32x4.add
            (f32x4.sqrt (f32x4.add
              (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x0))) (local.get $t0))
              (f32x4.mul (local.tee $t1 (f32x4.sub (local.get $qim) (local.get $xim0))) (local.get $t1))))
            (local.get $acc00)))
          (local.set $acc01 (f32x4.add
            (f32x4.sqrt (f32x4.add
              (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x1))) (local.get $t0))
              (f32x4.mul (local.tee $t1 (f32x4.sub (local.get $qim) (local.get $xim1))) (local.get $t1))))
            (local.get $acc01)))
          (local.set $acc02 (f32x4.add
            (f32x4.sqrt (f32x4.add
              (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x2))) (local.get $t0))
              (f32x4.mul (local.tee $t1 (f32x4.sub (local.get $qim) (local.get $xim2))) (local.get $t1))))
            (local.get $acc02)))
          (local.set $acc03 (f32x4.add
            (f32x4.sqrt (f32x4.add
              (f32x4.mul (local.tee $t0 (f32x4.sub (local.get $q) (local.get $x3))) (local.get $t0))
              (f32x4.mul (local.tee $t1 (f32x4.sub (local.get $qim) (local.get $xim3))) (local.get $t1))))
            (local.get $acc03)))
          (br_if $steps (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kBytes)))
        )
        ;; out[qi + 0][c .. c + 4] = finish(the lane sums of acc00 .. acc03): the address goes on the stack first;
        ;; t0 = [a0+a2, b0+b2, a1+a3, b1+b3] of a = acc00, b = acc01; t1 likewise of acc02, acc03; then the totals [a, b, c, d]
        (i32.add (i32.add (i32.mul (local.get $qi) (local.get $outStride)) (i32.mul (local.get $c) (i32.const 4))) (local.get $outPtr))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc00) (local.get $acc01))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc00) (local.get $acc01))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $acc02) (local.get $acc03))
                                  (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $acc02) (local.get $acc03))))
        (v128.store (f32x4.neg (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))))
        (local.set $qp (i32.add (local.get $qp) (i32.mul (local.get $qStride) (i32.const 1))))
        (br_if $queries (i32.lt_u (local.tee $qi (i32.add (local.get $qi) (i32.const 1))) (local.get $nq)))
      )
      (local.set $cp (i32.add (local.get $cp) (i32.mul (local.get $cStride) (i32.const 4))))
      (br_if $candidates (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $nc)))
    )
  )

  ;; count(ptr, n, t, res): floats below t and equal to t among n at ptr.
  ;; A true f32x4 comparison lane is all ones (-1): subtracting it counts one.
  ;; A NaN compares false both ways and counts in neither.
  (func $count (export "count") (type $count)
    (param $ptr i32) (param $n i32) (param $t f32) (param $res i32)
    (local $end i32) (local $tv v128) (local $v v128) (local $lt v128) (local $eq v128)
    (local.set $tv (f32x4.splat (local.get $t)))
    (local.set $lt (v128.const i32x4 0 0 0 0))
    (local.set $eq (v128.const i32x4 0 0 0 0))
    (local.set $end (i32.add (local.get $ptr) (i32.mul (local.get $n) (i32.const 4))))
    (block $done
      (br_if $done (i32.eqz (local.get $n))) ;; nothing to count
      (loop $steps
        (local.set $v (v128.load (local.get $ptr)))
        (local.set $lt (i32x4.sub (local.get $lt) (f32x4.lt (local.get $v) (local.get $tv))))
        (local.set $eq (i32x4.sub (local.get $eq) (f32x4.eq (local.get $v) (local.get $tv))))
        (br_if $steps (i32.lt_u (local.tee $ptr (i32.add (local.get $ptr) (i32.const 16))) (local.get $end)))
      )
    )
    (i32.store offset=0 (local.get $res)
      (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $lt)) (i32x4.extract_lane 1 (local.get $lt)))
                        (i32x4.extract_lane 2 (local.get $lt)))
               (i32x4.extract_lane 3 (local.get $lt))))
    (i32.store offset=4 (local.get $res)
      (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $eq)) (i32x4.extract_lane 1 (local.get $eq)))
                        (i32x4.extract_lane 2 (local.get $eq)))
               (i32x4.extract_lane 3 (local.get $eq))))
  )
)
