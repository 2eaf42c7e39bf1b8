package dev.ideproxy.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads RSA and EC keys written as PEM ({@code -----BEGIN PUBLIC KEY-----} or
 * {@code -----BEGIN PRIVATE KEY-----}), given inline or as {@code file:/path}. Error messages name
 * the problem, never the key material. Stateless and thread-safe.
 */
final class Pem {
    static final String FILE_PREFIX = "file:";
    static final String PUBLIC = "PUBLIC KEY";
    static final String PRIVATE = "PRIVATE KEY";
    /** RSA keys shorter than this are refused (NIST SP 800-131A). */
    static final int MIN_RSA_BITS = 2048;

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    private Pem() {
    }

    /** The text of {@code value}, or of the file it names with {@code file:}. */
    static String text(String value) {
        if (!value.startsWith(FILE_PREFIX)) {
            return value;
        }
        Path path = Path.of(value.substring(FILE_PREFIX.length()).trim());
        try {
            return Files.readString(path, StandardCharsets.US_ASCII);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot read " + path + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** True when {@code text} holds a PEM block of {@code type}. */
    static boolean isPem(String text, String type) {
        return text.contains("-----BEGIN " + type + "-----");
    }

    /** An RSA or EC public key from PEM text (RSA keys of at least {@value #MIN_RSA_BITS} bits). */
    static PublicKey publicKey(String text) {
        byte[] der = der(text, PUBLIC);
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return checked(KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der)));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("not an RSA or EC public key");
    }

    static PrivateKey privateKey(String text) {
        if (isPem(text, "RSA PRIVATE KEY") || isPem(text, "EC PRIVATE KEY")) {
            throw new IllegalArgumentException("the key is in the traditional format; convert it to PKCS#8 with"
                    + " 'openssl pkcs8 -topk8 -nocrypt -in old.pem -out key.pem'");
        }
        byte[] der = der(text, PRIVATE);
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return checked(KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der)));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("not an unencrypted PKCS#8 RSA or EC private key");
    }

    private static byte[] der(String text, String type) {
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                try {
                    return Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", ""));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the " + type + " block is not valid base64");
                }
            }
        }
        throw new IllegalArgumentException("no -----BEGIN " + type + "----- block found");
    }

    private static <K> K checked(K key) {
        if (key instanceof RSAKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
            throw new IllegalArgumentException("RSA keys need at least " + MIN_RSA_BITS + " bits, this one has "
                    + rsa.getModulus().bitLength());
        }
        if (key instanceof ECKey ec && !isP256(ec.getParams())) {
            throw new IllegalArgumentException("EC keys must be on curve P-256 (secp256r1) for ES256");
        }
        return key;
    }

    private static boolean isP256(ECParameterSpec spec) {
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
            p.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec p256 = p.getParameterSpec(ECParameterSpec.class);
            return spec.getCurve().equals(p256.getCurve()) && spec.getOrder().equals(p256.getOrder())
                    && spec.getGenerator().equals(p256.getGenerator());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
