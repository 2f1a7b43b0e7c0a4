package io.labelscope.worker;

import org.apache.avro.Schema;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

import io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig;
import io.apicurio.registry.serde.avro.DefaultAvroDatumProvider;

/**
 * Apicurio's default datum provider looks SpecificRecord classes up in Avro's JVM-wide {@code SpecificData.get()},
 * whose cache keeps the class of whichever class loader asked first. Under Quarkus tests and dev mode that can be
 * the system class loader, and every record then fails with a ClassCastException. This provider resolves classes
 * through its own class loader (the application's) with a private SpecificData; in a plain JVM it behaves exactly
 * like the default. Configure with {@code apicurio.registry.avro-datum-provider}.
 */
public class LoaderSafeDatumProvider<T> extends DefaultAvroDatumProvider<T> {
    private final SpecificData data = new SpecificData(LoaderSafeDatumProvider.class.getClassLoader());
    private boolean specific;

    @Override
    public void configure(AvroKafkaSerdeConfig config) {
        super.configure(config);
        specific = config.useSpecificAvroReader();
    }

    @Override
    public DatumReader<T> createDatumReader(Schema schema) {
        if (specific && schema.getType() == Schema.Type.RECORD) {
            Class<?> c = data.getClass(schema);
            if (c != null && SpecificRecord.class.isAssignableFrom(c)) {
                return new SpecificDatumReader<>(schema, data.getSchema(c), data);
            }
        }
        return super.createDatumReader(schema);
    }

    @Override
    public DatumWriter<T> createDatumWriter(T data, Schema schema) {
        if (data instanceof SpecificRecord) {
            return new SpecificDatumWriter<>(schema, this.data);
        }
        return super.createDatumWriter(data, schema);
    }
}
