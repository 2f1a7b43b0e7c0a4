package io.labelscope.aggregator;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compact binary serde for the aggregator's own state and repartition values (issue #6): every input record
 * reads and rewrites its document's state, and every metric change updates several aggregates, so this format is
 * on the hot path. JSON cost half of the stream thread's CPU (double ↔ decimal text, reflection); this writes
 * doubles as their 8 bytes, names once, no field names.
 *
 * <p>Each value starts with {@link #FORMAT}. (The JSON state of development builds before issue #6 is no longer
 * read: such state has to be reset, see the README.)
 */
final class BinarySerde<T> implements Serde<T> {

    /**
     * First byte of every value written now. Values of every earlier binary
     * format, 1 up to this one, are still read: the layouts and what changed between them are listed in
     * {@link StateCodecs}.
     */
    static final int FORMAT = 2;

    /** How one type is written and read. */
    interface Codec<T> {
        void write(Out out, T value) throws IOException;

        T read(In in) throws IOException;
    }

    private final Class<T> type;
    private final Codec<T> codec;

    BinarySerde(Class<T> type, Codec<T> codec) {
        this.type = type;
        this.codec = codec;
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            Buffer bytes = new Buffer();
            try {
                Out out = new Out(bytes);
                out.writeByte(FORMAT);
                codec.write(out, value);
                out.flush();
            } catch (IOException e) {
                throw new SerializationException("cannot write " + type.getSimpleName(), e);
            }
            return bytes.toByteArray();
        };
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                int format = bytes.length == 0 ? -1 : bytes[0];
                if (format < 1 || format > FORMAT) {
                    throw new SerializationException("unknown format " + format + " of " + type.getSimpleName());
                }
                In in = new In(new Source(bytes), format);
                in.readByte();
                return codec.read(in);
            } catch (IOException e) {
                throw new SerializationException("cannot read " + type.getSimpleName(), e);
            }
        };
    }

    /**
     * A growable byte array without the locking of {@link java.io.ByteArrayOutputStream} (a state value is
     * written by one thread; the JDK's stream takes a monitor per {@code writeLong}).
     */
    static final class Buffer extends OutputStream {
        private byte[] bytes = new byte[512];
        private int size;

        @Override
        public void write(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }
    }

    /** Reads a byte array, without the locking of {@link java.io.ByteArrayInputStream}. */
    static final class Source extends InputStream {
        private final byte[] bytes;
        private int position;

        Source(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return position < bytes.length ? bytes[position++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= bytes.length) {
                return -1;
            }
            int n = Math.min(len, bytes.length - position);
            System.arraycopy(bytes, position, b, off, n);
            position += n;
            return n;
        }
    }

    /** DataOutputStream plus the few shapes our values use: nullable strings and doubles, lists and maps. */
    static final class Out extends DataOutputStream {
        Out(Buffer bytes) {
            super(bytes);
        }

        void string(String s) throws IOException {
            writeBoolean(s != null);
            if (s != null) {
                writeUTF(s);
            }
        }

        void nullableDouble(Double d) throws IOException {
            writeBoolean(d != null);
            if (d != null) {
                writeDouble(d);
            }
        }

        void strings(List<String> list) throws IOException {
            writeInt(list == null ? -1 : list.size());
            if (list != null) {
                for (String s : list) {
                    string(s);
                }
            }
        }

        void doubles(double[] values) throws IOException {
            writeInt(values.length);
            for (double v : values) {
                writeDouble(v);
            }
        }

        /** A map of names to doubles, in its iteration order (null allowed). */
        void doubleMap(Map<String, Double> map) throws IOException {
            writeInt(map == null ? -1 : map.size());
            if (map != null) {
                for (Map.Entry<String, Double> e : map.entrySet()) {
                    writeUTF(e.getKey());
                    nullableDouble(e.getValue());
                }
            }
        }

        void bytes(byte[] b) throws IOException {
            writeInt(b == null ? -1 : b.length);
            if (b != null) {
                write(b);
            }
        }
    }

    /** The reading side of {@link Out}. */
    static final class In extends DataInputStream {
        private final int format;

        In(Source bytes, int format) {
            super(bytes);
            this.format = format;
        }

        /** The format the value being read was written in (a codec reads the fields that format has). */
        int format() {
            return format;
        }

        String string() throws IOException {
            return readBoolean() ? readUTF() : null;
        }

        Double nullableDouble() throws IOException {
            return readBoolean() ? readDouble() : null;
        }

        List<String> strings() throws IOException {
            int n = readInt();
            if (n < 0) {
                return null;
            }
            List<String> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(string());
            }
            return list;
        }

        double[] doubles() throws IOException {
            double[] values = new double[readInt()];
            for (int i = 0; i < values.length; i++) {
                values[i] = readDouble();
            }
            return values;
        }

        Map<String, Double> doubleMap() throws IOException {
            int n = readInt();
            if (n < 0) {
                return null;
            }
            Map<String, Double> map = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                map.put(readUTF(), nullableDouble());
            }
            return map;
        }

        byte[] bytes() throws IOException {
            int n = readInt();
            if (n < 0) {
                return null;
            }
            byte[] b = new byte[n];
            readFully(b);
            return b;
        }
    }
}
