using System.Security.Cryptography;
using Clearflow.Application.Abstractions;
using Clearflow.Application.Common;
using Clearflow.Application.Gateways;
using Clearflow.TestSupport;
using Xunit;

namespace Clearflow.Server.Tests;

/// <summary>AES-256-GCM sealing with key ids: tamper evidence, context binding, and key rotation against the real store.</summary>
public abstract class SecretBoxTests(ServerEnvironment environment, StoreKind kind)
{
    private static readonly byte[] KeyOne = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] KeyTwo = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void A_sealed_value_opens_only_unchanged_in_its_own_context_with_its_key()
    {
        var box = new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k1"] = KeyOne }, "k1");
        var sealedValue = box.Seal("sk_live_secret", "ctx-a");
        Assert.StartsWith("v1.k1.", sealedValue);
        Assert.DoesNotContain("sk_live_secret", sealedValue);
        Assert.NotEqual(sealedValue, box.Seal("sk_live_secret", "ctx-a")); // a fresh nonce each time
        Assert.Equal("sk_live_secret", box.Open(sealedValue, "ctx-a"));
        Assert.ThrowsAny<CryptographicException>(() => box.Open(sealedValue, "ctx-b"));
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(sealedValue.AsSpan("v1.k1.".Length));
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => box.Open("v1.k1." + System.Buffers.Text.Base64Url.EncodeToString(bytes), "ctx-a"));
        Assert.ThrowsAny<CryptographicException>(() => box.Open(sealedValue.Replace("v1.k1.", "v1.k9.", StringComparison.Ordinal), "ctx-a"));
        Assert.Throws<ArgumentException>(() => new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k1"] = new byte[16] }, "k1"));
        Assert.Throws<ArgumentException>(() => new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k1"] = KeyOne }, "k2"));
    }

    [Fact]
    public async Task Rotation_reseals_stored_credentials_with_the_new_key_and_they_still_open()
    {
        // A database of its own: the rotation walks every stored credential.
        var store = Storage.StorageConfiguration.Create(await environment.NewDatabaseAsync(kind));
        await store.MigrateAsync(default);
        var merchant = new MerchantRecord("mer_" + Guid.NewGuid().ToString("N"), "Rotate " + Guid.NewGuid().ToString("N"), "{}", DateTimeOffset.UtcNow);
        Assert.True(await store.CreateMerchantAsync(merchant, default));
        var old = new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k1"] = KeyOne }, "k1");
        var fields = new Dictionary<string, string> { ["secret_key"] = "sk_test_rotate_me" };
        var now = DateTimeOffset.UtcNow;
        await store.PutGatewayCredentialsAsync(new GatewayCredentialRecord(merchant.Id, "stripe", CredentialSealing.Seal(old, merchant.Id, "stripe", fields),
            "k1", "hint", now, now), default);

        var rotated = new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k1"] = KeyOne, ["k2"] = KeyTwo }, "k2");
        var outcome = await new ResealGatewayCredentials(store, rotated).HandleAsync(default);
        Assert.Equal(new ResealGatewayCredentials.Outcome(1, 0, 0), outcome);
        var stored = (await store.GetGatewayCredentialsAsync(merchant.Id, "stripe", default))!;
        Assert.Equal(("k2", "k2"), (stored.KeyId, rotated.KeyIdOf(stored.Sealed)));
        // Only the new key is needed now.
        var newOnly = new AesGcmSecretBox(new Dictionary<string, byte[]> { ["k2"] = KeyTwo }, "k2");
        Assert.Equal("sk_test_rotate_me", CredentialSealing.Open(newOnly, stored)["secret_key"]);
        Assert.Equal(new ResealGatewayCredentials.Outcome(0, 1, 0), await new ResealGatewayCredentials(store, rotated).HandleAsync(default));
    }
}

[Collection(ServerCollection.Name)]
public sealed class SecretBoxOnSqlite(ServerEnvironment environment) : SecretBoxTests(environment, StoreKind.Sqlite);

[Collection(ServerCollection.Name)]
public sealed class SecretBoxOnPostgres(ServerEnvironment environment) : SecretBoxTests(environment, StoreKind.Postgres);
