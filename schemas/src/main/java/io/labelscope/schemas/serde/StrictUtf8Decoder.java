package io.labelscope.schemas.serde;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * A decoder that reads strings strictly: a string whose bytes are not well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) fails with {@link RejectedValueException} of type
 * {@link Decoded#INVALID_UTF8}. Avro's own decoder turns such bytes into U+FFFD without a word, so a document
 * would be classified with text its producer never wrote. Everything else is passed to the wrapped decoder.
 *
 * <p>Wrapping the decoder (rather than overriding the datum reader's string handling) covers every path a string
 * takes: record fields, map keys, array items, generated classes' custom coders and Avro's fast reader all call
 * {@code readString} on the decoder they are given.
 */
final class StrictUtf8Decoder extends Decoder {

    /** Eight bytes at a time for the ASCII scan (byte order does not matter for a test of the high bits). */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private final Decoder in;
    /** Reused between strings of one value: {@link #readString()} copies out of it. */
    private Utf8 scratch;

    StrictUtf8Decoder(Decoder in) {
        this.in = in;
    }

    @Override
    public String readString() throws IOException {
        scratch = in.readString(scratch);
        requireUtf8(scratch.getBytes(), scratch.getByteLength());
        return new String(scratch.getBytes(), 0, scratch.getByteLength(), StandardCharsets.UTF_8);
    }

    @Override
    public Utf8 readString(Utf8 old) throws IOException {
        Utf8 s = in.readString(old);
        requireUtf8(s.getBytes(), s.getByteLength());
        return s;
    }

    private static void requireUtf8(byte[] bytes, int length) {
        int bad = firstInvalidUtf8(bytes, 0, length);
        if (bad >= 0) {
            String before = new String(bytes, 0, Math.min(bad, 40), StandardCharsets.UTF_8);
            throw new RejectedValueException(Decoded.INVALID_UTF8, String.format(
                    "a string field is not valid UTF-8: byte 0x%02x at byte %d of a %d-byte string%s", bytes[bad] & 0xff,
                    bad, length, bad == 0 ? "" : " (it starts '" + before + (bad > 40 ? "…" : "") + "')"));
        }
    }

    /**
     * The index of the first byte of {@code bytes[offset, offset + length)} that starts an ill-formed UTF-8 sequence
     * (relative to {@code offset}), or -1 if all of it is well-formed. Follows the table of well-formed byte
     * sequences in the Unicode standard (§3.9, table 3-7).
     */
    static int firstInvalidUtf8(byte[] bytes, int offset, int length) {
        int end = offset + length;
        int i = offset;
        while (i < end) {
            // Most text is ASCII: skip it eight bytes at a time.
            while (i + 8 <= end && ((long) LONGS.get(bytes, i) & HIGH_BITS) == 0) {
                i += 8;
            }
            if (i >= end) {
                break;
            }
            int lead = bytes[i];
            if (lead >= 0) { // ASCII: the common case, one comparison per byte
                i++;
                continue;
            }
            lead &= 0xff;
            int continuation;
            int secondMin = 0x80;
            int secondMax = 0xbf;
            if (lead >= 0xc2 && lead <= 0xdf) {
                continuation = 1;
            } else if (lead >= 0xe0 && lead <= 0xef) {
                continuation = 2;
                if (lead == 0xe0) {
                    secondMin = 0xa0; // overlong otherwise
                } else if (lead == 0xed) {
                    secondMax = 0x9f; // UTF-16 surrogates otherwise
                }
            } else if (lead >= 0xf0 && lead <= 0xf4) {
                continuation = 3;
                if (lead == 0xf0) {
                    secondMin = 0x90; // overlong otherwise
                } else if (lead == 0xf4) {
                    secondMax = 0x8f; // above U+10FFFF otherwise
                }
            } else {
                return i - offset; // a continuation byte without a lead, 0xc0/0xc1 (overlong) or 0xf5..0xff
            }
            if (i + continuation >= end) {
                return i - offset; // truncated sequence
            }
            int second = bytes[i + 1] & 0xff;
            if (second < secondMin || second > secondMax) {
                return i - offset;
            }
            for (int k = 2; k <= continuation; k++) {
                if ((bytes[i + k] & 0xc0) != 0x80) {
                    return i - offset;
                }
            }
            i += continuation + 1;
        }
        return -1;
    }

    // ---- everything else as the wrapped decoder reads it -------------------------------------------------------

    @Override
    public void readNull() throws IOException {
        in.readNull();
    }

    @Override
    public boolean readBoolean() throws IOException {
        return in.readBoolean();
    }

    @Override
    public int readInt() throws IOException {
        return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
        return in.readLong();
    }

    @Override
    public float readFloat() throws IOException {
        return in.readFloat();
    }

    @Override
    public double readDouble() throws IOException {
        return in.readDouble();
    }

    @Override
    public void skipString() throws IOException {
        in.skipString();
    }

    @Override
    public ByteBuffer readBytes(ByteBuffer old) throws IOException {
        return in.readBytes(old);
    }

    @Override
    public void skipBytes() throws IOException {
        in.skipBytes();
    }

    @Override
    public void readFixed(byte[] bytes, int start, int length) throws IOException {
        in.readFixed(bytes, start, length);
    }

    @Override
    public void skipFixed(int length) throws IOException {
        in.skipFixed(length);
    }

    @Override
    public int readEnum() throws IOException {
        return in.readEnum();
    }

    @Override
    public long readArrayStart() throws IOException {
        return in.readArrayStart();
    }

    @Override
    public long arrayNext() throws IOException {
        return in.arrayNext();
    }

    @Override
    public long skipArray() throws IOException {
        return in.skipArray();
    }

    @Override
    public long readMapStart() throws IOException {
        return in.readMapStart();
    }

    @Override
    public long mapNext() throws IOException {
        return in.mapNext();
    }

    @Override
    public long skipMap() throws IOException {
        return in.skipMap();
    }

    @Override
    public int readIndex() throws IOException {
        return in.readIndex();
    }
}
