package io.labelscope.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.Set;

/**
 * The Hugging Face safetensors format: a reader for one {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json} (nothing is read up front but the headers; {@link TensorLoader} reads the
 * data), and {@link #write} for the files this project makes itself (demo model, benchmark and test checkpoints).
 */
public final class SafeTensors {

    /** Element types found in checkpoints. */
    public enum DType {
        F32(4), F16(2), BF16(2);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor's location. */
    public record Entry(String name, Path file, DType dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A tensor's values in row-major order: called with i = 0, 1, 2, ... once each, in order. */
    @FunctionalInterface
    public interface Values {
        float at(long i);
    }

    private final Map<String, Entry> entries;

    /**
     * Writes one safetensors file: the header (tensors in the map's order, {@code __metadata__} format pt, padded
     * with spaces to 8 bytes as the format recommends), then each tensor's values rounded to {@code dtype}
     * (round to nearest even), streamed through a 1 MiB buffer. The file appears under its name only once complete.
     */
    public static void write(Path file, Map<String, long[]> shapes, DType dtype,
                             java.util.function.Function<String, Values> values) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long len = elements(e.getValue()) * dtype.bytes;
            header.put(e.getKey(), Map.of("dtype", dtype.name(), "shape", e.getValue(),
                    "data_offsets", java.util.List.of(off, off + len)));
            off += len;
        }
        byte[] h = new ObjectMapper().writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(padded).put(h);
            for (int i = h.length; i < padded; i++) {
                buf.put((byte) ' ');
            }
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                Values v = values.apply(e.getKey());
                long n = elements(e.getValue());
                for (long i = 0; i < n; i++) {
                    if (buf.remaining() < 4) {
                        drain(ch, buf);
                    }
                    float x = v.at(i);
                    switch (dtype) {
                        case F32 -> buf.putFloat(x);
                        case F16 -> buf.putShort(HalfFloats.fromFloat(x));
                        case BF16 -> buf.putShort((short) HalfFloats.bf16(x));
                    }
                }
            }
            drain(ch, buf);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private SafeTensors(Map<String, Entry> entries) {
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Opens a model directory: {@code model.safetensors.index.json} if present, else {@code model.safetensors}. */
    public static SafeTensors open(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        Map<String, Entry> all = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode map;
            try {
                map = new ObjectMapper().readTree(index.toFile()).get("weight_map");
            } catch (IOException e) {
                throw new ModelLoadException("cannot parse " + index + ": " + e.getMessage(), e);
            }
            if (map == null || !map.isObject()) {
                throw new ModelLoadException(index + ": missing key 'weight_map'");
            }
            Set<String> shards = new TreeSet<>();
            map.fields().forEachRemaining(f -> shards.add(f.getValue().asText()));
            for (String shard : shards) {
                Map<String, Entry> part = readHeader(dir.resolve(shard));
                all.putAll(part);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                Entry e = all.get(f.getKey());
                if (e == null || !e.file().getFileName().toString().equals(f.getValue().asText())) {
                    throw new ModelLoadException(index + ": tensor '" + f.getKey() + "' is listed in shard "
                            + f.getValue().asText() + " but not found there");
                }
            }
        } else {
            Path single = dir.resolve("model.safetensors");
            if (!Files.isRegularFile(single)) {
                throw new ModelLoadException("missing file: " + single + " (and no model.safetensors.index.json)");
            }
            all.putAll(readHeader(single));
        }
        return new SafeTensors(all);
    }

    static Map<String, Entry> readHeader(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException("missing file: " + file);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelLoadException(file + ": not a safetensors file (" + size + " bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new ModelLoadException(file + ": bad safetensors header length " + headerLen);
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode header = new ObjectMapper().readTree(hb.array());
            long dataStart = 8 + headerLen;
            Map<String, Entry> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    continue;
                }
                String name = f.getKey();
                JsonNode t = f.getValue();
                String dt = t.path("dtype").asText();
                DType dtype;
                try {
                    dtype = DType.valueOf(dt);
                } catch (IllegalArgumentException e) {
                    throw new ModelLoadException(file + ": tensor '" + name + "' has unsupported dtype " + dt
                            + " (supported: F32, F16, BF16)");
                }
                JsonNode sh = t.get("shape");
                long[] shape = new long[sh.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = sh.get(i).asLong();
                }
                long begin = t.get("data_offsets").get(0).asLong() + dataStart;
                long end = t.get("data_offsets").get(1).asLong() + dataStart;
                Entry e = new Entry(name, file, dtype, shape, begin, end);
                if (end > size || end - begin != e.elements() * dtype.bytes) {
                    throw new ModelLoadException(file + ": tensor '" + name + "' has data_offsets inconsistent with "
                            + "its shape/dtype or the file size");
                }
                out.put(name, e);
            }
            return out;
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public boolean has(String name) {
        return entries.containsKey(name);
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new ModelLoadException("missing tensor '" + name + "' in checkpoint");
        }
        return e;
    }
}
