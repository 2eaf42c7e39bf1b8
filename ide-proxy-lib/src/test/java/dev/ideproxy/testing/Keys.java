package dev.ideproxy.testing;

import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/** Key material and hand-made JWTs for tests: PEM encoding, key pairs, forged tokens. */
public final class Keys {
    private Keys() {
    }

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code -----BEGIN PUBLIC KEY-----} or {@code -----BEGIN PRIVATE KEY-----} (PKCS#8) text. */
    public static String pem(Key key) {
        String type = key instanceof java.security.PublicKey ? "PUBLIC KEY" : "PRIVATE KEY";
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** A compact JWT with exactly the given header and payload JSON and signature text. */
    public static String forge(String headerJson, String payloadJson, String signature) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8)) + "." + signature;
    }

    /** The decoded payload JSON of a compact JWT. */
    public static String payload(String jwt) {
        return new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
    }

    /** The decoded header JSON of a compact JWT. */
    public static String header(String jwt) {
        return new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[0]), StandardCharsets.UTF_8);
    }

    /** {@code jwt} with its header replaced by {@code headerJson}, payload and signature kept. */
    public static String withHeader(String jwt, String headerJson) {
        String[] parts = jwt.split("\\.", -1);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(headerJson.getBytes(StandardCharsets.UTF_8))
                + "." + parts[1] + "." + parts[2];
    }

    /** {@code jwt} with its payload replaced by {@code payloadJson}, header and signature kept. */
    public static String withPayload(String jwt, String payloadJson) {
        String[] parts = jwt.split("\\.", -1);
        return parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    }
}
