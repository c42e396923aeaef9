using Clearflow.Application.Abstractions;
using Clearflow.Storage.Postgres;
using Clearflow.Storage.Sqlite;
using Npgsql;

namespace Clearflow.Storage;

/// <summary>Picks the adapter from one connection string.</summary>
public static class StorageConfiguration
{
    /// <summary>
    /// <c>postgres://user:pass@host:port/db</c>, <c>postgresql://...</c> or an Npgsql keyword string
    /// (<c>Host=...</c>) selects PostgreSQL; <c>Data Source=file.db</c> or a bare <c>.db</c> path selects SQLite.
    /// </summary>
    public static IClearflowStore Create(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var value = connectionString.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresStore(NpgsqlDataSource.Create(FromUri(new Uri(value))));
        }
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase) || value.Contains("Server=", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresStore(NpgsqlDataSource.Create(value));
        }
        if (value.Contains('=', StringComparison.Ordinal))
        {
            return new SqliteStore(value);
        }
        return new SqliteStore($"Data Source={value}");
    }

    private static string FromUri(Uri uri)
    {
        var userInfo = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            Username = userInfo.Length > 0 ? Uri.UnescapeDataString(userInfo[0]) : null,
            Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null,
        };
        return builder.ConnectionString;
    }
}
