namespace Diabetes.Ingest;

/// <summary>Configuration section <c>Ingest</c>.</summary>
public sealed class IngestOptions
{
    /// <summary>Train rows loaded by one call of <c>POST /api/batches/next</c>.</summary>
    public int BatchSize { get; set; } = 15_000;

    /// <summary>
    /// Where the service keeps its local files: a downloaded source while it is split or read again, and the train rows
    /// the batches are cut from (about 0.8 times the source's CSV). Empty: <c>diabetes-ingest</c> in the temporary directory.
    /// </summary>
    public string? WorkDirectory { get; set; }
}

/// <summary>Configuration section <c>Dataset</c>.</summary>
public sealed class DatasetOptions
{
    public const string PublicSource =
        "https://archive.ics.uci.edu/static/public/296/diabetes+130-us+hospitals+for+years+1999-2008.zip";

    /// <summary>An http(s) URL, or the path of a <c>.zip</c> or <c>.csv</c> file.</summary>
    public string Source { get; set; } = PublicSource;
}
