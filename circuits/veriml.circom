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
template Requant(S, KD, SIGNED, HIMODE, J, W) {
    signal input u;
    signal output y;

    component bits = Num2Bits(S + KD + SIGNED);
    bits.in <== u;

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
