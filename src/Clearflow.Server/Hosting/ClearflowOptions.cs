namespace Clearflow.Server.Hosting;

/// <summary>Settings of the host (section <c>Clearflow</c>; environment variables <c>Clearflow__*</c>).</summary>
public sealed class ClearflowOptions
{
    /// <summary>
    /// Connection string of the store. Also read from <c>CLEARFLOW_DATABASE</c>. Empty: SQLite at
    /// <c>{DataDirectory}/clearflow.db</c>. <c>postgres://...</c> or <c>Host=...</c>: PostgreSQL.
    /// </summary>
    public string? Database { get; set; }

    /// <summary>Folder for the SQLite file and the demo key. Default <c>data</c> (relative to the working directory).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The address customers and gateways reach this server at; default: the first address it listens on.</summary>
    public Uri? PublicBaseUrl { get; set; }

    public DemoMerchantOptions DemoMerchant { get; set; } = new();

    public string DatabaseOrDefault => string.IsNullOrWhiteSpace(Database)
        ? $"Data Source={Path.Combine(DataDirectory, "clearflow.db")}"
        : Database;

    public string DemoKeyFile => Path.Combine(DataDirectory, "demo-secret-key");
}

public sealed class DemoMerchantOptions
{
    /// <summary>Create the demo merchant and its key at start (the demo shop at / needs it).</summary>
    public bool Enabled { get; set; } = true;
}
