using System.Security.Cryptography;
using System.Text.Json;
using Clearflow.Application.Common;

namespace Clearflow.Server.Hosting;

/// <summary>
/// The keys that seal secrets at rest (gateway credentials). Production: <c>Clearflow:Secrets:Keys:{id}</c>
/// (base64 of 32 random bytes, e.g. <c>openssl rand -base64 32</c>) and <c>Clearflow:Secrets:ActiveKeyId</c>,
/// from the environment or a secret store. Without configured keys, one is generated once into
/// <c>{DataDirectory}/secret-keys.json</c> (owner-only permissions) so a single node runs with no setup.
/// </summary>
public static class SecretKeyRing
{
    public sealed class SecretOptions
    {
        public string? ActiveKeyId { get; set; }
        public Dictionary<string, string> Keys { get; set; } = [];
    }

    private sealed record KeyFile(string Active, Dictionary<string, string> Keys);

    public static AesGcmSecretBox Create(SecretOptions configured, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configured);
        if (configured.Keys.Count > 0)
        {
            var active = configured.ActiveKeyId ?? (configured.Keys.Count == 1 ? configured.Keys.Keys.Single()
                : throw new InvalidOperationException("Several Clearflow:Secrets:Keys are configured: set Clearflow:Secrets:ActiveKeyId to the one that seals new values."));
            return new AesGcmSecretBox(Decode(configured.Keys), active);
        }
        var path = Path.Combine(dataDirectory, "secret-keys.json");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dataDirectory);
            var id = "k" + DateTime.UtcNow.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
            var file = new KeyFile(id, new Dictionary<string, string> { [id] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                using var stream = new FileStream(path, options);
                JsonSerializer.Serialize(stream, file);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }
        var stored = JsonSerializer.Deserialize<KeyFile>(File.ReadAllText(path))
            ?? throw new InvalidOperationException($"{path} is empty or not a Clearflow key file.");
        return new AesGcmSecretBox(Decode(stored.Keys), stored.Active);
    }

    private static Dictionary<string, byte[]> Decode(Dictionary<string, string> keys) => keys.ToDictionary(k => k.Key, k =>
    {
        try
        {
            return Convert.FromBase64String(k.Value);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"Secret key '{k.Key}' is not base64 (expected 32 random bytes, e.g. from 'openssl rand -base64 32').");
        }
    });
}
