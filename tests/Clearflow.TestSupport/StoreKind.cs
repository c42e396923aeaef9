namespace Clearflow.TestSupport;

/// <summary>The two adapters every storage-touching test runs against.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}

public static class TempDirectory
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }
}
