;; WebAssembly SIMD128 kernels of the parameter server's update path (loaded
;; by src/ps/wasm/kernel.ts; compiled by scripts/build-wasm.mjs into
;; dist/src/ps/wasm/update.wasm).
;;
;; They run on a table's own shared memory: the table's rows (a Seqlock
;; region at the start of the memory) and, after them, a scratch area that
;; each thread grows for itself, into which the thread copies a push's row
;; indices and gradients before checking and applying them. Every pointer is
;; a byte address in that memory; rows are `width` floats, any width >= 1
;; (the last width % 4 floats of a row take a scalar tail).
;;
;;   sumsq(g, n) -> f64
;;     The sum of the squares of the n float32 at g, in float64 (four
;;     two-lane partial sums, then their sum). Each square is at most (2^128)^2 = 2^256, so the sum
;;     of fewer than 2^700 of them is finite exactly when every value is
;;     finite: it is the push's finite check and its squared norm at once.
;;
;;   sgd(x, rows, count, width, g, lr)
;;     For i < count: row r = rows[i] (int32 at rows + 4i) of the table at x,
;;     x[r][q] -= lr * g[i][q] for q < width, gradient row i at g + 4*i*width.
;;
;;   adagrad(x, rows, count, width, g, lr, acc)
;;     Element-wise Adagrad of the same rows, the accumulators at acc (rows
;;     of width float32, row r at acc + 4*r*width, in the same memory):
;;     a = acc[r][q] + g*g; acc[r][q] = a; x[r][q] -= (lr * g) / (sqrt(a) + eps).
;;
;;   accumulate(sums, rows, count, width, g)
;;     Sync mode's pending step: for i < count, sums[r][q] += g[i][q] in
;;     float64 (r = rows[i]; sums rows of width float64 at sums; gradient
;;     rows of width float32 at g), as sync-step.ts adds a push: each float32
;;     is exact in float64, and each lane's add is the same IEEE addition.
;;
;;   average(sums, rows, m, width, n, out) -> f64
;;     For j < m: out[j][q] = float32(sums[r][q] / n), sums[r][q] = 0
;;     (r = rows[j]; out rows of width float32). Returns the sum over the
;;     rows of the squares of the float32 averages, in float64 (lane
;;     order: equal to a sequential sum to rounding).
;;
;; SGD is float32 arithmetic, as update-rules.ts's `sgdStep` computes it: the
;; step lr * g rounded to float32 (lr a float32), then subtracted in float32.
;; f32x4.mul and f32x4.sub round each lane as float32 * and - do, so the
;; kernels and `sgdStep` agree bit for bit. Adagrad is float32 arithmetic as
;; `adagradStep` computes it: f32x4 mul, add, sqrt and div round each lane
;; as the float32 operations do, so they agree bit for bit too
;; (test/ps/ps-update-kernels-match-the-js-rules.test.ts).
(module
  (import "env" "mem" (memory 1 65536 shared))

  (func $sumsq (export "sumsq") (param $g i32) (param $n i32) (result f64)
    (local $end i32) (local $v v128) (local $w v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $s f64) (local $f f64)
    (local.set $a (f64x2.splat (f64.const 0)))
    (local.set $b (f64x2.splat (f64.const 0)))
    (local.set $c (f64x2.splat (f64.const 0)))
    (local.set $d (f64x2.splat (f64.const 0)))
    ;; 8 floats per step into four float64x2 sums (four independent chains of adds)
    (local.set $end (i32.add (local.get $g) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $g)))
        (local.set $w (v128.load offset=16 align=4 (local.get $g)))
        (local.set $a (f64x2.add (local.get $a)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.promote_low_f32x4 (local.get $v)))))
        (local.set $c (f64x2.add (local.get $c)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $w)) (f64x2.promote_low_f32x4 (local.get $w)))))
        ;; the high two lanes of each, moved low
        (local.set $v (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
        (local.set $w (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))
        (local.set $b (f64x2.add (local.get $b)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (f64x2.promote_low_f32x4 (local.get $v)))))
        (local.set $d (f64x2.add (local.get $d)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $w)) (f64x2.promote_low_f32x4 (local.get $w)))))
        (local.set $g (i32.add (local.get $g) (i32.const 32)))
        (br $eight)))
    (local.set $a (f64x2.add (f64x2.add (local.get $a) (local.get $b)) (f64x2.add (local.get $c) (local.get $d))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    ;; the last n % 8 floats, one at a time
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 2))))
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.ge_u (local.get $g) (local.get $end)))
        (local.set $f (f64.promote_f32 (f32.load (local.get $g))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $f) (local.get $f))))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  ;; x[0 .. width) -= lr * g[0 .. width), float32 (x, g: byte addresses of one row each)
  (func $sgd_row (param $x i32) (param $g i32) (param $width i32) (param $lr v128)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store align=4 (local.get $x)
          (f32x4.sub (v128.load align=4 (local.get $x))
                     (f32x4.mul (local.get $lr) (v128.load align=4 (local.get $g)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $four)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $width) (i32.const 3)) (i32.const 2))))
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $x)
          (f32.sub (f32.load (local.get $x))
                   (f32.mul (f32x4.extract_lane 0 (local.get $lr)) (f32.load (local.get $g)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $tail))))

  (func $sgd (export "sgd")
    (param $x i32) (param $rows i32) (param $count i32) (param $width i32) (param $g i32) (param $lr f32)
    (local $i i32) (local $rowBytes i32) (local $lrv v128)
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (call $sgd_row
          (i32.add (local.get $x)
                   (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2))))
                            (local.get $rowBytes)))
          (local.get $g) (local.get $width) (local.get $lrv))
        (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

;; one row of element-wise Adagrad, float32 (x, g, a: byte addresses of one row each)
  (func $adagrad_row (param $x i32) (param $g i32) (param $a i32) (param $width i32) (param $lr v128)
    (local $end i32) (local $gv v128) (local $av v128) (local $eps v128)
    (local $gs f32) (local $as f32)
    (local.set $eps (f32x4.splat (f32.const 1e-10)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $gv (v128.load align=4 (local.get $g)))
        (local.set $av (f32x4.add (v128.load align=4 (local.get $a)) (f32x4.mul (local.get $gv) (local.get $gv))))
        (v128.store align=4 (local.get $a) (local.get $av))
        (v128.store align=4 (local.get $x)
          (f32x4.sub (v128.load align=4 (local.get $x))
                     (f32x4.div (f32x4.mul (local.get $lr) (local.get $gv))
                                (f32x4.add (f32x4.sqrt (local.get $av)) (local.get $eps)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $four)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $width) (i32.const 3)) (i32.const 2))))
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $gs (f32.load (local.get $g)))
        (local.set $as (f32.add (f32.load (local.get $a)) (f32.mul (local.get $gs) (local.get $gs))))
        (f32.store (local.get $a) (local.get $as))
        (f32.store (local.get $x)
          (f32.sub (f32.load (local.get $x))
                   (f32.div (f32.mul (f32x4.extract_lane 0 (local.get $lr)) (local.get $gs))
                            (f32.add (f32.sqrt (local.get $as)) (f32.const 1e-10)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $tail))))

  (func $adagrad (export "adagrad")
    (param $x i32) (param $rows i32) (param $count i32) (param $width i32) (param $g i32) (param $lr f32)
    (param $acc i32)
    (local $i i32) (local $rowBytes i32) (local $off i32) (local $lrv v128)
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $off
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2))))
                   (local.get $rowBytes)))
        (call $adagrad_row
          (i32.add (local.get $x) (local.get $off))
          (local.get $g)
          (i32.add (local.get $acc) (local.get $off))
          (local.get $width) (local.get $lrv))
        (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  (func $accumulate (export "accumulate")
    (param $sums i32) (param $rows i32) (param $count i32) (param $width i32) (param $g i32)
    (local $i i32) (local $s i32) (local $end i32) (local $v v128)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s
          (i32.add (local.get $sums)
                   (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2))))
                            (i32.shl (local.get $width) (i32.const 3)))))
        ;; 4 floats (two float64x2 sums) per step, then the tail one by one
        (local.set $end (i32.add (local.get $g) (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2))))
        (block $vdone
          (loop $four
            (br_if $vdone (i32.ge_u (local.get $g) (local.get $end)))
            (local.set $v (v128.load align=4 (local.get $g)))
            (v128.store align=8 (local.get $s)
              (f64x2.add (v128.load align=8 (local.get $s)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 align=8 (local.get $s)
              (f64x2.add (v128.load offset=16 align=8 (local.get $s))
                         (f64x2.promote_low_f32x4
                           (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (br $four)))
        (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $width) (i32.const 3)) (i32.const 2))))
        (block $tdone
          (loop $tail
            (br_if $tdone (i32.ge_u (local.get $g) (local.get $end)))
            (f64.store (local.get $s) (f64.add (f64.load (local.get $s)) (f64.promote_f32 (f32.load (local.get $g)))))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (br $tail)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  (func $average (export "average")
    (param $sums i32) (param $rows i32) (param $m i32) (param $width i32) (param $n f64) (param $out i32)
    (result f64)
    (local $j i32) (local $s i32) (local $end i32) (local $nv v128) (local $zero v128)
    (local $a v128) (local $b v128) (local $sq v128) (local $t f64) (local $f f32)
    (local.set $nv (f64x2.splat (local.get $n)))
    (local.set $zero (f64x2.splat (f64.const 0)))
    (local.set $sq (f64x2.splat (f64.const 0)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $s
          (i32.add (local.get $sums)
                   (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $j) (i32.const 2))))
                            (i32.shl (local.get $width) (i32.const 3)))))
        (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2))))
        (block $vdone
          (loop $four
            (br_if $vdone (i32.ge_u (local.get $out) (local.get $end)))
            ;; two float64x2 averages, each rounded to float32 (low lanes), joined into one float32x4
            (local.set $a (f32x4.demote_f64x2_zero (f64x2.div (v128.load align=8 (local.get $s)) (local.get $nv))))
            (local.set $b
              (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=16 align=8 (local.get $s)) (local.get $nv))))
            (local.set $a (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b)))
            (v128.store align=4 (local.get $out) (local.get $a))
            (v128.store align=8 (local.get $s) (local.get $zero))
            (v128.store offset=16 align=8 (local.get $s) (local.get $zero))
            (local.set $b (f64x2.promote_low_f32x4 (local.get $a)))
            (local.set $sq (f64x2.add (local.get $sq) (f64x2.mul (local.get $b) (local.get $b))))
            (local.set $b (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))
            (local.set $sq (f64x2.add (local.get $sq) (f64x2.mul (local.get $b) (local.get $b))))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (br $four)))
        (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $width) (i32.const 3)) (i32.const 2))))
        (block $tdone
          (loop $tail
            (br_if $tdone (i32.ge_u (local.get $out) (local.get $end)))
            (local.set $f (f32.demote_f64 (f64.div (f64.load (local.get $s)) (local.get $n))))
            (f32.store (local.get $out) (local.get $f))
            (f64.store (local.get $s) (f64.const 0))
            (local.set $t (f64.add (local.get $t) (f64.mul (f64.promote_f32 (local.get $f)) (f64.promote_f32 (local.get $f)))))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 8)))
            (br $tail)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $row)))
    (f64.add (local.get $t) (f64.add (f64x2.extract_lane 0 (local.get $sq)) (f64x2.extract_lane 1 (local.get $sq))))))
