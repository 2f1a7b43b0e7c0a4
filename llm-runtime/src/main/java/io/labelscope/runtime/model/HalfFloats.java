package io.labelscope.runtime.model;

/**
 * IEEE binary16 and bfloat16 conversions on raw bits (Java 17 has no {@code Float.floatToFloat16}). Used to convert
 * checkpoint tensors while loading and by the tests to write them.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** Nearest binary16 (round half to even; overflow to infinity, underflow through subnormals to zero). */
    public static short fromFloat(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (((bits >>> 23) & 0xff) == 0xff) {
            // Infinity stays infinity, NaN stays a (quiet) NaN.
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        if (exp >= 31) {
            return (short) (sign | 0x7c00);
        }
        if (exp <= 0) {
            if (exp < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - exp;
            int half = mant >> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) == 1)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (exp << 10) | (mant >> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) {
            half++; // may carry into the exponent, up to infinity: still the nearest value
        }
        return (short) (sign | half);
    }

    /** The exact float value of binary16 bits. */
    public static float toFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Round-to-nearest-even bfloat16 bits (low 16 bits of the result). */
    public static int bf16(float f) {
        int bits = Float.floatToIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return ((bits >>> 16) | 0x40) & 0xffff; // NaN stays NaN
        }
        int lsb = (bits >>> 16) & 1;
        return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
    }

    /** The exact float value of bfloat16 bits: the top half of an F32. */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}
