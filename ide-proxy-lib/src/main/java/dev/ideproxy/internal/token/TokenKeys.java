package dev.ideproxy.internal.token;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTCreationException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The keys of ide-proxy's own tokens, by key id ({@code kid}): one active key that signs, and any
 * number of retiring keys that only verify, so tokens signed before a rotation keep working until
 * their key is removed. A token is verified only with the key its {@code kid} names, and only with
 * that key's algorithm: a token naming no key or an unknown key is refused, and so is one whose
 * header claims another algorithm ({@code none} included).
 *
 * <p>Algorithms: HS256 (a shared secret of at least {@value IdeProxyConfig#MIN_SECRET_BYTES} bytes),
 * RS256 (RSA, at least 2048 bits) and ES256 (EC on P-256).
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows key ids and algorithms, never key material.
 */
public final class TokenKeys {
    /** Key id of the active key when {@code ide-proxy.token.key-id} is not set. */
    public static final String DEFAULT_KEY_ID = "k1";

    private final Key active;
    private final Map<String, Key> byId;

    /**
     * One key: its id, and the algorithm object that holds the key material.
     *
     * @param id        the {@code kid}
     * @param algorithm HS256, RS256 or ES256 with its key
     * @param canSign   whether it holds a private key or secret (verification-only keys do not sign)
     */
    public record Key(String id, Algorithm algorithm, boolean canSign) {
        public Key {
            if (id == null || !IdeProxyConfig.KEY_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("a key id is 1 to 64 letters, digits, '.', '_' or '-'");
            }
            Objects.requireNonNull(algorithm, "algorithm");
        }

        @Override
        public String toString() {
            return id + ":" + algorithm.getName();
        }
    }

    private TokenKeys(Key active, List<Key> retiring) {
        if (!active.canSign()) {
            throw new IllegalArgumentException("the active key " + active.id() + " cannot sign: it needs a private key");
        }
        Map<String, Key> keys = new LinkedHashMap<>();
        keys.put(active.id(), active);
        for (Key key : retiring) {
            if (keys.put(key.id(), key) != null) {
                throw new IllegalArgumentException("key id '" + key.id() + "' is used twice");
            }
        }
        this.active = active;
        this.byId = Collections.unmodifiableMap(keys);
    }

    /** An active key and the retiring keys that still verify. */
    public static TokenKeys of(Key active, List<Key> retiring) {
        return new TokenKeys(Objects.requireNonNull(active, "active"), List.copyOf(retiring));
    }

    /** An HS256 key; the secret must have at least {@value IdeProxyConfig#MIN_SECRET_BYTES} bytes. */
    public static Key hs256(String id, byte[] secret) {
        if (secret == null || secret.length < IdeProxyConfig.MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("an HS256 secret needs at least " + IdeProxyConfig.MIN_SECRET_BYTES
                    + " bytes" + (secret == null ? "" : ", this one has " + secret.length));
        }
        return new Key(id, Algorithm.HMAC256(secret), true);
    }

    /**
     * An RS256 (RSA) or ES256 (EC P-256) key, chosen by the key type.
     *
     * @param privateKey null for a key that only verifies
     */
    public static Key asymmetric(String id, PublicKey publicKey, PrivateKey privateKey) {
        Objects.requireNonNull(publicKey, "publicKey");
        Algorithm algorithm;
        if (publicKey instanceof RSAPublicKey rsa && (privateKey == null || privateKey instanceof RSAPrivateKey)) {
            algorithm = Algorithm.RSA256(rsa, (RSAPrivateKey) privateKey);
        } else if (publicKey instanceof ECPublicKey ec && (privateKey == null || privateKey instanceof ECPrivateKey)) {
            algorithm = Algorithm.ECDSA256(ec, (ECPrivateKey) privateKey);
        } else {
            throw new IllegalArgumentException("the public and private key of " + id + " are not of the same type");
        }
        Key key = new Key(id, algorithm, privateKey != null);
        if (privateKey != null && !pairMatches(algorithm)) {
            throw new IllegalArgumentException("the private key of " + id + " does not match its public key");
        }
        return key;
    }

    /**
     * Reads the keys from the configuration: the active key from {@code token.secret} or from
     * {@code token.private-key} with {@code token.public-key}, named {@code token.key-id}; retiring keys
     * from {@code token.verification-keys}.
     *
     * @throws ConfigException naming the option, never echoing key material
     */
    public static TokenKeys from(IdeProxyConfig config) {
        String kid = config.tokenKeyId();
        Key active;
        try {
            active = config.tokenPrivateKey() == null ? hs256(kid, config.tokenSecret())
                    : asymmetric(kid, config.tokenPublicKey(), config.tokenPrivateKey());
        } catch (IllegalArgumentException e) {
            throw new ConfigException((config.tokenPrivateKey() == null ? ConfigOption.TOKEN_SECRET
                    : ConfigOption.TOKEN_PRIVATE_KEY).key() + ": " + e.getMessage());
        }
        List<Key> retiring = new ArrayList<>();
        for (IdeProxyConfig.VerificationKey key : config.tokenVerificationKeys()) {
            try {
                retiring.add(key.secret() != null ? hs256(key.id(), key.secret()) : asymmetric(key.id(), key.publicKey(), null));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(ConfigOption.TOKEN_VERIFICATION_KEYS.key() + ": key " + key.id() + ": "
                        + e.getMessage());
            }
        }
        try {
            return of(active, retiring);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOption.TOKEN_VERIFICATION_KEYS.key() + ": " + e.getMessage());
        }
    }

    /** The key that signs new tokens. */
    public Key active() {
        return active;
    }

    /** The key named {@code kid}, active or retiring. */
    public Optional<Key> find(String kid) {
        return kid == null ? Optional.empty() : Optional.ofNullable(byId.get(kid));
    }

    /** Every key id, the active one first. */
    public List<String> keyIds() {
        return List.copyOf(byId.keySet());
    }

    @Override
    public String toString() {
        return "TokenKeys" + byId.values() + " (signing with " + active.id() + ")";
    }

    private static boolean pairMatches(Algorithm algorithm) {
        try {
            JWT.require(algorithm).build().verify(JWT.create().withSubject("probe").sign(algorithm));
            return true;
        } catch (JWTVerificationException | JWTCreationException | IllegalArgumentException e) {
            return false;
        }
    }
}
