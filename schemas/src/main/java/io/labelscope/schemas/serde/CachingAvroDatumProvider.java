package io.labelscope.schemas.serde;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;

import io.apicurio.registry.serde.avro.DefaultAvroDatumProvider;

/**
 * Apicurio's datum provider, with one reader and one writer per schema instead of one per record.
 *
 * <p>Why: Apicurio's deserializer asks its datum provider for a new {@code SpecificDatumReader} on every record,
 * and Avro resolves the writer schema against the reader schema each time a reader is built: in the aggregator
 * that resolution was about a tenth of the stream thread's time (profile in docs/benchmarks.md, issue #6), and
 * every other consumer of our topics paid it too. Readers and writers hold no per-record state once built
 * (Avro keeps its decoding scratch space per thread), so one per schema is shared by all threads, as
 * Confluent's own deserializer does with its reader cache.
 *
 * <p>Schemas are looked up by equality; Apicurio's resolver hands out the same {@link Schema} instance per schema
 * id, so the lookup is an identity hit and the cache holds one entry per schema version seen.
 */
public class CachingAvroDatumProvider<T> extends DefaultAvroDatumProvider<T> {

    private final Map<Schema, DatumReader<T>> readers = new ConcurrentHashMap<>();
    private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();

    @Override
    public DatumReader<T> createDatumReader(Schema writerSchema) {
        return readers.computeIfAbsent(writerSchema, super::createDatumReader);
    }

    @Override
    public DatumWriter<T> createDatumWriter(T data, Schema schema) {
        return writers.computeIfAbsent(schema, s -> super.createDatumWriter(data, s));
    }
}
