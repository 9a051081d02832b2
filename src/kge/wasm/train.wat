;; WebAssembly SIMD128 gradient kernels for training (loaded by
;; src/kge/wasm/train-kernels.ts; compiled by scripts/build-wasm.mjs into
;; dist/src/kge/wasm/train.wasm). A chunk's scores come from the evaluation
;; kernels of kernels.wat (queries x negatives); these kernels take the
;; loss coefficients C (float32, C[i][j] = dLoss/dScore of query i against
;; negative j) and add the gradients of every pair to the query rows (gQ)
;; and the negative rows (gX) in one pass over the chunk.
;;
;; Every pointer and stride is in bytes and 16-byte aligned; kBytes (the
;; floats of a row, or of its real half for rotate, times 4) is a positive
;; multiple of 16.
;;
;; matAcc(aPtr, rows, aRow, aCol, bPtr, inner, bStride, kBytes, outPtr, outStride)
;;   out[r] += sum_t A(r, t) * B[t]   for r < rows (a multiple of 2), t < inner,
;;   where A(r, t) is the float32 at aPtr + r*aRow + t*aCol: C itself
;;   (aRow = C's row stride, aCol = 4) or its transpose (aRow = 4,
;;   aCol = C's row stride). Register tile: 2 output rows x 16 floats, eight
;;   accumulators; one B row of 16 floats is loaded per t and used twice.
;;   A pair of A entries that are both 0 is skipped (the margin loss leaves
;;   most pairs at 0). The dot kernel's gradient: gQ = C X and gX = C^T Q.
;;   TransE L2 uses it too, with C[i][j] / dist_ij, plus a diagonal term
;;   the caller adds.
;;
;; l1Grad(qPtr, nq, qStride, xPtr, nx, xStride, kBytes, cPtr, cStride, gqPtr, gxPtr)
;;   score = -sum_k |q_k - x_k|: for each pair (i, j), s = C[i][j] * sign(q_i - x_j)
;;   (0 where equal), gX[j] += s, gQ[i] -= s. gQ rows have q's stride, gX
;;   rows x's. nx is a multiple of 4: a tile of one query x 4 negatives.
;;
;; rotateGrad(qPtr, nq, qStride, xPtr, nx, xStride, kBytes, imOff, cPtr, cStride, gqPtr, gxPtr)
;;   score = -sum_k |q_k - x_k| over complex coordinates (real parts, then
;;   imaginary parts at + imOff): with d = q_i - x_j and m = |d| per
;;   coordinate, s = C[i][j] * d / m (0 where m = 0), gX[j] += s, gQ[i] -= s.
;;
;; logistic(sPtr, n, k, kPad, gamma, invK, cPtr, lossPtr)
;;   The logistic loss of n rows of k negative scores (rows of kPad floats at
;;   sPtr, S[i][j]) with uniform weights 1/k: with z = gamma + S[i][j] and
;;   e = exp(-|z|), C[i][j] = (1/k) * sigmoid(z) (the coefficient dLoss/dScore)
;;   and loss[i] = (1/k) * sum_j softplus(z), softplus(z) = max(z, 0) + log1p(e),
;;   sigmoid(z) = 1/(1 + e) for z >= 0, e/(1 + e) below. Padding lanes
;;   (j >= k) get C = 0 and add nothing. exp is 2^n * p(r) with a Cody-Waite
;;   reduction and a degree-7 Taylor polynomial (|r| <= ln2/2, error < 3e-9
;;   relative), 0 below -87 (where 2^n leaves float32's normal range);
;;   log1p(e) for e in [0, 1] is 2 atanh(e / (2 + e)) by its odd series to the
;;   13th power (error < 1e-8). Both well inside float32 rounding.
;;
;; Float32 throughout; the sums run in a different order from the
;; JavaScript kernels' float64 ones (test/kge/train-simd-kernels-match-js.test.ts
;; states the tolerance).
(module
  (import "env" "mem" (memory 1))

  (func $matAcc (export "matAcc")
    (param $aPtr i32) (param $rows i32) (param $aRow i32) (param $aCol i32)
    (param $bPtr i32) (param $inner i32) (param $bStride i32) (param $kBytes i32)
    (param $outPtr i32) (param $outStride i32)
    (local $r i32) (local $kk i32) (local $t i32) (local $a0p i32) (local $a1p i32) (local $bp i32)
    (local $o0 i32) (local $o1 i32)
    (local $a0 f32) (local $a1 f32) (local $s0 v128) (local $s1 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowPairs
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $o0 (i32.add (local.get $outPtr) (i32.mul (local.get $r) (local.get $outStride))))
        (local.set $o1 (i32.add (local.get $o0) (local.get $outStride)))
        (local.set $kk (i32.const 0))
        ;; 16 floats (64 bytes) of the two output rows at a time
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add (local.get $kk) (i32.const 64)) (local.get $kBytes)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c02 (v128.const i32x4 0 0 0 0)) (local.set $c03 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c12 (v128.const i32x4 0 0 0 0)) (local.set $c13 (v128.const i32x4 0 0 0 0))
            (local.set $a0p (i32.add (local.get $aPtr) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $a1p (i32.add (local.get $a0p) (local.get $aRow)))
            (local.set $bp (i32.add (local.get $bPtr) (local.get $kk)))
            (local.set $t (i32.const 0))
            (block $innerDone
              (loop $inner
                (br_if $innerDone (i32.ge_u (local.get $t) (local.get $inner)))
                (local.set $a0 (f32.load (local.get $a0p)))
                (local.set $a1 (f32.load (local.get $a1p)))
                (if (i32.or (f32.ne (local.get $a0) (f32.const 0)) (f32.ne (local.get $a1) (f32.const 0)))
                  (then
                    (local.set $s0 (f32x4.splat (local.get $a0)))
                    (local.set $s1 (f32x4.splat (local.get $a1)))
                    (local.set $x0 (v128.load (local.get $bp)))
                    (local.set $x1 (v128.load offset=16 (local.get $bp)))
                    (local.set $x2 (v128.load offset=32 (local.get $bp)))
                    (local.set $x3 (v128.load offset=48 (local.get $bp)))
                    (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s0) (local.get $x0))))
                    (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s0) (local.get $x1))))
                    (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $s0) (local.get $x2))))
                    (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $s0) (local.get $x3))))
                    (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s1) (local.get $x0))))
                    (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s1) (local.get $x1))))
                    (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $s1) (local.get $x2))))
                    (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $s1) (local.get $x3))))))
                (local.set $a0p (i32.add (local.get $a0p) (local.get $aCol)))
                (local.set $a1p (i32.add (local.get $a1p) (local.get $aCol)))
                (local.set $bp (i32.add (local.get $bp) (local.get $bStride)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $inner)))
            (local.set $a0p (i32.add (local.get $o0) (local.get $kk)))
            (local.set $a1p (i32.add (local.get $o1) (local.get $kk)))
            (v128.store (local.get $a0p) (f32x4.add (v128.load (local.get $a0p)) (local.get $c00)))
            (v128.store offset=16 (local.get $a0p) (f32x4.add (v128.load offset=16 (local.get $a0p)) (local.get $c01)))
            (v128.store offset=32 (local.get $a0p) (f32x4.add (v128.load offset=32 (local.get $a0p)) (local.get $c02)))
            (v128.store offset=48 (local.get $a0p) (f32x4.add (v128.load offset=48 (local.get $a0p)) (local.get $c03)))
            (v128.store (local.get $a1p) (f32x4.add (v128.load (local.get $a1p)) (local.get $c10)))
            (v128.store offset=16 (local.get $a1p) (f32x4.add (v128.load offset=16 (local.get $a1p)) (local.get $c11)))
            (v128.store offset=32 (local.get $a1p) (f32x4.add (v128.load offset=32 (local.get $a1p)) (local.get $c12)))
            (v128.store offset=48 (local.get $a1p) (f32x4.add (v128.load offset=48 (local.get $a1p)) (local.get $c13)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 64)))
            (br $wide)))
        ;; the last 4, 8 or 12 floats, 4 at a time
        (block $narrowDone
          (loop $narrow
            (br_if $narrowDone (i32.ge_u (local.get $kk) (local.get $kBytes)))
            (local.set $c00 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0))
            (local.set $a0p (i32.add (local.get $aPtr) (i32.mul (local.get $r) (local.get $aRow))))
            (local.set $a1p (i32.add (local.get $a0p) (local.get $aRow)))
            (local.set $bp (i32.add (local.get $bPtr) (local.get $kk)))
            (local.set $t (i32.const 0))
            (block $innerDone2
              (loop $inner2
                (br_if $innerDone2 (i32.ge_u (local.get $t) (local.get $inner)))
                (local.set $x0 (v128.load (local.get $bp)))
                (local.set $c00
                  (f32x4.add (local.get $c00) (f32x4.mul (f32x4.splat (f32.load (local.get $a0p))) (local.get $x0))))
                (local.set $c10
                  (f32x4.add (local.get $c10) (f32x4.mul (f32x4.splat (f32.load (local.get $a1p))) (local.get $x0))))
                (local.set $a0p (i32.add (local.get $a0p) (local.get $aCol)))
                (local.set $a1p (i32.add (local.get $a1p) (local.get $aCol)))
                (local.set $bp (i32.add (local.get $bp) (local.get $bStride)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $inner2)))
            (local.set $a0p (i32.add (local.get $o0) (local.get $kk)))
            (local.set $a1p (i32.add (local.get $o1) (local.get $kk)))
            (v128.store (local.get $a0p) (f32x4.add (v128.load (local.get $a0p)) (local.get $c00)))
            (v128.store (local.get $a1p) (f32x4.add (v128.load (local.get $a1p)) (local.get $c10)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 16)))
            (br $narrow)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $rowPairs))))

  (func $l1Grad (export "l1Grad")
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $xPtr i32) (param $nx i32)
    (param $xStride i32) (param $kBytes i32) (param $cPtr i32) (param $cStride i32)
    (param $gqPtr i32) (param $gxPtr i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $qp i32) (local $gqp i32) (local $cp i32)
    (local $x0p i32) (local $x1p i32) (local $x2p i32) (local $x3p i32)
    (local $g0p i32) (local $g1p i32) (local $g2p i32) (local $g3p i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $q v128) (local $d v128) (local $s v128) (local $acc v128)
    (local.set $i (i32.const 0))
    (block $queriesDone
      (loop $queries
        (br_if $queriesDone (i32.ge_u (local.get $i) (local.get $nq)))
        (local.set $qp (i32.add (local.get $qPtr) (i32.mul (local.get $i) (local.get $qStride))))
        (local.set $gqp (i32.add (local.get $gqPtr) (i32.mul (local.get $i) (local.get $qStride))))
        (local.set $cp (i32.add (local.get $cPtr) (i32.mul (local.get $i) (local.get $cStride))))
        (local.set $j (i32.const 0))
        (block $candsDone
          (loop $cands
            (br_if $candsDone (i32.ge_u (local.get $j) (local.get $nx)))
            (local.set $s0 (f32x4.splat (f32.load (local.get $cp))))
            (local.set $s1 (f32x4.splat (f32.load offset=4 (local.get $cp))))
            (local.set $s2 (f32x4.splat (f32.load offset=8 (local.get $cp))))
            (local.set $s3 (f32x4.splat (f32.load offset=12 (local.get $cp))))
            ;; four coefficients of 0: nothing to add
            (if (v128.any_true (v128.load (local.get $cp)))
              (then
                (local.set $x0p (i32.add (local.get $xPtr) (i32.mul (local.get $j) (local.get $xStride))))
                (local.set $x1p (i32.add (local.get $x0p) (local.get $xStride)))
                (local.set $x2p (i32.add (local.get $x1p) (local.get $xStride)))
                (local.set $x3p (i32.add (local.get $x2p) (local.get $xStride)))
                (local.set $g0p (i32.add (local.get $gxPtr) (i32.mul (local.get $j) (local.get $xStride))))
                (local.set $g1p (i32.add (local.get $g0p) (local.get $xStride)))
                (local.set $g2p (i32.add (local.get $g1p) (local.get $xStride)))
                (local.set $g3p (i32.add (local.get $g2p) (local.get $xStride)))
                (local.set $kk (i32.const 0))
                (block $kDone
                  (loop $k
                    (br_if $kDone (i32.ge_u (local.get $kk) (local.get $kBytes)))
                    (local.set $q (v128.load (i32.add (local.get $qp) (local.get $kk))))
                    ;; s = c * sign(q - x): c where q > x, -c where q < x, 0 where equal
                    (local.set $d (f32x4.sub (local.get $q) (v128.load (i32.add (local.get $x0p) (local.get $kk)))))
                    (local.set $s (f32x4.sub
                      (v128.and (local.get $s0) (f32x4.gt (local.get $d) (v128.const i32x4 0 0 0 0)))
                      (v128.and (local.get $s0) (f32x4.lt (local.get $d) (v128.const i32x4 0 0 0 0)))))
                    (v128.store (i32.add (local.get $g0p) (local.get $kk))
                      (f32x4.add (v128.load (i32.add (local.get $g0p) (local.get $kk))) (local.get $s)))
                    (local.set $acc (local.get $s))
                    (local.set $d (f32x4.sub (local.get $q) (v128.load (i32.add (local.get $x1p) (local.get $kk)))))
                    (local.set $s (f32x4.sub
                      (v128.and (local.get $s1) (f32x4.gt (local.get $d) (v128.const i32x4 0 0 0 0)))
                      (v128.and (local.get $s1) (f32x4.lt (local.get $d) (v128.const i32x4 0 0 0 0)))))
                    (v128.store (i32.add (local.get $g1p) (local.get $kk))
                      (f32x4.add (v128.load (i32.add (local.get $g1p) (local.get $kk))) (local.get $s)))
                    (local.set $acc (f32x4.add (local.get $acc) (local.get $s)))
                    (local.set $d (f32x4.sub (local.get $q) (v128.load (i32.add (local.get $x2p) (local.get $kk)))))
                    (local.set $s (f32x4.sub
                      (v128.and (local.get $s2) (f32x4.gt (local.get $d) (v128.const i32x4 0 0 0 0)))
                      (v128.and (local.get $s2) (f32x4.lt (local.get $d) (v128.const i32x4 0 0 0 0)))))
                    (v128.store (i32.add (local.get $g2p) (local.get $kk))
                      (f32x4.add (v128.load (i32.add (local.get $g2p) (local.get $kk))) (local.get $s)))
                    (local.set $acc (f32x4.add (local.get $acc) (local.get $s)))
                    (local.set $d (f32x4.sub (local.get $q) (v128.load (i32.add (local.get $x3p) (local.get $kk)))))
                    (local.set $s (f32x4.sub
                      (v128.and (local.get $s3) (f32x4.gt (local.get $d) (v128.const i32x4 0 0 0 0)))
                      (v128.and (local.get $s3) (f32x4.lt (local.get $d) (v128.const i32x4 0 0 0 0)))))
                    (v128.store (i32.add (local.get $g3p) (local.get $kk))
                      (f32x4.add (v128.load (i32.add (local.get $g3p) (local.get $kk))) (local.get $s)))
                    (local.set $acc (f32x4.add (local.get $acc) (local.get $s)))
                    (v128.store (i32.add (local.get $gqp) (local.get $kk))
                      (f32x4.sub (v128.load (i32.add (local.get $gqp) (local.get $kk))) (local.get $acc)))
                    (local.set $kk (i32.add (local.get $kk) (i32.const 16)))
                    (br $k)))))
            (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cands)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $queries))))

  (func $rotateGrad (export "rotateGrad")
    (param $qPtr i32) (param $nq i32) (param $qStride i32) (param $xPtr i32) (param $nx i32)
    (param $xStride i32) (param $kBytes i32) (param $imOff i32) (param $cPtr i32) (param $cStride i32)
    (param $gqPtr i32) (param $gxPtr i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $qp i32) (local $gqp i32) (local $cp i32)
    (local $xp i32) (local $gp i32) (local $jj i32)
    (local $sc v128) (local $qre v128) (local $qim v128) (local $dre v128) (local $dim v128)
    (local $m v128) (local $inv v128) (local $sre v128) (local $sim v128)
    (local $c f32)
    (local.set $i (i32.const 0))
    (block $queriesDone
      (loop $queries
        (br_if $queriesDone (i32.ge_u (local.get $i) (local.get $nq)))
        (local.set $qp (i32.add (local.get $qPtr) (i32.mul (local.get $i) (local.get $qStride))))
        (local.set $gqp (i32.add (local.get $gqPtr) (i32.mul (local.get $i) (local.get $qStride))))
        (local.set $cp (i32.add (local.get $cPtr) (i32.mul (local.get $i) (local.get $cStride))))
        (local.set $j (i32.const 0))
        (block $candsDone
          (loop $cands
            (br_if $candsDone (i32.ge_u (local.get $j) (local.get $nx)))
            (local.set $c (f32.load (local.get $cp)))
            (if (f32.ne (local.get $c) (f32.const 0))
              (then
                (local.set $sc (f32x4.splat (local.get $c)))
                (local.set $xp (i32.add (local.get $xPtr) (i32.mul (local.get $j) (local.get $xStride))))
                (local.set $gp (i32.add (local.get $gxPtr) (i32.mul (local.get $j) (local.get $xStride))))
                (local.set $kk (i32.const 0))
                (block $kDone
                  (loop $k
                    (br_if $kDone (i32.ge_u (local.get $kk) (local.get $kBytes)))
                    (local.set $jj (i32.add (local.get $kk) (local.get $imOff)))
                    (local.set $dre (f32x4.sub
                      (v128.load (i32.add (local.get $qp) (local.get $kk)))
                      (v128.load (i32.add (local.get $xp) (local.get $kk)))))
                    (local.set $dim (f32x4.sub
                      (v128.load (i32.add (local.get $qp) (local.get $jj)))
                      (v128.load (i32.add (local.get $xp) (local.get $jj)))))
                    (local.set $m (f32x4.sqrt (f32x4.add
                      (f32x4.mul (local.get $dre) (local.get $dre))
                      (f32x4.mul (local.get $dim) (local.get $dim)))))
                    ;; c / m, and 0 where m = 0 (the subgradient at a zero distance)
                    (local.set $inv (v128.and
                      (f32x4.div (local.get $sc) (local.get $m))
                      (f32x4.gt (local.get $m) (v128.const i32x4 0 0 0 0))))
                    (local.set $sre (f32x4.mul (local.get $dre) (local.get $inv)))
                    (local.set $sim (f32x4.mul (local.get $dim) (local.get $inv)))
                    (v128.store (i32.add (local.get $gp) (local.get $kk))
                      (f32x4.add (v128.load (i32.add (local.get $gp) (local.get $kk))) (local.get $sre)))
                    (v128.store (i32.add (local.get $gp) (local.get $jj))
                      (f32x4.add (v128.load (i32.add (local.get $gp) (local.get $jj))) (local.get $sim)))
                    (v128.store (i32.add (local.get $gqp) (local.get $kk))
                      (f32x4.sub (v128.load (i32.add (local.get $gqp) (local.get $kk))) (local.get $sre)))
                    (v128.store (i32.add (local.get $gqp) (local.get $jj))
                      (f32x4.sub (v128.load (i32.add (local.get $gqp) (local.get $jj))) (local.get $sim)))
                    (local.set $kk (i32.add (local.get $kk) (i32.const 16)))
                    (br $k)))))
            (local.set $cp (i32.add (local.get $cp) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cands)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $queries))))
  (func $logistic (export "logistic")
    (param $sPtr i32) (param $n i32) (param $k i32) (param $kPad i32) (param $gamma f32) (param $invK f32)
    (param $cPtr i32) (param $lossPtr i32)
    (local $i i32) (local $j i32) (local $sp i32) (local $cp i32)
    (local $z v128) (local $x v128) (local $nn v128) (local $r v128) (local $p v128) (local $e v128)
    (local $s v128) (local $s2 v128) (local $l v128) (local $sig v128) (local $acc v128) (local $lane v128)
    (local $g v128) (local $w v128)
    (local.set $g (f32x4.splat (local.get $gamma)))
    (local.set $w (f32x4.splat (local.get $invK)))
    (local.set $i (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sp (i32.add (local.get $sPtr) (i32.mul (i32.mul (local.get $i) (local.get $kPad)) (i32.const 4))))
        (local.set $cp (i32.add (local.get $cPtr) (i32.mul (i32.mul (local.get $i) (local.get $kPad)) (i32.const 4))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $kPad)))
            (local.set $z (f32x4.add (local.get $g) (v128.load (local.get $sp))))
            ;; x = -|z|, clamped at -87 (exp is flushed to 0 below)
            (local.set $x (f32x4.max (f32x4.neg (f32x4.abs (local.get $z))) (v128.const f32x4 -87 -87 -87 -87)))
            ;; n = nearest(x / ln 2), r = x - n ln 2 (in two parts)
            (local.set $nn (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
            (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $nn) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
            (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $nn) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4))))
            ;; p = exp(r) by Horner: 1 + r(1 + r/2(1 + r/3(... (1 + r/7))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $r) (v128.const f32x4 0.142857143 0.142857143 0.142857143 0.142857143))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (f32x4.mul (local.get $r) (v128.const f32x4 0.166666667 0.166666667 0.166666667 0.166666667)) (local.get $p))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (f32x4.mul (local.get $r) (v128.const f32x4 0.2 0.2 0.2 0.2)) (local.get $p))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (f32x4.mul (local.get $r) (v128.const f32x4 0.25 0.25 0.25 0.25)) (local.get $p))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (f32x4.mul (local.get $r) (v128.const f32x4 0.333333333 0.333333333 0.333333333 0.333333333)) (local.get $p))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (f32x4.mul (local.get $r) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $p))))
            (local.set $p (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $r) (local.get $p))))
            ;; e = p * 2^n (n in [-126, 0]), and 0 where x was clamped
            (local.set $e (f32x4.mul (local.get $p)
              (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $nn)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
            (local.set $e (v128.and (local.get $e)
              (f32x4.gt (f32x4.neg (f32x4.abs (local.get $z))) (v128.const f32x4 -87 -87 -87 -87))))
            ;; log1p(e) = 2 s (1 + s^2/3 + s^4/5 + ... + s^12/13), s = e / (2 + e)
            (local.set $s (f32x4.div (local.get $e) (f32x4.add (v128.const f32x4 2 2 2 2) (local.get $e))))
            (local.set $s2 (f32x4.mul (local.get $s) (local.get $s)))
            (local.set $l (f32x4.add (v128.const f32x4 0.0909090909 0.0909090909 0.0909090909 0.0909090909) (f32x4.mul (local.get $s2) (v128.const f32x4 0.0769230769 0.0769230769 0.0769230769 0.0769230769))))
            (local.set $l (f32x4.add (v128.const f32x4 0.111111111 0.111111111 0.111111111 0.111111111) (f32x4.mul (local.get $s2) (local.get $l))))
            (local.set $l (f32x4.add (v128.const f32x4 0.142857143 0.142857143 0.142857143 0.142857143) (f32x4.mul (local.get $s2) (local.get $l))))
            (local.set $l (f32x4.add (v128.const f32x4 0.2 0.2 0.2 0.2) (f32x4.mul (local.get $s2) (local.get $l))))
            (local.set $l (f32x4.add (v128.const f32x4 0.333333333 0.333333333 0.333333333 0.333333333) (f32x4.mul (local.get $s2) (local.get $l))))
            (local.set $l (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $s2) (local.get $l))))
            (local.set $l (f32x4.mul (f32x4.add (local.get $s) (local.get $s)) (local.get $l)))
            ;; softplus(z) = max(z, 0) + log1p(e); sigmoid(z) = (z >= 0 ? 1 : e) / (1 + e)
            (local.set $l (f32x4.add (f32x4.max (local.get $z) (v128.const f32x4 0 0 0 0)) (local.get $l)))
            (local.set $sig (f32x4.div
              (v128.bitselect (v128.const f32x4 1 1 1 1) (local.get $e) (f32x4.ge (local.get $z) (v128.const f32x4 0 0 0 0)))
              (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
            ;; lanes j < k count; padding lanes give 0
            (local.set $lane (i32x4.lt_s
              (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3))
              (i32x4.splat (local.get $k))))
            (v128.store (local.get $cp) (v128.and (f32x4.mul (local.get $sig) (local.get $w)) (local.get $lane)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.and (local.get $l) (local.get $lane))))
            (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
            (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols)))
        (f32.store
          (i32.add (local.get $lossPtr) (i32.mul (local.get $i) (i32.const 4)))
          (f32.mul (local.get $invK)
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
              (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
