// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClaimLayout} from "../optimistic/ClaimLayout.sol";
import {IntegerOps} from "../optimistic/IntegerOps.sol";
import {LanePacking} from "./LanePacking.sol";
import {LinearRows} from "./LinearRows.sol";
import {ProgramInputs} from "./ProgramInputs.sol";
import {ProgramReader} from "./ProgramReader.sol";

/// @notice Runs a whole integer-IR model held in memory as a program (written by
/// `src/onchain/encode.ts`), with the one-step executor's integer ops (IntegerOps), so its
/// outputs equal `src/ir/execute.ts` bit for bit. Tensors are numbered by slot: the model's
/// inputs first, then one per step. Layout (big-endian; `word` a 32-byte signed integer,
/// `array` as in ProgramReader):
///   u8 version = 2, u16 inputCount, u16 stepCount,
///   inputCount × (u32 size, word lo, word hi),
///   stepCount × (u8 kind, u32 outputSize, u8 operandCount, operandCount × u16 slot, body),
///   u16 outputCount, outputCount × (u16 slot, u8 laneBits, word lo).
/// An input packs in lanes of the bit length of its hi - lo over lo; an output in its own
/// (laneBits, lo), the layout src/ir/packing.ts `publicLayouts` proves it fits: both exactly the
/// zk circuit's public signals and the optimistic claim's words (LanePacking).
/// Bodies by kind (IntegerOps.KIND_*):
///   linear:  u8 dense, array rowPtr (size + 1), array cols (dense: one start per row), array vals, array bias
///   requant: word mul, u8 shift, word zeroPoint, u8 flags (1 lo, 2 hi, 4 half-even), word lo, word hi
///   gather:  array index, word fill
///   max:     array rowPtr (size + 1), array cols
///   lookup:  word offset, array table
///   mul:     array left, array right
///   div:     u8 shift, array num, array den
///   isqrt:   (none)
library OnchainProgram {
    using ProgramReader for uint256;

    uint256 internal constant VERSION = 2;

    /// A linear step's arrays (ProgramReader's packed form); `dense` 1 when cols holds one start per row.
    struct Linear {
        uint256 dense;
        uint256 rowPtr;
        uint256 cols;
        uint256 vals;
        uint256 bias;
    }

    /// @notice The op kind is none of the IR's.
    /// @param kind The kind.
    error UnknownOpKind(uint256 kind);
    /// @notice A column or index outside the step's concatenated operands.
    /// @param step The step.
    /// @param column The column.
    error OperandOutOfRange(uint256 step, int256 column);

    /// The outputs of the program `prog` on `input` (the model's inputs concatenated in order),
    /// and the packed input and output words (LanePacking) the statement is committed by.
    function run(bytes memory prog, int256[] calldata input)
        internal
        pure
        returns (int256[][] memory outputs, bytes memory inputPacked, bytes memory outputsPacked)
    {
        uint256 p;
        uint256 end;
        assembly ("memory-safe") {
            p := add(prog, 32)
            end := add(p, mload(prog))
        }
        uint256 version;
        uint256 inputCount;
        uint256 stepCount;
        (version, p) = p.readUint(1);
        if (version != VERSION) revert ProgramReader.ProgramMalformed(0);
        (inputCount, p) = p.readUint(2);
        (stepCount, p) = p.readUint(2);
        int256[][] memory t = new int256[][](inputCount + stepCount);
        (p, inputPacked) = ProgramInputs.read(p, inputCount, input, t);
        for (uint256 s; s < stepCount; ++s) {
            p = _step(p, t, s, inputCount + s);
        }
        (outputs, outputsPacked, p) = _outputs(p, t);
        // INVARIANT: the program was read exactly to its end; a shorter or longer one is not ours
        // (elements read past the end before this check only feed a computation that now reverts).
        if (p != end) revert ProgramReader.ProgramMalformed(p - (end - prog.length));
    }

    /// The output tensors, and their words packed in each output's layout, in order.
    function _outputs(uint256 p, int256[][] memory t)
        private
        pure
        returns (int256[][] memory outputs, bytes memory packed, uint256)
    {
        uint256 count;
        (count, p) = p.readUint(2);
        outputs = new int256[][](count);
        for (uint256 i; i < count; ++i) {
            uint256 slot;
            uint256 bits;
            int256 lo;
            (slot, p) = p.readUint(2);
            (bits, p) = p.readUint(1);
            (lo, p) = p.readWord();
            if (bits == 0 || bits > ClaimLayout.PACK_BITS) revert ProgramReader.ProgramMalformed(p);
            outputs[i] = t[slot];
            // Reverts (ValueOutsideLane) on a value outside the layout: the bounds analysis
            // proves none is, so this is a guard against a program not of this model's IR.
            packed = bytes.concat(packed, LanePacking.pack(t[slot], bits, lo, i));
        }
        return (outputs, packed, p);
    }

    /// Runs one step into slot `slot`.
    function _step(uint256 p, int256[][] memory t, uint256 s, uint256 slot) private pure returns (uint256) {
        uint256 kind;
        uint256 size;
        int256[] memory x;
        (kind, p) = p.readUint(1);
        (size, p) = p.readUint(4);
        (x, p) = _operands(p, t, slot);
        int256[] memory y = new int256[](size);
        if (kind == IntegerOps.KIND_LINEAR) p = _linear(p, s, x, y);
        else if (kind == IntegerOps.KIND_REQUANT) p = _requant(p, x, y);
        else if (kind == IntegerOps.KIND_GATHER) p = _gather(p, s, x, y);
        else if (kind == IntegerOps.KIND_MAX) p = _max(p, s, x, y);
        else if (kind == IntegerOps.KIND_LOOKUP) p = _lookup(p, x, y);
        else if (kind == IntegerOps.KIND_MUL) p = _mul(p, x, y);
        else if (kind == IntegerOps.KIND_DIV) p = _div(p, s, x, y);
        else if (kind == IntegerOps.KIND_ISQRT) _isqrt(p, x, y);
        else revert UnknownOpKind(kind);
        t[slot] = y;
        return p;
    }

    /// The concatenation of the step's operands (the tensor itself when there is one).
    function _operands(uint256 p, int256[][] memory t, uint256 slot) private pure returns (int256[] memory x, uint256) {
        uint256 count;
        uint256 id;
        (count, p) = p.readUint(1);
        // INVARIANT: a step reads only earlier slots (topological order), all already filled.
        if (count == 1) {
            (id, p) = p.readUint(2);
            if (id >= slot) revert ProgramReader.ProgramMalformed(p);
            return (t[id], p);
        }
        uint256 total;
        uint256 q = p;
        for (uint256 i; i < count; ++i) {
            (id, q) = q.readUint(2);
            if (id >= slot) revert ProgramReader.ProgramMalformed(q);
            total += t[id].length;
        }
        x = new int256[](total);
        uint256 dst;
        assembly ("memory-safe") {
            dst := add(x, 32)
        }
        for (uint256 i; i < count; ++i) {
            (id, p) = p.readUint(2);
            int256[] memory v = t[id];
            assembly ("memory-safe") {
                let bytes := shl(5, mload(v))
                mcopy(dst, add(v, 32), bytes)
                dst := add(dst, bytes)
            }
        }
        return (x, p);
    }

    /// y[j] = bias[j] + Σ vals[k] · x[cols[k]] over the row's terms.
    function _linear(uint256 p, uint256 s, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        Linear memory l;
        (l.dense, p) = p.readUint(1);
        (l.rowPtr, p) = p.readArray(y.length + 1);
        (l.cols, p) = p.readArray();
        (l.vals, p) = p.readArray();
        (l.bias, p) = p.readArray(y.length);
        // INVARIANT: cols holds one column per term, or (dense) one start column per row.
        if (l.cols.length() != (l.dense == 1 ? y.length : l.vals.length())) revert ProgramReader.ProgramMalformed(p);
        _checkRows(p, l.rowPtr, y.length, l.vals.length());
        for (uint256 j; j < y.length; ++j) {
            y[j] = _row(s, l, j, x);
        }
        return p;
    }

    /// rowPtr starts at 0, never decreases and ends at termCount: every row's terms are in range.
    function _checkRows(uint256 p, uint256 rowPtr, uint256 rows, uint256 termCount) private pure {
        if (rowPtr.item(0) != 0 || uint256(rowPtr.item(rows)) != termCount) revert ProgramReader.ProgramMalformed(p);
        for (uint256 j; j < rows; ++j) {
            if (rowPtr.item(j + 1) < rowPtr.item(j)) revert ProgramReader.ProgramMalformed(p);
        }
    }

    /// Row j of a linear step.
    function _row(uint256 s, Linear memory l, uint256 j, int256[] memory x) private pure returns (int256) {
        (uint256 k0, uint256 k1, int256 bias, uint256 start) = _rowHeader(l, j);
        if (l.dense == 1) {
            // INVARIANT: the row's last column is inside the operands (a negative start reads as
            // a huge unsigned one, and the checked sum reverts).
            if (start + (k1 - k0) > x.length) revert OperandOutOfRange(s, int256(start + (k1 - k0)));
            return bias + LinearRows.dense(l.vals, k0, k1, start, x);
        }
        (int256 acc, uint256 bad) = LinearRows.sparse(l.cols, l.vals, k0, k1, x);
        if (bad != type(uint256).max) revert OperandOutOfRange(s, int256(bad));
        return bias + acc;
    }

    /// Row j's terms k0 .. k1 - 1, its bias and (dense rows) its start column, read in one block:
    /// four ProgramReader.item calls cost a third of a short row's gas.
    function _rowHeader(Linear memory l, uint256 j)
        private
        pure
        returns (uint256 k0, uint256 k1, int256 bias, uint256 start)
    {
        assembly ("memory-safe") {
            let a := mload(add(l, 32))
            let w := and(shr(32, a), 0xff)
            let shift := sub(256, shl(3, w))
            let at := add(shr(64, a), mul(j, w))
            k0 := sar(shift, mload(at))
            k1 := sar(shift, mload(add(at, w)))
            a := mload(add(l, 128))
            w := and(shr(32, a), 0xff)
            bias := sar(sub(256, shl(3, w)), mload(add(shr(64, a), mul(j, w))))
            // For a sparse row this reads column j, which is unused.
            a := mload(add(l, 64))
            w := and(shr(32, a), 0xff)
            start := sar(sub(256, shl(3, w)), mload(add(shr(64, a), mul(j, w))))
        }
    }

    /// y = requant(x) elementwise with IntegerOps' constants [mul, shift, zeroPoint, hasLo, lo, hasHi, hi].
    function _requant(uint256 p, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        int256[] memory c = new int256[](7);
        uint256 shift;
        uint256 flags;
        (c[0], p) = p.readWord();
        (shift, p) = p.readUint(1);
        (c[2], p) = p.readWord();
        (flags, p) = p.readUint(1);
        (c[4], p) = p.readWord();
        (c[6], p) = p.readWord();
        c[1] = int256(shift);
        c[3] = int256(flags & 1);
        c[5] = int256((flags >> 1) & 1);
        // INVARIANT: an elementwise op has one output per operand element.
        if (x.length != y.length) revert ProgramReader.ProgramMalformed(p);
        bool halfEven = flags & 4 != 0;
        for (uint256 i; i < y.length; ++i) {
            y[i] = halfEven ? IntegerOps.requantHalfEven(x[i], c) : IntegerOps.requant(x[i], c);
        }
        return p;
    }

    /// y[i] = x[index[i]], or fill where index[i] = -1.
    function _gather(uint256 p, uint256 s, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        uint256 index;
        int256 fill;
        (index, p) = p.readArray(y.length);
        (fill, p) = p.readWord();
        for (uint256 i; i < y.length; ++i) {
            int256 src = index.item(i);
            if (src == -1) y[i] = fill;
            else if (src < 0 || uint256(src) >= x.length) revert OperandOutOfRange(s, src);
            else y[i] = x[uint256(src)];
        }
        return p;
    }

    /// y[i] = max of x over the row's columns (every row non-empty).
    function _max(uint256 p, uint256 s, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        uint256 rowPtr;
        uint256 cols;
        (rowPtr, p) = p.readArray(y.length + 1);
        (cols, p) = p.readArray();
        _checkRows(p, rowPtr, y.length, cols.length());
        for (uint256 i; i < y.length; ++i) {
            uint256 k0 = uint256(rowPtr.item(i));
            uint256 k1 = uint256(rowPtr.item(i + 1));
            // INVARIANT: a max row has at least one term (its first is the initial maximum).
            if (k1 == k0) revert ProgramReader.ProgramMalformed(p);
            int256 m = _operand(s, x, cols.item(k0));
            for (uint256 k = k0 + 1; k < k1; ++k) {
                int256 v = _operand(s, x, cols.item(k));
                if (v > m) m = v;
            }
            y[i] = m;
        }
        return p;
    }

    /// y[i] = table[x[i] - offset]; an argument outside the table reverts (IntegerOps.lookupIndex).
    function _lookup(uint256 p, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        int256 offset;
        uint256 table;
        (offset, p) = p.readWord();
        (table, p) = p.readArray();
        if (x.length != y.length) revert ProgramReader.ProgramMalformed(p);
        uint256 n = table.length();
        for (uint256 i; i < y.length; ++i) {
            y[i] = table.item(IntegerOps.lookupIndex(x[i], offset, n));
        }
        return p;
    }

    /// y[i] = x[left[i]] · x[right[i]] (checked: IntegerOps.mul).
    function _mul(uint256 p, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        uint256 left;
        uint256 right;
        (left, p) = p.readArray(y.length);
        (right, p) = p.readArray(y.length);
        // Solidity's bounds check refuses a column outside x (a negative one converts to a huge index).
        for (uint256 i; i < y.length; ++i) {
            y[i] = IntegerOps.mul(x[uint256(left.item(i))], x[uint256(right.item(i))]);
        }
        return p;
    }

    /// y[i] = round(a · 2^shift / x[den[i]]) half up, a = x[num[i]] or 1 where num[i] = -1 (IntegerOps.div).
    function _div(uint256 p, uint256 s, int256[] memory x, int256[] memory y) private pure returns (uint256) {
        uint256 shift;
        uint256 num;
        uint256 den;
        (shift, p) = p.readUint(1);
        (num, p) = p.readArray(y.length);
        (den, p) = p.readArray(y.length);
        for (uint256 i; i < y.length; ++i) {
            int256 n = num.item(i);
            int256 a = n == -1 ? int256(1) : _operand(s, x, n);
            y[i] = IntegerOps.div(a, _operand(s, x, den.item(i)), shift);
        }
        return p;
    }

    /// y = floor(√x) elementwise (IntegerOps.isqrt).
    function _isqrt(uint256 p, int256[] memory x, int256[] memory y) private pure {
        if (x.length != y.length) revert ProgramReader.ProgramMalformed(p);
        for (uint256 i; i < y.length; ++i) {
            y[i] = IntegerOps.isqrt(x[i]);
        }
    }

    /// x[col], reverting with the step when col is outside the operands.
    function _operand(uint256 s, int256[] memory x, int256 col) private pure returns (int256) {
        if (col < 0 || uint256(col) >= x.length) revert OperandOutOfRange(s, col);
        return x[uint256(col)];
    }
}
