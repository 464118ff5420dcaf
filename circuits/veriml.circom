pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// Requantisation with clamping, sized from proven bounds (see src/circuit/requant.ts).
//
// The caller passes u = t - BASE·2^S + SIGNED·2^(KD+S), where t = x·mul + 2^(S-1) + zp·2^S
// is the pre-shift value and q = floor(t / 2^S) is the rounded, rescaled value. The proven
// bounds of x guarantee u ∈ [0, 2^(S+KD+SIGNED)), so ONE bit decomposition of u
//   - range-checks the remainder r (bits 0..S-1) — the `<--` hints are the bits, each boolean,
//     and the recomposition equals u, so q and r are unique: q·2^S + r = t with r ∈ [0, 2^S);
//   - yields d = q - BASE in bits S..S+KD-1, and for SIGNED its sign: bit S+KD = (q ≥ BASE).
// The output is y = clamp(q, BASE, BASE + W) - BASE; the caller adds BASE back (a constant).
//   HIMODE 0: no upper clamp (the bounds prove q ≤ BASE + W, or there is no upper bound).
//   HIMODE 1: W + 1 = 2^J: q > BASE + W iff some bit J..KD-1 of d is set — one IsZero.
//   HIMODE 2: any W: one more decomposition compares d with W.
//
// EVEN 1 rounds half to even (ties go to the even quotient) instead of half up. A tie is
// exactly t ≡ 0 (mod 2^S); the half-even quotient is then the half-up one minus 1 when the
// half-up quotient is odd, which is the quotient of t - 1 (remainder 2^S - 1). So the prover
// supplies e = [tie and half-up odd] and the gadget decomposes u' = u - e instead of u: the
// quotient of u' is the half-even quotient and the clamp logic is unchanged. With r' the
// remainder of u' and par = parity of its quotient before the zero point (bit S XOR PAR,
// PAR = (BASE + zp) mod 2; needs KD ≥ 1, which planRequant guarantees), e is determined by
//   (1) e boolean;
//   (2) e · (2^S - 1 - r' + par) = 0: e = 1 only if r' = 2^S - 1 (so u was a tie) and the new
//       quotient is even (so the half-up one was odd) — both terms are ≥ 0 and small, so the
//       sum is 0 only if both are;
//   (3) w · winv = 1 with w = r' + (1 - par)·2^S + e·2^(S+1): w ≠ 0, i.e. NOT (e = 0, r' = 0 and
//       par = 1) — a tie with an odd quotient must take e = 1. winv = 1/w is determined.
// For a non-tie, (2) forces e = 0; for a tie, (2) and (3) leave exactly the right e. The
// caller's bounds are the half-even ones, so u' stays in [0, 2^(S+KD+SIGNED)).
template Requant(S, KD, SIGNED, HIMODE, J, W, EVEN, PAR) {
    signal input u;
    signal output y;

    component bits = Num2Bits(S + KD + SIGNED);
    if (EVEN == 0) {
        bits.in <== u;
    } else {
        signal e;
        e <-- (u % (2 ** S) == 0 && (u \ (2 ** S)) % 2 != PAR) ? 1 : 0;
        e * (e - 1) === 0;
        bits.in <== u - e;
        var rem = 0;
        for (var i = 0; i < S; i++) rem += bits.out[i] * (2 ** i);
        var par = PAR + (1 - 2 * PAR) * bits.out[S];
        e * (2 ** S - 1 - rem + par) === 0;
        signal winv;
        winv <-- 1 / (rem + (1 - par) * (2 ** S) + e * (2 ** (S + 1)));
        winv * (rem + (1 - par) * (2 ** S) + e * (2 ** (S + 1))) === 1;
    }

    var low = 0;
    for (var i = 0; i < KD; i++) low += bits.out[S + i] * (2 ** i);

    var capped;
    if (HIMODE == 0) {
        capped = low;
    } else if (HIMODE == 1) {
        var high = 0;
        for (var i = J; i < KD; i++) high += bits.out[S + i] * (2 ** i);
        var lowJ = 0;
        for (var i = 0; i < J; i++) lowJ += bits.out[S + i] * (2 ** i);
        component isz = IsZero();
        isz.in <== high;
        signal m;
        m <== isz.out * (lowJ - W);
        capped = W + m;
    } else {
        // low - W - 1 + 2^KD ∈ [0, 2^(KD+1)) because 0 ≤ low < 2^KD and 0 ≤ W < 2^KD - 1.
        component cmp = Num2Bits(KD + 1);
        cmp.in <== low - W - 1 + 2 ** KD;
        signal m;
        m <== cmp.out[KD] * (W - low);
        capped = low + m;
    }

    if (SIGNED == 1) {
        y <== bits.out[S + KD] * capped;
    } else {
        y <== capped;
    }
}

// y = max(a', b') with a' = MA·a + CA and b' = MB·b + CB: the caller passes the raw signals of
// its affine refs, so connecting them costs no linear constraint. The caller's proven bounds
// give d = a' - b' ∈ (-2^K, 2^K), so u = d + 2^K ∈ (0, 2^(K+1)): its K+1 bits (each boolean,
// recomposing to u, which cannot wrap the field) are unique, and bit K = [d ≥ 0] = [a' ≥ b'].
// y = b' + s·d is then max(a', b'). K + 3 constraints (int8 operands: K = 8, 11).
template Max2(K, MA, CA, MB, CB) {
    signal input a;
    signal input b;
    signal output y;

    signal bit[K + 1];
    var sum = 0;
    for (var i = 0; i <= K; i++) {
        bit[i] <-- ((MA * a + CA - MB * b - CB + 2 ** K) >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        sum += bit[i] * (2 ** i);
    }
    sum === MA * a + CA - MB * b - CB + 2 ** K;
    y <== MB * b + CB + bit[K] * (MA * a + CA - MB * b - CB);
}

// y = T[v] with v = M·x + C, for a v the caller's bounds prove in [0, N), N ≤ A·B, A, B ≥ 2.
// v = B·h + l is split into one-hot rows H[0..A) and columns L[0..B); index 0 of each is
// implicit (H_0 = 1 - Σ_{h≥1} H_h), every H_h, L_l including the implicit one is boolean, so
// each is one-hot (a sum of booleans below p is 1 only if exactly one is set), and
// v = B·h + l with h < A, l < B pins (h, l) since v < A·B < p. The row value
// r_h = Σ_l T[h·B + l]·L_l is linear (T is constant); y = r_0 + Σ_{h≥1} H_h·(r_h - r_0) = r_h
// for the selected row, the last product folded into y's constraint. Entries past N are never
// selected. 2A + B constraints (256 entries: A = 10, B = 26, 46).
template Lookup(N, A, B, M, C, T) {
    signal input x;
    signal output y;

    signal hb[A - 1];
    signal lb[B - 1];
    var hsum = 0;
    var hidx = 0;
    for (var k = 0; k < A - 1; k++) {
        hb[k] <-- ((M * x + C) \ B == k + 1) ? 1 : 0;
        hb[k] * (hb[k] - 1) === 0;
        hsum += hb[k];
        hidx += (k + 1) * hb[k];
    }
    hsum * (1 - hsum) === 0;
    var lsum = 0;
    var lidx = 0;
    for (var k = 0; k < B - 1; k++) {
        lb[k] <-- ((M * x + C) % B == k + 1) ? 1 : 0;
        lb[k] * (lb[k] - 1) === 0;
        lsum += lb[k];
        lidx += (k + 1) * lb[k];
    }
    lsum * (1 - lsum) === 0;
    B * hidx + lidx === M * x + C;

    var row[A];
    for (var h = 0; h < A; h++) {
        var t0 = 0;
        if (h * B < N) t0 = T[h * B];
        row[h] = t0;
        for (var k = 0; k < B - 1; k++) {
            var t = 0;
            if (h * B + k + 1 < N) t = T[h * B + k + 1];
            row[h] += (t - t0) * lb[k];
        }
    }
    signal p[A - 2];
    var acc = row[0];
    for (var k = 0; k < A - 2; k++) {
        p[k] <== hb[k] * (row[k + 1] - row[0]);
        acc += p[k];
    }
    y <== acc + hb[A - 2] * (row[A - 1] - row[0]);
}

// y = round(a'·2^S / d'), half up, with a' = MA·a + CA and d' = MD·d + CD (the caller's affine
// refs; a constant operand is the signal 0 with MA or MD = 0). Exactly
// y = floor((2^(S+1)·a' + d') / (2d')). Hints: y (as YLO + its YB bits) and the remainder r
// (its RB bits). Constraints: y·(2d') = 2^(S+1)·a' + d' − r; the bits of r and of
// 2d' − 1 − r (so 0 ≤ r < 2d'); the bits of y − YLO. The caller's proven bounds give d' ≥ 1,
// YLO ≤ y < YLO + 2^YB, 2d' ≤ 2^RB and keep every term far below p (src/circuit/div.ts), so
// the identity holds over the integers and y is the rounded quotient, unique.
// YB + 2·RB + 3 constraints (d ≤ 2^16, y over 2^10 values: RB = 17, YB = 10, 47).
template Div(S, RB, YB, YLO, MA, CA, MD, CD) {
    signal input a;
    signal input d;
    signal output y;
    signal rb[RB];
    signal sb[RB];
    signal yb[YB];
    var an = MA * a + CA;
    var dn = MD * d + CD;
    // The honest num = 2d'·(y − YLO) + r is ≥ 0, so `\` and `%` of its field value are exact.
    var num = 2 ** (S + 1) * an + dn - 2 * dn * YLO;
    var q = num \ (2 * dn);
    var r = num % (2 * dn);
    var ysum = 0;
    for (var i = 0; i < YB; i++) {
        yb[i] <-- (q >> i) & 1;
        yb[i] * (yb[i] - 1) === 0;
        ysum += yb[i] * (2 ** i);
    }
    y <== YLO + ysum;
    var rsum = 0;
    var ssum = 0;
    for (var i = 0; i < RB; i++) {
        rb[i] <-- (r >> i) & 1;
        rb[i] * (rb[i] - 1) === 0;
        rsum += rb[i] * (2 ** i);
        sb[i] <-- ((2 * dn - 1 - r) >> i) & 1;
        sb[i] * (sb[i] - 1) === 0;
        ssum += sb[i] * (2 ** i);
    }
    ssum === 2 * dn - 1 - rsum;
    y * (2 * dn) === 2 ** (S + 1) * an + dn - rsum;
}

// floor(√v) for 0 ≤ v < 4^n: the largest y < 2^n with y² ≤ v, one bit at a time from the top.
function veriml_isqrt(v, n) {
    var y = 0;
    for (var i = n - 1; i >= 0; i--) {
        if ((y + 2 ** i) * (y + 2 ** i) <= v) y += 2 ** i;
    }
    return y;
}

// y = floor(√x') with x' = MX·x + CX ≥ 0 (the caller's affine ref). Hints: y (as YLO + its YB
// bits) and r = x' − y² (its W bits). Constraints: y·y = x' − r; the bits of r and of 2y − r
// (so 0 ≤ r ≤ 2y: y² ≤ x' < (y + 1)²); the bits of y − YLO, without which a field element
// −(y + 1) could pass. The caller's bounds give YLO ≤ y < YLO + 2^YB, 2y ≤ 2^W − 1 and
// x' < 2^SAFE_BITS, so nothing wraps (src/circuit/isqrt.ts). YB + 2·W + 3 constraints
// (y ≤ 2^10 from 0: YB = 10, W = 11, 35).
template Isqrt(YB, W, YLO, MX, CX) {
    signal input x;
    signal output y;
    signal rb[W];
    signal sb[W];
    signal yb[YB];
    var xv = MX * x + CX;
    var n = 0;
    while (2 ** n < YLO + 2 ** YB) n++;
    var root = veriml_isqrt(xv, n);
    var q = root - YLO;
    var r = xv - root * root;
    var ysum = 0;
    for (var i = 0; i < YB; i++) {
        yb[i] <-- (q >> i) & 1;
        yb[i] * (yb[i] - 1) === 0;
        ysum += yb[i] * (2 ** i);
    }
    y <== YLO + ysum;
    var rsum = 0;
    var ssum = 0;
    for (var i = 0; i < W; i++) {
        rb[i] <-- (r >> i) & 1;
        rb[i] * (rb[i] - 1) === 0;
        rsum += rb[i] * (2 ** i);
        sb[i] <-- ((2 * root - r) >> i) & 1;
        sb[i] * (sb[i] - 1) === 0;
        ssum += sb[i] * (2 ** i);
    }
    ssum === 2 * y - rsum;
    y * y === xv - rsum;
}
