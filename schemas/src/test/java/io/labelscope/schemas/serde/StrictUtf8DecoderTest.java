package io.labelscope.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The UTF-8 check agrees with the JDK's strict decoder, byte for byte, including at chunk and string ends. */
class StrictUtf8DecoderTest {

    @Test
    void agreesWithTheJdksStrictDecoderOnRandomBytes() {
        CharsetDecoder jdk = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        Random random = new Random(13);
        byte[] alphabet = {'a', ' ', 0x7f, (byte) 0x80, (byte) 0x8f, (byte) 0x90, (byte) 0x9f, (byte) 0xa0,
            (byte) 0xbf, (byte) 0xc0, (byte) 0xc2, (byte) 0xdf, (byte) 0xe0, (byte) 0xed, (byte) 0xef, (byte) 0xf0,
            (byte) 0xf4, (byte) 0xf5, (byte) 0xff};
        int invalid = 0;
        for (int n = 0; n < 200_000; n++) {
            byte[] bytes = new byte[random.nextInt(20)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = random.nextInt(3) == 0 ? alphabet[random.nextInt(alphabet.length)] : (byte) 'x';
            }
            boolean jdkValid;
            try {
                jdk.reset().decode(ByteBuffer.wrap(bytes));
                jdkValid = true;
            } catch (CharacterCodingException e) {
                jdkValid = false;
            }
            int first = StrictUtf8Decoder.firstInvalidUtf8(bytes, 0, bytes.length);
            assertThat(first == -1).as("%s", java.util.HexFormat.of().formatHex(bytes)).isEqualTo(jdkValid);
            invalid += jdkValid ? 0 : 1;
        }
        assertThat(invalid).as("the sample has both kinds").isBetween(10_000, 190_000);
    }

    @Test
    void reportsTheFirstBadByteAndHonoursOffsetAndLength() {
        byte[] bytes = "0123456789é🎉\u00ff".getBytes(StandardCharsets.UTF_8);
        assertThat(StrictUtf8Decoder.firstInvalidUtf8(bytes, 0, bytes.length)).isEqualTo(-1);
        // Cut inside the 4-byte emoji: the sequence is truncated at the end of the string.
        assertThat(StrictUtf8Decoder.firstInvalidUtf8(bytes, 0, 14)).isEqualTo(12);
        byte[] shifted = new byte[bytes.length + 2];
        System.arraycopy(bytes, 0, shifted, 1, bytes.length);
        shifted[10] = (byte) 0xff; // where '9' was: index 9 of the range that starts at 1
        assertThat(StrictUtf8Decoder.firstInvalidUtf8(shifted, 1, bytes.length)).isEqualTo(9);
        // From the emoji on (bytes[12] is shifted[13]) it is well-formed; from é's second byte it is not.
        assertThat(StrictUtf8Decoder.firstInvalidUtf8(shifted, 13, bytes.length - 12)).isEqualTo(-1);
        assertThat(StrictUtf8Decoder.firstInvalidUtf8(shifted, 12, bytes.length - 11)).isEqualTo(0);
    }
}
