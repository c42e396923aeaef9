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
            return new PostgresStore(PostgresDataSource(FromUri(new Uri(value))));
        }
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase) || value.Contains("Server=", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresStore(PostgresDataSource(value));
        }
        if (value.Contains('=', StringComparison.Ordinal))
        {
            return new SqliteStore(value);
        }
        return new SqliteStore($"Data Source={value}");
    }

    /// <summary>
    /// Pool settings for Clearflow's short, many connections (ADR 12), unless the connection string says otherwise:
    /// no <c>DISCARD ALL</c> when a connection goes back to the pool (Clearflow keeps no session state on pooled
    /// connections; the two that do, LISTEN and the advisory lock, undo it themselves), and automatic preparation
    /// of the statements used most, so PostgreSQL parses and plans each once per connection.
    /// </summary>
    public static NpgsqlDataSource PostgresDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Mentions(connectionString, "No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }
        if (!Mentions(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 100;
        }
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    private static bool Mentions(string connectionString, params string[] keywords) =>
        keywords.Any(k => connectionString.Contains(k, StringComparison.OrdinalIgnoreCase));

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
